package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// lineOf is the screen line (0-based) that first shows text, -1 if none.
func lineOf(m Model, text string) int {
	for i, l := range strings.Split(ansi.Strip(m.View()), "\n") {
		if strings.Contains(l, text) {
			return i
		}
	}
	return -1
}

func click(y int) tea.MouseMsg {
	return tea.MouseMsg{X: 10, Y: y, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft}
}

func wheel(y int, b tea.MouseButton) tea.MouseMsg {
	return tea.MouseMsg{X: 10, Y: y, Action: tea.MouseActionPress, Button: b}
}

func TestMouse(t *testing.T) {
	tests := []struct {
		name         string
		keys         []string // pressed before looking for the text
		then         []string // pressed after
		at           string   // the text under the pointer (a row shows the group's identity)
		offset       int      // lines below it
		msg          func(y int) tea.MouseMsg
		wantSelected string
		wantFocus    mode
		wantScrolled bool // the detail pane scrolled
	}{
		{name: "a click selects the row", at: "card visa", msg: click, wantSelected: "grp_ch_3001", wantFocus: modeList},
		{name: "a click on the column header selects nothing", at: "IDENTITY", msg: click, wantSelected: "grp_ch_1001", wantFocus: modeList},
		{name: "a click on the border selects nothing", at: "IDENTITY", offset: -1, msg: click, wantSelected: "grp_ch_1001", wantFocus: modeList},
		{name: "a click in the detail pane focuses it", at: "Reasons", msg: click, wantSelected: "grp_ch_1001", wantFocus: modeDetail},
		{name: "a click in the list focuses it again", keys: []string{"enter"}, at: "maria.rossi", msg: click, wantSelected: "grp_ch_2001", wantFocus: modeList},
		{name: "the wheel down over the list moves down",
			at: "cus_NfJ2kQ8aLm", msg: func(y int) tea.MouseMsg { return wheel(y, tea.MouseButtonWheelDown) }, wantSelected: "grp_ch_2001", wantFocus: modeList},
		{name: "the wheel up over the list moves up", keys: []string{"j", "j"},
			at: "cus_NfJ2kQ8aLm", msg: func(y int) tea.MouseMsg { return wheel(y, tea.MouseButtonWheelUp) }, wantSelected: "grp_ch_2001", wantFocus: modeList},
		{name: "the wheel over the detail pane scrolls it, not the list",
			at: "Reasons", msg: func(y int) tea.MouseMsg { return wheel(y, tea.MouseButtonWheelDown) }, wantSelected: "grp_ch_1001", wantFocus: modeList, wantScrolled: true},
		{name: "the mouse does nothing while a dialog is open", then: []string{"?"},
			at: "card visa", msg: click, wantSelected: "grp_ch_1001", wantFocus: modeList},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(fixtureReport())
			m := press(t, h.start(t, testConfig()), tt.keys...)
			y := lineOf(m, tt.at)
			if y < 0 {
				t.Fatalf("nothing shows %q:\n%s", tt.at, ansi.Strip(m.View()))
			}
			m = press(t, m, tt.then...)
			m = send(t, m, tt.msg(y+tt.offset))
			if got := selectedID(m); got != tt.wantSelected {
				t.Errorf("selected %s, want %s", got, tt.wantSelected)
			}
			if m.focus != tt.wantFocus {
				t.Errorf("focus %v, want %v", m.focus, tt.wantFocus)
			}
			if scrolled := m.detail.viewport.YOffset > 0; scrolled != tt.wantScrolled {
				t.Errorf("detail pane scrolled: %v, want %v", scrolled, tt.wantScrolled)
			}
		})
	}
}
