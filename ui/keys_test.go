package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestModelCopiesKeepTheirOwnKeys: a model value is a snapshot: updating a copy
// of it (as Bubble Tea and the tests do) never changes which keys the original
// offers or answers.
func TestModelCopiesKeepTheirOwnKeys(t *testing.T) {
	tests := []struct {
		name     string
		keys     []string // turn the copy's state to one where the key is live
		offered  string   // in the original's footer: must stay off
		original string   // pressed on the original afterwards: must still do nothing
	}{
		{"undo on a dismissed group", []string{"s"}, "u undo dismiss", "u"},
		{"clear marks", []string{"space"}, "esc clear marks", "esc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(fixtureReport())
			original := send(t, h.start(t, testConfig()), tea.WindowSizeMsg{Width: 240, Height: 30}) // every key in the footer
			copied := press(t, original, tt.keys...)
			if !strings.Contains(copied.footerView(), tt.offered) {
				t.Fatalf("the copy does not offer %q: %s", tt.offered, copied.footerView())
			}
			if footer := original.footerView(); strings.Contains(footer, tt.offered) {
				t.Errorf("updating a copy made the original offer %q: %s", tt.offered, footer)
			}
			decisions := len(h.store.decisions)
			if after := press(t, original, tt.original); len(h.store.decisions) != decisions || after.table.MarkCount() != 0 {
				t.Errorf("%s acted on the original through the copy's keys", tt.original)
			}
		})
	}
}
