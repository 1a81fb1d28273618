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
		pick := func(c lipgloss.CompleteAdaptiveColor) colorful.Color {
			hex := c.Light.TrueColor
			if bg == "dark" {
				hex = c.Dark.TrueColor
			}
			col, err := colorful.Hex(hex)
			if err != nil {
				t.Fatal(err)
			}
			return col
		}
		white := lipgloss.CompleteAdaptiveColor{Light: lipgloss.CompleteColor{TrueColor: palette.onBadge.Light}, Dark: lipgloss.CompleteColor{TrueColor: palette.onBadge.Dark}}
		live, test, text := pick(palette.liveBg), pick(palette.testBg), pick(white)
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

// TestModeBadgesKeepTheirColoursInFewerColours: on 256- and 16-colour
// terminals the badges use colours of their own (teal and red), not whatever
// the true colours round to (the teal rounds to a near-black).
func TestModeBadgesKeepTheirColoursInFewerColours(t *testing.T) {
	for _, c := range []lipgloss.CompleteColor{palette.testBg.Light, palette.testBg.Dark, palette.liveBg.Light, palette.liveBg.Dark} {
		if c.ANSI256 == "" || c.ANSI == "" {
			t.Errorf("%+v has no 256- or 16-colour form", c)
		}
	}
	if palette.testBg.Dark.ANSI256 == palette.liveBg.Dark.ANSI256 || palette.testBg.Dark.ANSI == palette.liveBg.Dark.ANSI {
		t.Error("TEST and LIVE share a colour in 256 or 16 colours")
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
