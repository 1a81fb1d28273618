package ui

import (
	"math"
	"testing"

	"github.com/charmbracelet/lipgloss"
	colorful "github.com/lucasb-eyer/go-colorful"
)

// TestModeBadgesDiffer checks that TEST and LIVE are told apart by hue on
// both backgrounds (not two warm tones), and that the white badge text stays
// readable on each (WCAG contrast of 4.5 or more).
func TestModeBadgesDiffer(t *testing.T) {
	for _, bg := range []string{"light", "dark"} {
		pick := func(c lipgloss.AdaptiveColor) colorful.Color {
			hex := c.Light
			if bg == "dark" {
				hex = c.Dark
			}
			col, err := colorful.Hex(hex)
			if err != nil {
				t.Fatal(err)
			}
			return col
		}
		live, test, text := pick(palette.liveBg), pick(palette.testBg), pick(palette.onBadge)
		lh, _, _ := live.Hcl()
		th, _, _ := test.Hcl()
		if d := hueDistance(lh, th); d < 90 {
			t.Errorf("%s background: LIVE (hue %.0f°) and TEST (hue %.0f°) are only %.0f° apart", bg, lh, th, d)
		}
		for name, c := range map[string]colorful.Color{"LIVE": live, "TEST": test} {
			if r := contrast(text, c); r < 4.5 {
				t.Errorf("%s background: the %s badge's text has contrast %.1f, want at least 4.5", bg, name, r)
			}
		}
	}
}

func hueDistance(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 360)
	return math.Min(d, 360-d)
}

// contrast is the WCAG 2 contrast ratio of two colours.
func contrast(a, b colorful.Color) float64 {
	lum := func(c colorful.Color) float64 {
		lin := func(v float64) float64 {
			if v <= 0.04045 {
				return v / 12.92
			}
			return math.Pow((v+0.055)/1.055, 2.4)
		}
		return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
	}
	la, lb := lum(a), lum(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}
