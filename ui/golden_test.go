package ui

import (
	"bytes"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/doublecheck-dev/doublecheck/reconcile"
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
		report        func() reconcile.Report // fixtureReport when nil
		clipboard     bool
		until         string // shown before the frame is taken (the outcome of a command)
	}{
		{"initial_list", 100, 30, nil, false, nil, false, ""},
		{"detail_open", 100, 30, []string{"j", "enter"}, false, nil, false, ""},
		{"filter_active", 100, 30, []string{"/", "e", "x", "a", "m", "p", "l", "e", ".", "c", "o", "m"}, false, nil, false, ""},
		{"help_open", 100, 30, []string{"?"}, false, nil, false, ""},
		{"refund_dialog", 100, 30, []string{"space", "space", "r"}, false, nil, false, ""},
		{"refund_dialog_live", 100, 30, []string{"j", "r", "r", "e", "f"}, true, nil, false, ""},
		{"refund_dialog_low_confidence", 100, 30, []string{"G", "r"}, false, nil, false, ""},
		{"refund_dialog_scrolls", 100, 20, []string{"space", "space", "space", "space", "space", "r", "j", "j"}, false, nil, false, ""},
		{"list_80x24", 80, 24, nil, false, nil, false, ""},
		{"help_80x24", 80, 24, []string{"?"}, false, nil, false, ""},
		{"list_60x15", 60, 15, nil, false, nil, false, ""},
		{"help_60x15_scrolled", 60, 15, []string{"?", "j", "j", "j"}, false, nil, false, ""},
		{"too_small", 50, 10, nil, false, nil, false, ""},
		{"export_prompt", 100, 30, []string{"f", "e", "tab"}, false, nil, false, ""},
		{"trend_view", 100, 40, []string{"t"}, false, trendReport, false, ""},
		{"trend_view_small", 60, 15, []string{"t"}, false, trendReport, false, ""},
		{"export_prompt_small", 60, 15, []string{"e"}, false, nil, false, ""},
		{"copied_group_id", 100, 30, []string{"j", "c"}, false, nil, true, "copied group id"},
		{"detail_second_charge", 100, 30, []string{"j", "enter", "]"}, false, nil, false, ""},
		{"mixed_providers", 100, 30, nil, false, mixedReport, false, ""},
		{"mixed_providers_received", 100, 40, []string{"j", "j", "enter", "]"}, false, mixedReport, false, ""},
		{"mixed_providers_60x15", 60, 15, nil, false, mixedReport, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report := fixtureReport
			if tt.report != nil {
				report = tt.report
			}
			h := newHarness(report())
			deps := h.deps()
			if tt.clipboard {
				deps.Clipboard = &fakeClipboard{}
			}
			cfg := testConfig()
			cfg.Live = tt.live
			// The start-up work (load, first sync, reload) runs to completion first,
			// so the frame never depends on which background result landed when.
			tm := teatest.NewTestModel(t, settled{startWith(t, cfg, deps)}, teatest.WithInitialTermSize(tt.width, tt.height))
			if tt.width >= minWidth {
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("IDENTITY")) }, // the loaded list
					teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
			}
			for _, k := range tt.keys {
				tm.Send(keyMsg(k))
			}
			if tt.until != "" {
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(tt.until)) },
					teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
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
