package ui

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// exportedGroups reads a written report: its group ids in order, and its
// refund ids.
func exportedGroups(t *testing.T, path string) (groups, refunds []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v", err)
	}
	gcol, rcol := slices.Index(rows[0], "group_id"), slices.Index(rows[0], "refund_id")
	if gcol < 0 || rcol < 0 {
		t.Fatalf("no group_id or refund_id column in %v", rows[0])
	}
	for _, r := range rows[1:] {
		if r[0] != reconcile.KindDuplicate {
			continue
		}
		if len(groups) == 0 || groups[len(groups)-1] != r[gcol] {
			groups = append(groups, r[gcol])
		}
		if r[rcol] != "" {
			refunds = append(refunds, r[rcol])
		}
	}
	return groups, refunds
}

func TestExportPrompt(t *testing.T) {
	every := []string{"grp_ch_1001", "grp_ch_2001", "grp_ch_3001", "grp_ch_4001", "grp_ch_5001", "grp_ch_6001", "grp_ch_7001"}
	tests := []struct {
		name       string
		keys       []tea.Msg
		edit       string // replaces the proposed path, relative to the test's directory
		wantGroups []string
		wantFlash  string
		wantNone   bool
	}{
		{name: "enter writes the whole report, every status", keys: keys("e", "enter"),
			wantGroups: every, wantFlash: "exported the whole report (7 groups) to "},
		{name: "the whole report even when the list is filtered", keys: keys("f", "f", "e", "enter"),
			wantGroups: every},
		{name: "tab writes this view instead", keys: keys("f", "f", "e", "tab", "enter"),
			wantGroups: []string{"grp_ch_1001", "grp_ch_2001"}, wantFlash: "exported this view [view: unsettled · high only · sort: triage] (2 groups) to "},
		{name: "tab twice is the whole report again", keys: keys("e", "tab", "tab", "enter"), wantGroups: every},
		{name: "the path can be edited", keys: keys("e"), edit: "mine/triage.csv", wantGroups: every},
		{name: "esc writes nothing", keys: keys("e", "esc"), wantNone: true, wantFlash: "export cancelled: nothing written"},
		{name: "q in the prompt is typed, not quit", keys: keys("e", "q", "esc"), wantNone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig()
			cfg.ExportDir = filepath.Join(dir, "reports")
			h := newHarness(fixtureReport())
			m := h.start(t, cfg)
			for _, k := range tt.keys {
				m = send(t, m, k)
			}
			if tt.edit != "" {
				if m.dialog() != modeExport {
					t.Fatal("e did not open the export prompt")
				}
				if !strings.HasPrefix(m.export.input.Value(), cfg.ExportDir+string(filepath.Separator)) {
					t.Errorf("proposed %q, not in %s", m.export.input.Value(), cfg.ExportDir)
				}
				m = send(t, m, tea.KeyMsg{Type: tea.KeyCtrlU}) // delete to the start
				m = typeText(t, m, filepath.Join(dir, tt.edit))
				m = press(t, m, "enter")
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*", "*.csv"))
			if tt.wantNone {
				if len(files) != 0 {
					t.Errorf("wrote %v", files)
				}
			} else {
				if len(files) != 1 {
					t.Fatalf("files written: %v", files)
				}
				if tt.edit != "" && files[0] != filepath.Join(dir, tt.edit) {
					t.Errorf("wrote %s, want %s", files[0], filepath.Join(dir, tt.edit))
				}
				groups, refunds := exportedGroups(t, files[0])
				if !slices.Equal(groups, tt.wantGroups) {
					t.Errorf("exported %v, want %v", groups, tt.wantGroups)
				}
				if slices.Contains(groups, "grp_ch_6001") && !slices.Contains(refunds, "re_6002") {
					t.Errorf("the refund id re_6002 is missing: %v", refunds)
				}
				if !strings.Contains(m.status.flashText, files[0]) {
					t.Errorf("status %q does not show the path", m.status.flashText)
				}
			}
			if !strings.Contains(m.status.flashText, tt.wantFlash) {
				t.Errorf("status %q, want %q", m.status.flashText, tt.wantFlash)
			}
			if m.dialog() == modeExport {
				t.Error("the prompt is still open")
			}
		})
	}
}

func keys(names ...string) []tea.Msg {
	out := make([]tea.Msg, len(names))
	for i, n := range names {
		out[i] = keyMsg(n)
	}
	return out
}

// TestExportTarget: a typed path never lands in the working directory: ~ is
// the home directory and a relative path is relative to the proposed one.
func TestExportTarget(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory here")
	}
	base := filepath.Join(t.TempDir(), "exports")
	for _, tc := range []struct{ typed, want string }{
		{"~/r.csv", filepath.Join(home, "r.csv")},
		{"r.csv", filepath.Join(base, "r.csv")},
		{"sub/r.csv", filepath.Join(base, "sub", "r.csv")},
		{filepath.Join(base, "abs.csv"), filepath.Join(base, "abs.csv")},
	} {
		if got, err := exportTarget(tc.typed, base); err != nil || got != tc.want {
			t.Errorf("%q writes to %q (%v), want %q", tc.typed, got, err, tc.want)
		}
	}
}

// TestStatusBarKeepsTheLinkWhole: a flash that ends with a path or a link is
// cut from the left, so what the operator needs to copy stays whole.
func TestStatusBarKeepsTheLinkWhole(t *testing.T) {
	styles := DefaultStyles()
	s := newStatusBar(&styles)
	s.SetSize(100)
	url := "https://dashboard.stripe.com/test/payments/ch_3endxJASmueHGuby12PmN0ZO"
	s.Flash(levelWarn, flashLink, "no browser can open here (no DISPLAY or WAYLAND_DISPLAY); link copied (OSC 52): "+url)
	if view := ansi.Strip(s.View()); !strings.Contains(view, " "+url) || !strings.HasPrefix(view, "no browser") || !strings.Contains(view, "…") {
		t.Errorf("the status bar cut the link, or kept too little of the start: %q", view)
	}
	s.SetSize(40) // the link alone is too long: its end stays
	if view := ansi.Strip(s.View()); !strings.HasPrefix(view, "…") || !strings.Contains(view, "ch_3endxJASmueHGuby12PmN0ZO") {
		t.Errorf("a link longer than the bar lost its end: %q", view)
	}
	s.SetSize(100)
	s.Flash(levelError, flashNormal, "a long error whose beginning says what went wrong, "+url)
	if view := ansi.Strip(s.View()); !strings.HasPrefix(view, "a long error") {
		t.Errorf("an ordinary flash lost its beginning: %q", view)
	}
}
