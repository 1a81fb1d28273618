package ui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
)

// palette is the dashboard's adaptive colour set: every colour has a light- and a
// dark-background variant so the dashboard reads well on both.
var palette = struct {
	text, muted, subtle, accent, border lipgloss.AdaptiveColor
	good, warn, bad, info               lipgloss.AdaptiveColor
	liveBg, testBg                      lipgloss.CompleteAdaptiveColor
	selectedBg, onBadge                 lipgloss.AdaptiveColor
}{
	text:   lipgloss.AdaptiveColor{Light: "#1F2328", Dark: "#E6EDF3"},
	muted:  lipgloss.AdaptiveColor{Light: "#656D76", Dark: "#8B949E"},
	subtle: lipgloss.AdaptiveColor{Light: "#D0D7DE", Dark: "#30363D"},
	accent: lipgloss.AdaptiveColor{Light: "#0969DA", Dark: "#58A6FF"},
	border: lipgloss.AdaptiveColor{Light: "#AFB8C1", Dark: "#484F58"},
	good:   lipgloss.AdaptiveColor{Light: "#1A7F37", Dark: "#3FB950"},
	warn:   lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#D29922"},
	bad:    lipgloss.AdaptiveColor{Light: "#CF222E", Dark: "#F85149"},
	info:   lipgloss.AdaptiveColor{Light: "#0969DA", Dark: "#79C0FF"},
	// LIVE is red and TEST teal-blue: opposite hues, so the mode reads at a
	// glance (and by colour-blind operators, who lose red-green, not red-blue);
	// both dark enough for white text on a light or a dark terminal. The 256-
	// and 16-colour forms are given, not derived: termenv maps #0E7490 to a
	// near-black in those profiles, where TEST would vanish on a dark terminal.
	liveBg: lipgloss.CompleteAdaptiveColor{
		Light: lipgloss.CompleteColor{TrueColor: "#CF222E", ANSI256: "160", ANSI: "1"},
		Dark:  lipgloss.CompleteColor{TrueColor: "#DA3633", ANSI256: "160", ANSI: "1"}},
	testBg: lipgloss.CompleteAdaptiveColor{
		Light: lipgloss.CompleteColor{TrueColor: "#0E7490", ANSI256: "30", ANSI: "6"},
		Dark:  lipgloss.CompleteColor{TrueColor: "#0E7490", ANSI256: "30", ANSI: "6"}},
	selectedBg: lipgloss.AdaptiveColor{Light: "#DDF4FF", Dark: "#1F2D3D"},
	onBadge:    lipgloss.AdaptiveColor{Light: "#FFFFFF", Dark: "#FFFFFF"},
}

// Styles are every style the dashboard renders with, built once; View code only
// derives sized copies (Width/Height) from them.
type Styles struct {
	Title, Muted, Bold, Value lipgloss.Style
	LiveBadge, TestBadge      lipgloss.Style
	ModeBadge                 lipgloss.Style // read-only / dry-run
	Money, New                lipgloss.Style
	Header                    lipgloss.Style

	Pane, PaneFocused lipgloss.Style
	ColumnHeader      lipgloss.Style
	Row, RowSelected  lipgloss.Style

	High, Medium, Low            lipgloss.Style
	Open, Resolved, Dismissed    lipgloss.Style
	Keep, Duplicate, Warn, Error lipgloss.Style

	FlashInfo, FlashWarn, FlashError lipgloss.Style
	Spinner                          lipgloss.Style

	Dialog, DialogLive, DialogTitle lipgloss.Style
	Button, ButtonFocused           lipgloss.Style
	TooSmall                        lipgloss.Style

	Help help.Styles
}

// DefaultStyles builds the dashboard's styles from the adaptive palette.
func DefaultStyles() Styles {
	p := palette
	s := lipgloss.NewStyle
	badge := s().Bold(true).Padding(0, 1).Foreground(p.onBadge)
	pane := s().Border(lipgloss.RoundedBorder()).BorderForeground(p.border)
	button := s().Padding(0, 2).Foreground(p.muted).Background(p.subtle)
	return Styles{
		Title:     s().Bold(true).Foreground(p.accent),
		Muted:     s().Foreground(p.muted),
		Bold:      s().Bold(true).Foreground(p.text),
		Value:     s().Foreground(p.text),
		LiveBadge: badge.Background(p.liveBg),
		TestBadge: badge.Background(p.testBg),
		ModeBadge: s().Bold(true).Padding(0, 1).Foreground(p.text).Background(p.subtle),
		Money:     s().Bold(true).Foreground(p.warn),
		New:       s().Bold(true).Foreground(p.info),
		Header:    s().Border(lipgloss.NormalBorder(), false, false, true, false).BorderForeground(p.subtle),

		Pane:         pane,
		PaneFocused:  pane.BorderForeground(p.accent),
		ColumnHeader: s().Bold(true).Foreground(p.muted),
		Row:          s().Foreground(p.text),
		RowSelected:  s().Bold(true).Foreground(p.text).Background(p.selectedBg),

		High:      s().Bold(true).Foreground(p.bad),
		Medium:    s().Foreground(p.warn),
		Low:       s().Foreground(p.muted),
		Open:      s().Foreground(p.text),
		Resolved:  s().Foreground(p.good),
		Dismissed: s().Foreground(p.muted),
		Keep:      s().Bold(true).Foreground(p.good),
		Duplicate: s().Bold(true).Foreground(p.bad),
		Warn:      s().Foreground(p.warn),
		Error:     s().Foreground(p.bad),

		FlashInfo:  s().Foreground(p.info),
		FlashWarn:  s().Foreground(p.warn),
		FlashError: s().Bold(true).Foreground(p.bad),
		Spinner:    s().Foreground(p.accent),

		Dialog:        s().Border(lipgloss.RoundedBorder()).BorderForeground(p.accent).Padding(0, 2),
		DialogLive:    s().Border(lipgloss.ThickBorder()).BorderForeground(p.bad).Padding(0, 2),
		DialogTitle:   s().Bold(true).Foreground(p.text),
		Button:        button,
		ButtonFocused: button.Bold(true).Foreground(p.onBadge).Background(p.accent),
		TooSmall:      s().Foreground(p.warn).Bold(true),

		Help: help.Styles{
			Ellipsis:       s().Foreground(p.muted),
			ShortKey:       s().Foreground(p.accent),
			ShortDesc:      s().Foreground(p.muted),
			ShortSeparator: s().Foreground(p.subtle),
			FullKey:        s().Foreground(p.accent),
			FullDesc:       s().Foreground(p.muted),
			FullSeparator:  s().Foreground(p.subtle),
		},
	}
}
