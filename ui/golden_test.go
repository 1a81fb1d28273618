package ui

import (
	"bytes"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
)

// TestGolden runs the real program (teatest) at a fixed size and clock and
// compares the final View with testdata/TestGolden/*.golden. Refresh them with
// `go test ./ui -run TestGolden -update` and review the diff.
func TestGolden(t *testing.T) {
	tests := []struct {
		name          string
		width, height int
		keys          []string
		live          bool
	}{
		{"initial_list", 100, 30, nil, false},
		{"detail_open", 100, 30, []string{"j", "enter"}, false},
		{"filter_active", 100, 30, []string{"/", "e", "x", "a", "m", "p", "l", "e", ".", "c", "o", "m"}, false},
		{"help_open", 100, 30, []string{"?"}, false},
		{"refund_dialog", 100, 30, []string{"space", "space", "r"}, false},
		{"refund_dialog_live", 100, 30, []string{"j", "r", "r", "e", "f"}, true},
		{"refund_dialog_low_confidence", 100, 30, []string{"G", "r"}, false},
		{"refund_dialog_scrolls", 100, 20, []string{"space", "space", "space", "space", "space", "r", "j", "j"}, false},
		{"list_80x24", 80, 24, nil, false},
		{"help_80x24", 80, 24, []string{"?"}, false},
		{"list_60x15", 60, 15, nil, false},
		{"help_60x15_scrolled", 60, 15, []string{"?", "j", "j", "j"}, false},
		{"too_small", 50, 10, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(fixtureReport())
			cfg := testConfig()
			cfg.Live = tt.live
			// The start-up work (load, first sync, reload) runs to completion first,
			// so the frame never depends on which background result landed when.
			tm := teatest.NewTestModel(t, settled{h.start(t, cfg)}, teatest.WithInitialTermSize(tt.width, tt.height))
			if tt.width >= minWidth {
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("cus_NfJ2kQ")) },
					teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
			}
			for _, k := range tt.keys {
				tm.Send(keyMsg(k))
			}
			if err := tm.Quit(); err != nil {
				t.Fatal(err)
			}
			final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(settled)
			teatest.RequireEqualOutput(t, []byte(final.View()))
		})
	}
}

var _ tea.Model = Model{}

// settled is a dashboard whose start-up already ran: the program does not start
// it again.
type settled struct{ Model }

func (settled) Init() tea.Cmd { return nil }

func (s settled) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := s.Model.Update(msg)
	return settled{m.(Model)}, cmd
}
