package ui

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/charmbracelet/x/ansi"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

func TestNavigation(t *testing.T) {
	// Open groups, in report order: 1001, 2001, 3001, 4001, 5001.
	tests := []struct {
		name string
		keys []string
		want string
	}{
		{"starts on the first group", nil, "grp_ch_1001"},
		{"j moves down", []string{"j"}, "grp_ch_2001"},
		{"down arrow moves down", []string{"down", "down"}, "grp_ch_3001"},
		{"k moves up", []string{"j", "j", "k"}, "grp_ch_2001"},
		{"up arrow stops at the top", []string{"up", "up"}, "grp_ch_1001"},
		{"G goes to the bottom", []string{"G"}, "grp_ch_5001"},
		{"j stops at the bottom", []string{"G", "j", "j"}, "grp_ch_5001"},
		{"g goes to the top", []string{"G", "g"}, "grp_ch_1001"},
		{"pgdown pages to the last row", []string{"pgdown"}, "grp_ch_5001"},
		{"pgup pages back", []string{"pgdown", "pgup"}, "grp_ch_1001"},
		{"in the detail pane j scrolls, not moves", []string{"enter", "j", "j"}, "grp_ch_1001"},
		{"esc returns to the list", []string{"enter", "esc", "j"}, "grp_ch_2001"},
		{"tab focuses the detail pane and back", []string{"tab", "tab", "j"}, "grp_ch_2001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(fixtureReport())
			m := press(t, h.start(t, testConfig()), tt.keys...)
			if got := selectedID(m); got != tt.want {
				t.Errorf("selected %s, want %s", got, tt.want)
			}
			if !strings.Contains(m.detail.View(), tt.want) && m.detail.viewport.YOffset == 0 {
				t.Errorf("detail pane does not show %s:\n%s", tt.want, m.detail.View())
			}
		})
	}
}

func TestDetailPaneScrolls(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "j", "enter")
	if m.focus != modeDetail {
		t.Fatal("enter did not focus the detail pane")
	}
	m = press(t, m, "j", "j")
	if m.detail.viewport.YOffset != 2 {
		t.Errorf("detail offset %d after two j, want 2", m.detail.viewport.YOffset)
	}
	m = press(t, m, "g")
	if m.detail.viewport.YOffset != 0 {
		t.Errorf("g left the detail at offset %d", m.detail.viewport.YOffset)
	}
}

func TestDetailPaneKeepsScrollAcrossReloads(t *testing.T) {
	h := newHarness(fixtureReport())
	cfg := testConfig()
	cfg.Watch = time.Minute
	m := press(t, h.start(t, cfg), "j", "enter", "j", "j", "j")
	m = send(t, m, watchTickMsg{}) // sync + reload while the operator reads
	if h.store.loads != 3 {
		t.Fatalf("%d loads, want the first, and one after each sync", h.store.loads)
	}
	if m.detail.viewport.YOffset != 3 {
		t.Errorf("detail offset %d after a background reload, want 3", m.detail.viewport.YOffset)
	}
	m = press(t, m, "esc", "j")
	if m.detail.viewport.YOffset != 0 {
		t.Errorf("another group opened at offset %d", m.detail.viewport.YOffset)
	}
}

func TestDetailPaneExplainsTheGroup(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "j") // grp_ch_2001: the disputed suspect
	content := m.detail.render(m.table.Selected(), nil)
	for _, want := range []string{
		"ch_2001", "ch_2002", "ch_2003", "KEEP", "DUPLICATE", "120.00 EUR", "mastercard ••••5454",
		"maria.rossi@example.it", "3 charges in 41 s, no idempotency key", "key — none: its event recorded the request without one",
		"cannot refund: disputed: the customer opened a dispute", "2026-11-20 15:00:20",
	} {
		if !strings.Contains(content, want) {
			t.Errorf("detail lacks %q:\n%s", want, content)
		}
	}
	m = press(t, m, "k")
	content = m.detail.render(m.table.Selected(), nil)
	for _, want := range []string{"key checkout-o-1234-try2 (from event, log)", "order o-1234", "cause new_key_per_retry"} {
		if !strings.Contains(content, want) {
			t.Errorf("detail lacks %q:\n%s", want, content)
		}
	}
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name  string
		typed string
		then  []string
		want  []string
		query string
	}{
		{"matches email", "maria", nil, []string{"grp_ch_2001"}, "maria"},
		{"matches charge id", "ch_3002", nil, []string{"grp_ch_3001"}, "ch_3002"},
		{"matches order ref case-insensitively", "O-1234", nil, []string{"grp_ch_1001"}, "O-1234"},
		{"matches idempotency key", "order-77", nil, []string{"grp_ch_4001"}, "order-77"},
		{"matches customer", "cus_q2x", nil, []string{"grp_ch_4001"}, "cus_q2x"},
		{"matches the card's last four", "5454", nil, []string{"grp_ch_2001"}, "5454"},
		{"matches brand and last four", "Mastercard 5454", nil, []string{"grp_ch_2001"}, "Mastercard 5454"},
		{"matches last four as the table writes it", "…5454", nil, []string{"grp_ch_2001"}, "…5454"},
		{"matches a group id", "grp_ch_300", nil, []string{"grp_ch_3001"}, "grp_ch_300"},
		{"matches an amount as typed", "49.99", nil, []string{"grp_ch_1001"}, "49.99"},
		{"matches an amount without decimals", "3000 jpy", nil, []string{"grp_ch_4001"}, "3000 jpy"},
		{"nothing matches", "zzz", nil, []string{}, "zzz"},
		{"backspace widens", "mariaz", []string{"backspace"}, []string{"grp_ch_2001"}, "maria"},
		{"esc clears while typing", "maria", []string{"esc"}, []string{"grp_ch_1001", "grp_ch_2001", "grp_ch_3001", "grp_ch_4001", "grp_ch_5001"}, ""},
		{"enter keeps the filter", "example.com", []string{"enter"}, []string{"grp_ch_1001", "grp_ch_5001"}, "example.com"},
		{"esc after enter clears", "example.com", []string{"enter", "esc"}, []string{"grp_ch_1001", "grp_ch_2001", "grp_ch_3001", "grp_ch_4001", "grp_ch_5001"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(fixtureReport())
			m := press(t, h.start(t, testConfig()), "/")
			if !m.filter.Editing() {
				t.Fatal("/ did not open the filter")
			}
			m = typeText(t, m, tt.typed)
			m = press(t, m, tt.then...)
			if got := listedIDs(m); !slices.Equal(got, tt.want) {
				t.Errorf("listed %v, want %v", got, tt.want)
			}
			if m.filter.Query() != tt.query {
				t.Errorf("query %q, want %q", m.filter.Query(), tt.query)
			}
		})
	}
}

func TestFilterTypingDoesNotTriggerKeys(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "/")
	m = typeText(t, m, "dqr") // dismiss, quit, refund keys while typing
	if m.dialog() != modeList || m.filter.Query() != "dqr" || h.refunder.calls != 0 || len(h.store.decisions) != 0 {
		t.Errorf("typing acted on keys: modal %v, query %q", m.dialog(), m.filter.Query())
	}
}

func TestConfidenceAndStatusCycling(t *testing.T) {
	tests := []struct {
		keys []string
		want []string
	}{
		{nil, []string{"grp_ch_1001", "grp_ch_2001", "grp_ch_3001", "grp_ch_4001", "grp_ch_5001"}},
		{[]string{"f"}, []string{"grp_ch_1001", "grp_ch_2001", "grp_ch_3001", "grp_ch_4001"}},
		{[]string{"f", "f"}, []string{"grp_ch_1001", "grp_ch_2001"}},
		{[]string{"f", "f", "f"}, []string{"grp_ch_1001", "grp_ch_2001", "grp_ch_3001", "grp_ch_4001", "grp_ch_5001"}},
		{[]string{"s"}, []string{"grp_ch_7001"}},
		{[]string{"s", "s"}, []string{"grp_ch_6001"}},
		{[]string{"s", "s", "s"}, []string{"grp_ch_1001", "grp_ch_2001", "grp_ch_3001", "grp_ch_4001", "grp_ch_5001", "grp_ch_6001", "grp_ch_7001"}},
		{[]string{"s", "s", "s", "s"}, []string{"grp_ch_1001", "grp_ch_2001", "grp_ch_3001", "grp_ch_4001", "grp_ch_5001"}},
		{[]string{"s", "s", "s", "f", "f"}, []string{"grp_ch_1001", "grp_ch_2001", "grp_ch_6001"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.keys, ","), func(t *testing.T) {
			h := newHarness(fixtureReport())
			m := press(t, h.start(t, testConfig()), tt.keys...)
			if got := listedIDs(m); !slices.Equal(got, tt.want) {
				t.Errorf("listed %v, want %v", got, tt.want)
			}
		})
	}
}

// TestViewsAreNamed: s cycles unsettled, dismissed, resolved and all,
// and the status bar names the view.
func TestViewsAreNamed(t *testing.T) {
	m := newHarness(fixtureReport()).start(t, testConfig())
	for _, want := range []string{"view: unsettled", "view: dismissed", "view: resolved", "view: all", "view: unsettled"} {
		if !strings.Contains(m.status.right, want) {
			t.Errorf("the status bar says %q, want %q", m.status.right, want)
		}
		m = press(t, m, "s")
	}
}

// TestSortOrders: S cycles the orders, each named in the status bar and
// marked on its column, and triage (the report's order) comes back last.
func TestSortOrders(t *testing.T) {
	tests := []struct {
		presses int
		label   string
		column  string
		want    []string
	}{
		{0, "sort: triage", "", []string{"grp_ch_1001", "grp_ch_2001", "grp_ch_3001", "grp_ch_4001", "grp_ch_5001"}},
		// Per currency (EUR, GBP, JPY, USD), the most at risk first.
		{1, "sort: at risk", "AT RISK ↓", []string{"grp_ch_2001", "grp_ch_5001", "grp_ch_4001", "grp_ch_1001", "grp_ch_3001"}},
		{2, "sort: newest", "LATEST UTC ↓", []string{"grp_ch_5001", "grp_ch_3001", "grp_ch_2001", "grp_ch_1001", "grp_ch_4001"}},
		{3, "sort: span", "SPAN ↑", []string{"grp_ch_3001", "grp_ch_1001", "grp_ch_2001", "grp_ch_5001", "grp_ch_4001"}},
		{4, "sort: confidence", "CONF ↓", []string{"grp_ch_2001", "grp_ch_1001", "grp_ch_3001", "grp_ch_4001", "grp_ch_5001"}},
		{5, "sort: triage", "", []string{"grp_ch_1001", "grp_ch_2001", "grp_ch_3001", "grp_ch_4001", "grp_ch_5001"}},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			m := newHarness(fixtureReport()).start(t, testConfig())
			for range tt.presses {
				m = press(t, m, "S")
			}
			if got := listedIDs(m); !slices.Equal(got, tt.want) {
				t.Errorf("listed %v, want %v", got, tt.want)
			}
			if got := listedIDs(send(t, m, storeChangedMsg{})); !slices.Equal(got, tt.want) {
				t.Errorf("after a reload: listed %v, want %v", got, tt.want)
			}
			// The flash (what the order is) covers the status bar's right side
			// until it expires.
			if !strings.Contains(m.status.right, tt.label) {
				t.Errorf("the status bar says %q, not %q", m.status.right, tt.label)
			}
			view := m.View()
			if tt.column != "" && !strings.Contains(view, tt.column) {
				t.Errorf("the column header does not mark %q:\n%s", tt.column, view)
			}
		})
	}
}

// TestColumns: the money at risk of the whole group (a 3-charge group of
// 113.45 puts 226.90 at risk), plain column names, the latest charge with its
// zone, and REASON takes what is left; the one-charge AMOUNT and then SPAN
// give way on narrow terminals, money is never cut.
func TestColumns(t *testing.T) {
	three := group("grp_ch_9001", reconcile.High, reconcile.Open, reconcile.CauseNoKey, "cus_Three",
		[]string{"3 charges in 50 s, no idempotency key"},
		charge("ch_9001", 0, 11345, "usd", reconcile.Keep), charge("ch_9002", 20*time.Second, 11345, "usd", reconcile.Duplicate),
		charge("ch_9003", 50*time.Second, 11345, "usd", reconcile.Duplicate))
	tests := []struct {
		width      int
		want, miss []string
	}{
		{140, []string{"CONF", "STATUS", "IDENTITY", "AT RISK", "AMOUNT", "CHARGES", "SPAN", "LATEST UTC", "REASON", "226.90 USD", "113.45 USD", "11-20 14:00", "3 charges in 50 s, no idempotency key"}, []string{" N "}},
		{90, []string{"AT RISK", "CHARGES", "SPAN", "LATEST UTC", "REASON", "226.90 USD"}, []string{"AMOUNT", "113.45"}},
		{60, []string{"AT RISK", "LATEST UTC", "226.90 USD"}, []string{"AMOUNT", "SPAN", "CHARGES"}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.width), func(t *testing.T) {
			m := send(t, newHarness(withSummary([]reconcile.Group{three})).start(t, testConfig()), tea.WindowSizeMsg{Width: tt.width, Height: 30})
			table := m.table.View()
			for _, w := range tt.want {
				if !strings.Contains(table, w) {
					t.Errorf("the table lacks %q:\n%s", w, table)
				}
			}
			for _, w := range tt.miss {
				if strings.Contains(table, w) {
					t.Errorf("the table shows %q:\n%s", w, table)
				}
			}
			for _, l := range strings.Split(table, "\n") {
				if lipgloss.Width(l) != m.table.width {
					t.Errorf("a line is %d wide, not the table's %d: %q", lipgloss.Width(l), m.table.width, l)
				}
			}
		})
	}
}

func TestSelectionSurvivesFiltering(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "j", "f", "f") // on grp_ch_2001, high only
	if got := selectedID(m); got != "grp_ch_2001" {
		t.Errorf("selected %s after filtering, want grp_ch_2001", got)
	}
}

func TestDismissAndUndo(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "j", "d")
	if m.dialog() != modeNote {
		t.Fatal("d did not ask for a note")
	}
	m = typeText(t, m, "repeat purchase, confirmed by phone")
	m = press(t, m, "enter")

	want := []reconcile.Decision{{GroupID: "grp_ch_2001", Kind: reconcile.DecisionDismissed, Operator: "ops@acme.test",
		At: fixtureNow, Note: "repeat purchase, confirmed by phone", Charges: []string{"ch_2001", "ch_2002", "ch_2003"}}}
	if len(h.store.decisions) != 1 || !reflect.DeepEqual(h.store.decisions[0], want) {
		t.Fatalf("decisions %+v, want %+v", h.store.decisions, want)
	}
	if slices.Contains(listedIDs(m), "grp_ch_2001") {
		t.Error("the dismissed group is still listed under the open filter")
	}
	if !strings.Contains(m.status.flashText, "dismissed 1 group") {
		t.Errorf("flash %q", m.status.flashText)
	}

	// The view of all groups (s three times), find the dismissed one, undo.
	m = press(t, m, "s", "s", "s", "g", "j")
	if selectedID(m) != "grp_ch_2001" {
		t.Fatalf("selected %s, want grp_ch_2001", selectedID(m))
	}
	m = press(t, m, "u")
	if len(h.store.decisions) != 2 || h.store.decisions[1][0].Kind != reconcile.DecisionUndismissed || h.store.decisions[1][0].GroupID != "grp_ch_2001" {
		t.Fatalf("undo stored %+v", h.store.decisions)
	}
	if g := m.table.Selected(); g == nil || g.Status != reconcile.Open {
		t.Errorf("after undo the group is %+v, want open", g)
	}
}

// TestDismissalCoversOnlyTheChargesSeen: a reload while the note is typed
// adds a charge to the group; the dismissal covers the charges on screen when
// the note opened, not the new one.
func TestDismissalCoversOnlyTheChargesSeen(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "j", "d")
	for i := range h.store.report.Groups {
		if g := &h.store.report.Groups[i]; g.ID == "grp_ch_2001" {
			late := g.Charges[len(g.Charges)-1]
			late.ID = "ch_2004"
			g.Charges = append(g.Charges, late)
		}
	}
	m = drain(t, m, m.reload())
	if m.dialog() != modeNote {
		t.Fatal("the reload closed the note dialog")
	}
	m = press(t, m, "enter")
	if len(h.store.decisions) != 1 || !slices.Equal(h.store.decisions[0][0].Charges, []string{"ch_2001", "ch_2002", "ch_2003"}) {
		t.Fatalf("decisions %+v, want the three charges seen", h.store.decisions)
	}
}

func TestDismissMarkedGroupsAsOneBatch(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "space", "j", "space", "d", "enter")
	if len(h.store.decisions) != 1 {
		t.Fatalf("%d Decide calls, want one batch", len(h.store.decisions))
	}
	var ids []string
	for _, d := range h.store.decisions[0] {
		ids = append(ids, d.GroupID)
		if d.Note != "" || d.Kind != reconcile.DecisionDismissed {
			t.Errorf("decision %+v", d)
		}
	}
	if !slices.Equal(ids, []string{"grp_ch_1001", "grp_ch_3001"}) {
		t.Errorf("dismissed %v, want the two marked groups", ids)
	}
	if len(m.table.marked) != 0 {
		t.Errorf("marks kept after the batch: %v", m.table.marked)
	}
}

func TestDismissCancelAndFailure(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "d", "esc")
	if len(h.store.decisions) != 0 || m.dialog() != modeList {
		t.Fatalf("esc did not cancel: %+v", h.store.decisions)
	}
	h.store.decideErr = errors.New("database is locked")
	m = press(t, m, "d", "enter")
	if m.status.flashLevel != levelError || !strings.Contains(m.status.flashText, "database is locked") {
		t.Errorf("flash %q at level %v", m.status.flashText, m.status.flashLevel)
	}
	if selectedID(m) != "grp_ch_1001" {
		t.Error("a failed decision changed the list")
	}
}

func TestUndoOnlyWhenDismissed(t *testing.T) {
	h := newHarness(fixtureReport())
	m := h.start(t, testConfig())
	if m.keys.Undo.Enabled() || strings.Contains(m.footerView(), "undo") {
		t.Error("u is live on an open group")
	}
	m = press(t, m, "s", "s", "s", "G") // grp_ch_7001, dismissed
	if !m.keys.Undo.Enabled() || m.keys.Dismiss.Enabled() {
		t.Errorf("on a dismissed group: undo %v, dismiss %v", m.keys.Undo.Enabled(), m.keys.Dismiss.Enabled())
	}
	m = press(t, m, "d")
	if m.dialog() == modeNote {
		t.Error("d on a dismissed group opened the note")
	}
}

func TestExportWritesTheFilteredView(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.ExportDir = filepath.Join(dir, "reports")
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, cfg), "f", "f", "e", "tab", "enter") // tab: this view, high confidence, open: 1001 and 2001

	files, err := filepath.Glob(filepath.Join(cfg.ExportDir, "*.csv"))
	if err != nil || len(files) != 1 {
		t.Fatalf("export files %v (%v)", files, err)
	}
	if !strings.Contains(m.status.flashText, files[0]) {
		t.Errorf("flash %q does not show the path %s", m.status.flashText, files[0])
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v", err)
	}
	col := slices.Index(rows[0], "charge_id")
	if col < 0 {
		t.Fatalf("no charge_id column in %v", rows[0])
	}
	var charges []string
	for _, r := range rows[1:] {
		if r[0] == reconcile.KindDuplicate {
			charges = append(charges, r[col])
		}
	}
	if want := []string{"ch_1001", "ch_1002", "ch_2001", "ch_2002", "ch_2003"}; !slices.Equal(charges, want) {
		t.Errorf("exported charges %v, want %v", charges, want)
	}
	if base := filepath.Base(files[0]); base != "doublecheck-Acme-Books-acct_1Nv0FGQ9-20261120-160500.csv" {
		t.Errorf("file name %s", base)
	}
}

func TestExportFailureIsOneSentence(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.ExportDir = filepath.Join(blocker, "reports") // a directory under a file
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, cfg), "e", "enter")
	if m.status.flashLevel != levelError || !strings.HasPrefix(m.status.flashText, "export: creating") {
		t.Errorf("flash %q at level %v", m.status.flashText, m.status.flashLevel)
	}
}

func TestRefundDialog(t *testing.T) {
	tests := []struct {
		name      string
		live      bool
		keys      []string
		typed     string
		confirmed bool
	}{
		{"esc cancels", false, []string{"esc"}, "", false},
		{"n cancels", false, []string{"n"}, "", false},
		{"a stray enter cancels: Cancel is the default", false, []string{"enter"}, "", false},
		{"y confirms in test mode", false, []string{"y"}, "", true},
		{"tab then enter presses Refund", false, []string{"tab", "enter"}, "", true},
		{"tab twice then enter is back on Cancel", false, []string{"tab", "tab", "enter"}, "", false},
		{"y does not confirm in live mode", true, []string{"y", "esc"}, "", false},
		{"live: esc cancels", true, []string{"esc"}, "", false},
		{"live: n cancels", true, []string{"n"}, "", false},
		{"live: a stray enter cancels", true, []string{"enter"}, "", false},
		{"live: a wrong word cancels", true, []string{"enter"}, "refun", false},
		{"live: the typed word confirms", true, []string{"enter"}, "refund", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Live = tt.live
			h := newHarness(fixtureReport())
			m := press(t, h.start(t, cfg), "r")
			if m.dialog() != modeConfirm {
				t.Fatal("r did not open the refund dialog")
			}
			m = typeText(t, m, tt.typed)
			m = press(t, m, tt.keys...)
			if m.dialog() != modeList {
				t.Errorf("dialog still open")
			}
			if tt.confirmed != (h.refunder.calls == 1) {
				t.Fatalf("refunder called %d times, confirmed=%v", h.refunder.calls, tt.confirmed)
			}
			if !tt.confirmed {
				if !strings.Contains(m.status.flashText, "nothing was sent") {
					t.Errorf("flash %q", m.status.flashText)
				}
				return
			}
			want := []reconcile.RefundRequest{{Key: reconcile.RefundKey("ch_1002", 0, 4999),
				GroupID: "grp_ch_1001", ChargeID: "ch_1002", KeptChargeID: "ch_1001", Amount: 4999, Currency: "usd"}}
			if !slices.Equal(h.refunder.requests, want) {
				t.Errorf("requests %+v, want %+v", h.refunder.requests, want)
			}
		})
	}
}

func TestRefundDialogListsEverything(t *testing.T) {
	cfg := testConfig()
	cfg.DryRun = true
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, cfg), "space", "space", "r") // mark 1001 and 2001
	view := m.refund.View()
	for _, want := range []string{
		"Refund 2 duplicate charges in 2 groups?", "TEST MODE",
		"keep", "ch_1001", "cus_NfJ2kQ8aLm", "refund", "ch_1002", "49.99 USD", "ch_2002", "120.00 EUR",
		"skip", "ch_2003", "disputed", "total to refund: 120.00 EUR · 49.99 USD",
		"dry run: nothing will be sent to Stripe", "Cancel", "Refund",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("dialog lacks %q:\n%s", want, view)
		}
	}
	if got := len(m.refund.dialog.plan.Requests); got != 2 {
		t.Errorf("%d requests, want 2 (the disputed charge is skipped)", got)
	}
}

func TestRefundLiveDialogWantsTheWord(t *testing.T) {
	cfg := testConfig()
	cfg.Live = true
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, cfg), "r")
	view := m.refund.View()
	if !strings.Contains(view, "LIVE MODE") || !strings.Contains(view, "Type refund and press enter") {
		t.Errorf("live dialog:\n%s", view)
	}
}

func TestRefundBatchProgressAndOutcomes(t *testing.T) {
	h := newHarness(fixtureReport())
	h.refunder.fail = map[string]error{"ch_1002": errors.New("ch_1002 was already refunded outside doublecheck")}
	h.refunder.pending = map[string]bool{"ch_3002": true}
	m := press(t, h.start(t, testConfig()), "space", "space", "space", "g", "r", "y")

	if h.refunder.calls != 1 || len(h.refunder.requests) != 3 {
		t.Fatalf("refunder got %d calls and %d requests, want one batch of 3", h.refunder.calls, len(h.refunder.requests))
	}
	if m.refund.done != 3 || m.refund.running {
		t.Errorf("progress %d/%d, running %v", m.refund.done, m.refund.total, m.refund.running)
	}
	if want := "1 refunded, 1 pending (network failure: will be resumed with the same key), 1 failed; the detail pane says why"; m.status.flashText != want || m.status.flashLevel != levelError {
		t.Errorf("flash %q", m.status.flashText)
	}
	content := m.detail.render(m.table.Selected(), m.refund.Outcomes()) // grp_ch_1001
	if !strings.Contains(content, "refund failed: ch_1002 was already refunded outside doublecheck") {
		t.Errorf("detail lacks the failure:\n%s", content)
	}
	if got := m.refund.Outcomes()["ch_2002"]; got != "refunded re_ch_2002" {
		t.Errorf("ch_2002 outcome %q", got)
	}
	if got := m.refund.Outcomes()["ch_3002"]; !strings.Contains(got, "pending") || !strings.Contains(got, "same idempotency key") {
		t.Errorf("ch_3002 outcome %q", got)
	}
	if len(m.table.marked) != 0 {
		t.Error("marks kept after the batch")
	}
	if h.store.loads < 2 {
		t.Error("the groups were not reloaded after the batch")
	}
}

// TestRefundOutcomeStaysInView: the group a refund resolved stays listed and
// selected ("resolved just now") although the open view hides resolved
// groups, its refund id shows in the detail pane, a routine sync does not
// replace the outcome in the status bar; moving the cursor lets it go.
func TestRefundOutcomeStaysInView(t *testing.T) {
	h := newHarness(fixtureReport())
	h.refunder.onRefund = func() {
		h.store.mu.Lock()
		defer h.store.mu.Unlock()
		groups := slices.Clone(h.store.report.Groups)
		g := &groups[0] // grp_ch_1001
		g.Charges = slices.Clone(g.Charges)
		g.Status = reconcile.Resolved
		d := &g.Charges[1]
		d.AmountRefunded, d.Refunded, d.Refundable = d.Amount, true, 0
		d.Decision, d.RefundID = string(reconcile.RefundSucceeded), "re_ch_1002"
		h.store.report = withSummary(groups)
	}
	m := press(t, h.start(t, testConfig()), "r", "y")
	if h.refunder.calls != 1 {
		t.Fatalf("refunder called %d times", h.refunder.calls)
	}
	if got := selectedID(m); got != "grp_ch_1001" {
		t.Errorf("selected %s after the refund, want grp_ch_1001", got)
	}
	if !strings.Contains(m.table.View(), "resolved just now") {
		t.Errorf("the table does not say resolved just now:\n%s", m.table.View())
	}
	if !strings.Contains(m.detail.View(), "re_ch_1002") {
		t.Errorf("the detail pane lacks the refund id:\n%s", m.detail.View())
	}
	outcome := m.status.flashText
	if !strings.Contains(outcome, "1 refunded") {
		t.Fatalf("flash %q, want the batch's outcome", outcome)
	}
	m = press(t, m, "R") // a sync that goes as usual, then a reload
	if h.syncer.calls < 2 || m.status.flashText != outcome {
		t.Errorf("after a routine sync the flash is %q, want %q", m.status.flashText, outcome)
	}
	if got := selectedID(m); got != "grp_ch_1001" {
		t.Errorf("selected %s after a sync, want grp_ch_1001", got)
	}
	m = press(t, m, "j")
	if slices.Contains(listedIDs(m), "grp_ch_1001") || selectedID(m) != "grp_ch_2001" {
		t.Errorf("after j: listed %v, selected %s; want the resolved group gone and grp_ch_2001 selected", listedIDs(m), selectedID(m))
	}
}

func TestRefundProgressLine(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "space", "space", "g", "r")
	// Update without running the commands, so the batch is seen mid-way.
	next, confirmed := m.Update(keyMsg("y"))
	next, _ = next.(Model).Update(intent[refundConfirmedMsg](t, confirmed))
	m = next.(Model)
	next, _ = m.Update(refundProgressMsg{result: RefundResult{ChargeID: "ch_1002", RefundID: "re_1"}, events: make(chan tea.Msg)})
	m = next.(Model)
	if got := m.status.View(); !strings.Contains(got, "refunding 1/2…") {
		t.Errorf("status bar %q lacks the progress line", got)
	}
}

func TestRefundNotOffered(t *testing.T) {
	tests := []struct {
		name  string
		cfg   func(*Config)
		deps  func(*Deps)
		keys  []string
		flash string
	}{
		{"read-only", func(c *Config) { c.ReadOnly = true }, nil, []string{"r"}, "read-only: refunds are turned off"},
		{"no refunder", nil, func(d *Deps) { d.Refunder = nil }, []string{"r"}, "read-only: refunds are turned off"},
		{"resolved group", nil, nil, []string{"s", "s", "s", "G", "k", "r"}, "nothing to refund in grp_ch_6001: every duplicate is already refunded"},
		{"dismissed group", nil, nil, []string{"s", "s", "s", "G", "r"}, "nothing to refund in grp_ch_7001: it was dismissed as legitimate (u reopens it)"},
		{"marked closed groups", nil, nil, []string{"s", "s", "s", "G", "k", "space", "space", "r"},
			"nothing to refund in the 2 marked groups: none is open with a refundable duplicate"},
		{"d on a resolved group", nil, nil, []string{"s", "s", "s", "G", "k", "d"}, "grp_ch_6001 is resolved: only open groups can be dismissed"},
		{"d on a dismissed group", nil, nil, []string{"s", "s", "s", "G", "d"}, "grp_ch_7001 is already dismissed (u reopens it)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			h := newHarness(fixtureReport())
			deps := h.deps()
			if tt.deps != nil {
				tt.deps(&deps)
			}
			m := newTestModel(cfg, deps)
			m = send(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
			m = drain(t, m, m.Init())
			m = press(t, m, tt.keys...)
			if m.dialog() != modeList || h.refunder.calls != 0 || len(h.store.decisions) != 0 {
				t.Fatal("a dialog opened")
			}
			offered := map[string]string{"r": "r refund", "d": "d dismiss"}[tt.keys[len(tt.keys)-1]]
			if footer := m.footerView(); strings.Contains(footer, offered) {
				t.Errorf("footer offers a key that does nothing here: %s", footer)
			}
			if m.status.flashText != tt.flash {
				t.Errorf("flash %q, want %q", m.status.flashText, tt.flash)
			}
			if cfg.ReadOnly && strings.Contains(m.footerView(), "refund") {
				t.Errorf("footer offers refunds in read-only mode: %s", m.footerView())
			}
		})
	}
}

func TestBackgroundSync(t *testing.T) {
	report := fixtureReport()
	h := newHarness(report)
	cfg := testConfig()
	cfg.Watch = 30 * time.Second
	m := h.start(t, cfg)

	// New charges arrive: a new group appears at the end of the open list.
	extra := group("grp_ch_8001", reconcile.High, reconcile.Open, reconcile.CauseNoKey, "cus_New",
		[]string{"2 charges in 9 s, no idempotency key"},
		charge("ch_8001", 6*time.Hour, 700, "usd", reconcile.Keep), charge("ch_8002", 6*time.Hour+9*time.Second, 700, "usd", reconcile.Duplicate))
	h.syncer.onSync = func() {
		h.store.report.Groups = append(slices.Clone(h.store.report.Groups[:5]), append([]reconcile.Group{extra}, h.store.report.Groups[5:]...)...)
	}
	if h.syncer.calls != 1 {
		t.Fatalf("opening the dashboard ran %d syncs, want one right away", h.syncer.calls)
	}
	m = send(t, m, watchTickMsg{})
	if h.syncer.calls != 2 {
		t.Fatalf("the watch tick ran %d syncs in all, want 2", h.syncer.calls)
	}
	if !m.table.fresh["grp_ch_8001"] || !strings.Contains(m.header.View(), "1 new") {
		t.Errorf("new group not highlighted: fresh %v\n%s", m.table.fresh, m.header.View())
	}
	if !strings.Contains(m.table.View(), "+high") {
		t.Errorf("new row not marked:\n%s", m.table.View())
	}
	if !strings.Contains(m.header.View(), "synced 16:05:00 (just now)") {
		t.Errorf("header does not show the sync time:\n%s", m.header.View())
	}
	m = press(t, m, "G")
	if len(m.table.fresh) != 0 || strings.Contains(m.header.View(), "new") {
		t.Errorf("viewing the group did not clear it: %v", m.table.fresh)
	}

	// A failing sync shows in the status bar and the dashboard keeps working.
	h.syncer.err = errors.New("Stripe is unreachable: dial tcp: i/o timeout")
	m = send(t, m, watchTickMsg{})
	if m.status.flashLevel != levelError || !strings.Contains(m.status.flashText, "sync failed: Stripe is unreachable") ||
		!strings.Contains(m.status.flashText, "retrying in 30s") {
		t.Errorf("flash %q", m.status.flashText)
	}
	if !strings.Contains(m.header.View(), "synced 16:05:00 (just now) · last sync failed") {
		t.Errorf("the header should keep the last good sync beside the failure:\n%s", m.header.View())
	}
	if m = press(t, m, "g"); selectedID(m) != "grp_ch_1001" {
		t.Error("navigation stopped working after a failed sync")
	}
}

func TestSyncNowAndWatchTimer(t *testing.T) {
	h := newHarness(fixtureReport())
	cfg := testConfig()
	cfg.Watch = 30 * time.Second
	var scheduled []time.Duration
	m := New(cfg, h.deps())
	m.after = func(d time.Duration, msg tea.Msg) tea.Cmd {
		if _, ok := msg.(watchTickMsg); ok {
			scheduled = append(scheduled, d)
		}
		return nil
	}
	m = send(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	m = drain(t, m, m.Init())
	if h.syncer.calls != 1 || !slices.Equal(scheduled, []time.Duration{30 * time.Second}) {
		t.Fatalf("Init ran %d syncs and scheduled %v, want a sync now and the next in 30s", h.syncer.calls, scheduled)
	}
	// Progress on the way changes nothing of the outcome.
	h.syncer.progress = []SyncProgress{{Charges: 100, Rate: 50}, {Charges: 200, Rate: 60, Fraction: 1}}
	m = press(t, m, "R")
	if h.syncer.calls != 2 || !strings.Contains(m.status.flashText, "synced: 3 charges updated") || m.status.Busy() {
		t.Errorf("R: %d syncs, flash %q, busy %v", h.syncer.calls, m.status.flashText, m.status.Busy())
	}
	if len(scheduled) != 1 {
		t.Error("a manual sync started a second watch timer")
	}
	// What a sync could not bring yet is said after R (PayPal's lag).
	h.syncer.note = "PayPal through 10:23 UTC: it lists transactions up to 3 h late"
	if m = press(t, m, "R"); !strings.Contains(m.status.flashText, "synced: 3 charges updated; PayPal through 10:23 UTC") {
		t.Errorf("R with a note: flash %q", m.status.flashText)
	}
	m = send(t, m, watchTickMsg{})
	if len(scheduled) != 2 {
		t.Error("the watch timer was not re-armed after its sync")
	}
}

func TestSyncOffWithoutAccount(t *testing.T) {
	h := newHarness(fixtureReport())
	deps := h.deps()
	deps.Syncer = nil
	m := newTestModel(testConfig(), deps)
	m = send(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	m = drain(t, m, m.Init())
	m = press(t, m, "R")
	if h.syncer.calls != 0 || m.sync.Wants(keyMsg("R")) || !strings.Contains(m.header.View(), "sync off") {
		t.Errorf("sync offered without an account:\n%s", m.header.View())
	}
}

func TestLoadingAndLoadErrors(t *testing.T) {
	h := newHarness(fixtureReport())
	m := newTestModel(testConfig(), h.deps())
	m = send(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	if view := m.View(); !strings.Contains(view, "loading groups…") {
		t.Errorf("first frame before the load:\n%s", view)
	}
	if h.store.loads != 0 {
		t.Fatal("Load ran inside Update")
	}
	h.store.loadErr = errors.New("store: file is not a database")
	m = drain(t, m, m.Init())
	if m.status.flashLevel != levelError || !strings.Contains(m.status.flashText, "could not load the groups: store: file is not a database") {
		t.Errorf("flash %q", m.status.flashText)
	}
}

func TestHeader(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*Config)
		want []string
	}{
		{"test mode", nil, []string{"Acme Books (acct_1Nv0FGQ9)", "TEST", "5 open", "1 resolved", "1 dismissed",
			"at risk", "120.00 EUR", "25.00 GBP", "3000 JPY", "64.99 USD", "synced 16:05:00 (just now)",
			"refunded by doublecheck 99.00 USD", "dismissed 20.00 USD", "causes no_key 2 · unknown 2"}},
		{"live read-only dry run", func(c *Config) { c.Live, c.ReadOnly, c.DryRun = true, true, true }, []string{"LIVE", "read-only", "dry run"}},
		{"connected to Stripe and PayPal's sandbox", func(c *Config) {
			c.Providers = []reconcile.Provider{reconcile.ProviderStripe, reconcile.ProviderPayPal}
		}, []string{"Stripe  TEST ", "PayPal  SANDBOX "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			m := newHarness(fixtureReport()).start(t, cfg)
			view := ansi.Strip(m.header.View())
			for _, w := range tt.want {
				if !strings.Contains(view, w) {
					t.Errorf("header lacks %q:\n%s", w, view)
				}
			}
		})
	}
}

// TestHeaderPayPalLive: a dashboard connected to a live PayPal account says
// so before its data does, never Stripe's TEST.
func TestHeaderPayPalLive(t *testing.T) {
	cfg := testConfig()
	cfg.Live, cfg.Providers = true, []reconcile.Provider{reconcile.ProviderPayPal}
	m := newHarness(fixtureReport()).start(t, cfg)
	view := ansi.Strip(m.header.View())
	if first := strings.SplitN(view, "\n", 2)[0]; !strings.Contains(first, "PayPal  LIVE ") || strings.Contains(first, "TEST") {
		t.Errorf("header %q: want PayPal LIVE and no TEST", first)
	}
}

func TestResizeAtAnySize(t *testing.T) {
	m := newHarness(fixtureReport()).start(t, testConfig())
	for _, size := range [][2]int{{0, 0}, {1, 1}, {59, 30}, {60, 14}, {60, 15}, {80, 24}, {100, 30}, {300, 90}} {
		m = send(t, m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for _, keys := range [][]string{nil, {"enter"}, {"esc", "?"}, {"esc", "r"}, {"esc", "/"}} {
			m = press(t, m, keys...)
			view := m.View()
			if size[0] >= minWidth && size[1] >= minHeight {
				if got := strings.Count(view, "\n") + 1; got != size[1] {
					t.Errorf("%v after %v: %d lines", size, keys, got)
				}
			}
		}
		m = press(t, m, "esc", "esc")
	}
}

func TestQuit(t *testing.T) {
	m := newHarness(fixtureReport()).start(t, testConfig())
	for _, k := range []string{"q", "ctrl+c"} {
		_, cmd := m.Update(keyMsg(k))
		if cmd == nil {
			t.Fatalf("%s returned no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%s did not quit", k)
		}
	}
}

func TestRunWithoutTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = saved }()
	err = Run(t.Context(), New(testConfig(), newHarness(fixtureReport()).deps()))
	if !errors.Is(err, ErrNoTerminal) || !strings.Contains(err.Error(), "use `doublecheck scan` for scripts and pipes") {
		t.Errorf("Run without a terminal: %v", err)
	}
}

func TestFirstSyncOfAnEmptyStoreIsTheBaseline(t *testing.T) {
	h := newHarness(withSummary(nil))
	cfg := testConfig()
	cfg.LastSync, cfg.Watch = time.Time{}, time.Minute
	h.syncer.onSync = func() { h.store.report = fixtureReport() }
	m := h.start(t, cfg) // loads nothing, syncs, reloads the fixture
	if len(m.table.rows) != 5 || len(m.table.fresh) != 0 {
		t.Fatalf("after the first sync: %d rows, %d new; want 5 rows, none new", len(m.table.rows), len(m.table.fresh))
	}
	h.syncer.onSync = func() {
		h.store.report.Groups = append(h.store.report.Groups, group("grp_ch_9001", reconcile.High, reconcile.Open,
			reconcile.CauseNoKey, "cus_Late", []string{"2 charges in 5 s"},
			charge("ch_9001", 8*time.Hour, 100, "usd", reconcile.Keep), charge("ch_9002", 8*time.Hour+5*time.Second, 100, "usd", reconcile.Duplicate)))
	}
	m = send(t, m, watchTickMsg{})
	if !m.table.fresh["grp_ch_9001"] || len(m.table.fresh) != 1 {
		t.Errorf("new after the second sync: %v, want grp_ch_9001", m.table.fresh)
	}
	if m.status.flashText != "1 new group found (marked +)" {
		t.Errorf("flash %q", m.status.flashText)
	}
}

func TestSelectionStaysOnTheRowWhenItsGroupLeaves(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "j", "d", "enter") // dismiss grp_ch_2001: it leaves the open list
	if got := selectedID(m); got != "grp_ch_3001" {
		t.Errorf("selected %s, want the next group grp_ch_3001", got)
	}
}

func TestStatusBar(t *testing.T) {
	styles := DefaultStyles()
	long := "exported 20 groups to /home/ops/doublecheck-Acme-Coffee-Roasters-sandbox-20261122-074635.csv"
	tests := []struct {
		name    string
		flash   string
		busy    string
		want    []string
		notWant []string
	}{
		{"flash and position", "showing high only", "", []string{"showing high only", "open · 3/9"}, nil},
		{"a long flash pushes the position out", long, "", []string{long}, []string{"3/9"}},
		{"work in progress shows", "", "refunding 3/7…", []string{"refunding 3/7…", "open · 3/9"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStatusBar(&styles)
			s.SetSize(100)
			s.right = "open · 3/9"
			if tt.flash != "" {
				s.Flash(levelInfo, flashNormal, tt.flash)
			}
			if tt.busy != "" {
				s.Start(activityRefund, tt.busy)
			}
			view := s.View()
			if w := lipgloss.Width(view); w != 100 {
				t.Errorf("width %d, want 100", w)
			}
			for _, w := range tt.want {
				if !strings.Contains(view, w) {
					t.Errorf("%q lacks %q", view, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(view, w) {
					t.Errorf("%q has %q", view, w)
				}
			}
		})
	}
}

func TestMalformedGroupsDoNotCrash(t *testing.T) {
	report := fixtureReport()
	report.Groups = append(report.Groups, reconcile.Group{ID: "grp_empty", Status: reconcile.Open, Verdict: reconcile.Verdict{Confidence: reconcile.High}})
	m := press(t, newHarness(report).start(t, testConfig()), "G", "enter", "r", "esc", "space", "d", "esc")
	if slices.Contains(listedIDs(m), "grp_empty") {
		t.Error("a group without charges is listed")
	}
	_ = m.View()
}

func TestEscClearsTheFilterThenTheMarks(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "space", "space", "/")
	m = typeText(t, m, "example")
	m = press(t, m, "enter", "esc")
	if m.filter.Query() != "" || len(m.table.marked) != 2 {
		t.Fatalf("first esc: query %q, %d marked; want the filter cleared, marks kept", m.filter.Query(), len(m.table.marked))
	}
	m = press(t, m, "esc")
	if len(m.table.marked) != 0 {
		t.Errorf("second esc kept %d marks", len(m.table.marked))
	}
}

// TestRefundBatchSummary: the batch's last word counts each outcome apart, at the
// level of the worst one; a pending or failed refund is never "done".
func TestRefundBatchSummary(t *testing.T) {
	tests := []struct {
		name      string
		fail      map[string]error
		pending   map[string]bool
		dryRun    bool
		wantLevel flashLevel
		wantFlash string
	}{
		{"all refunded", nil, nil, false, levelInfo, "2 refunded"},
		{"one pending", nil, map[string]bool{"ch_2002": true}, false, levelWarn,
			"1 refunded, 1 pending (network failure: will be resumed with the same key); the detail pane says why"},
		{"only failures", map[string]error{"ch_1002": errors.New("x"), "ch_2002": errors.New("y")}, nil, false, levelError,
			"0 refunded, 2 failed; the detail pane says why"},
		{"pending and failed", map[string]error{"ch_1002": errors.New("x")}, map[string]bool{"ch_2002": true}, false, levelError,
			"0 refunded, 1 pending (network failure: will be resumed with the same key), 1 failed; the detail pane says why"},
		{"dry run", nil, nil, true, levelInfo, "2 would be refunded (dry run: nothing sent or recorded)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(fixtureReport())
			h.refunder.fail, h.refunder.pending = tt.fail, tt.pending
			cfg := testConfig()
			cfg.DryRun = tt.dryRun
			m := press(t, h.start(t, cfg), "space", "space", "r", "y")
			if m.status.flashText != tt.wantFlash || m.status.flashLevel != tt.wantLevel {
				t.Errorf("flash %q at level %d, want %q at %d", m.status.flashText, m.status.flashLevel, tt.wantFlash, tt.wantLevel)
			}
		})
	}
}

// TestFirstSyncWhateverWatch: opening the dashboard syncs once whenever there is
// an account; --watch only decides whether it repeats.
func TestFirstSyncWhateverWatch(t *testing.T) {
	for _, watch := range []time.Duration{0, 30 * time.Second} {
		t.Run(watch.String(), func(t *testing.T) {
			h := newHarness(reconcile.Report{})
			cfg := testConfig()
			cfg.Watch, cfg.LastSync = watch, time.Time{}
			h.syncer.onSync = func() { h.store.report = fixtureReport() }
			var timers []time.Duration
			m := New(cfg, h.deps())
			m.after = func(d time.Duration, msg tea.Msg) tea.Cmd {
				if _, ok := msg.(watchTickMsg); ok {
					timers = append(timers, d)
				}
				return nil
			}
			m = send(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
			m = drain(t, m, m.Init())
			if h.syncer.calls != 1 {
				t.Fatalf("opening ran %d syncs, want 1", h.syncer.calls)
			}
			if len(m.table.rows) != 5 {
				t.Errorf("the first sync's groups are not listed: %v", listedIDs(m))
			}
			wantTimers := 0
			if watch > 0 {
				wantTimers = 1
			}
			if len(timers) != wantTimers {
				t.Errorf("%d watch timers armed, want %d", len(timers), wantTimers)
			}
		})
	}
}

// TestResumePendingRefunds: pending refunds are resumed at start and after each
// successful sync, and what became of them shows in the status bar and the
// detail pane.
func TestResumePendingRefunds(t *testing.T) {
	h := newHarness(fixtureReport())
	resumer := &fakeResumer{batches: [][]RefundResult{
		{{ChargeID: "ch_1002", RefundID: "re_1002"}, {ChargeID: "ch_3002", Err: errors.New("the charge is disputed")}},
		{{ChargeID: "ch_2002", RefundID: "re_2002"}},
	}}
	deps := h.deps()
	deps.Resumer = resumer
	m := newTestModel(testConfig(), deps)
	m = send(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	// The groups are loaded before the resume has answered: no new refund yet.
	report := fixtureReport()
	early := send(t, m, reportLoadedMsg{seq: m.loadSeq, report: report, index: newSearchIndex(report.Groups)})
	if early = press(t, early, "r"); early.dialog() == modeConfirm || early.status.flashText != "pending refunds are being resumed; try again in a moment" {
		t.Errorf("r while resuming: modal %v, flash %q", early.dialog(), early.status.flashText)
	}
	m = drain(t, m, m.Init())
	// Init resumes, and so does the first sync's success: both batches are used.
	if resumer.calls != 2 {
		t.Fatalf("resumed %d times, want at start and after the first sync", resumer.calls)
	}
	if got := m.refund.Outcomes()["ch_3002"]; got != "refund failed: the charge is disputed" {
		t.Errorf("ch_3002 outcome %q", got)
	}
	if got := m.refund.Outcomes()["ch_1002"]; got != "refunded re_1002" {
		t.Errorf("ch_1002 outcome %q", got)
	}

	tests := []struct {
		name      string
		results   []RefundResult
		err       error
		wantLevel flashLevel
		wantFlash string
	}{
		{"refunded", []RefundResult{{ChargeID: "ch_1002", RefundID: "re_1"}, {ChargeID: "ch_2002", RefundID: "re_2"}}, nil,
			levelInfo, "resumed 2 pending refunds: 2 refunded"},
		{"still pending", []RefundResult{{ChargeID: "ch_1002", Pending: true}}, nil, levelWarn,
			"resumed 1 pending refund: 0 refunded, 1 pending (network failure: will be resumed with the same key) — ch_1002 pending: the outcome is unknown"},
		{"failed", []RefundResult{{ChargeID: "ch_1002", Err: errors.New("already refunded outside doublecheck")}}, nil, levelError,
			"resumed 1 pending refund: 0 refunded, 1 failed — ch_1002 refund failed: already refunded outside doublecheck"},
		{"ledger unreadable", nil, errors.New("store: database is locked"), levelError,
			"could not resume pending refunds: store: database is locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := m
			m.refund.outcomes = map[string]string{}
			resumer.batches, resumer.err = [][]RefundResult{tt.results}, tt.err
			m = press(t, m, "R") // a successful sync resumes
			if m.status.flashText != tt.wantFlash || m.status.flashLevel != tt.wantLevel {
				t.Errorf("flash %q at %d, want %q at %d", m.status.flashText, m.status.flashLevel, tt.wantFlash, tt.wantLevel)
			}
		})
	}

	t.Run("nothing pending, failed sync", func(t *testing.T) {
		calls := resumer.calls
		resumer.batches, resumer.err = nil, nil
		m := m
		m.status.Expire(m.status.flashID) // the start's resumed outcome, which a sync's message would not replace
		m = press(t, m, "R")
		if !strings.HasPrefix(m.status.flashText, "synced:") {
			t.Errorf("nothing pending changed the flash to %q", m.status.flashText)
		}
		h.syncer.err = errors.New("offline")
		defer func() { h.syncer.err = nil }()
		press(t, m, "R")
		if resumer.calls != calls+1 {
			t.Errorf("resumed %d times, want once (after the successful sync only)", resumer.calls-calls)
		}
	})
}

// TestEmptyListSaysWhy: an empty list tells loading, a first sync, a filter
// matching nothing and groups hidden by the filters apart from a clean account.
func TestEmptyListSaysWhy(t *testing.T) {
	closed := fixtureReport()
	closed.Groups = closed.Groups[5:] // one resolved, one dismissed
	mediumOnly := fixtureReport()
	mediumOnly.Groups = []reconcile.Group{mediumOnly.Groups[2], mediumOnly.Groups[3], mediumOnly.Groups[4]}
	tests := []struct {
		name   string
		report reconcile.Report
		keys   []string
		want   string
	}{
		{"clean account", reconcile.Report{}, nil, "no duplicate charges found: nothing to do"},
		{"filter matches nothing", fixtureReport(), []string{"/", "z", "z", "z", "z"}, `no groups match "zzzz" (esc clears the filter)`},
		{"status hides the rest", closed, nil, "no open groups; 2 in other views (s)"},
		{"confidence hides the rest", mediumOnly, []string{"f", "f"}, "no open groups at high only; 3 more at lower confidence (f)"},
		{"both hide", closed, []string{"f", "f"}, "no open groups at high only; 1 in other views (s)"}, // the dismissed medium one needs both
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := press(t, newHarness(tt.report).start(t, testConfig()), tt.keys...)
			if len(m.table.rows) != 0 {
				t.Fatalf("listed %v", listedIDs(m))
			}
			if view := m.table.View(); !strings.Contains(view, tt.want) {
				t.Errorf("table says\n%s\nwant %q", view, tt.want)
			}
		})
	}

	t.Run("first load and first sync", func(t *testing.T) {
		h := newHarness(reconcile.Report{})
		cfg := testConfig()
		cfg.LastSync = time.Time{}
		m := send(t, newTestModel(cfg, h.deps()), tea.WindowSizeMsg{Width: 100, Height: 30})
		if m.table.empty != "loading…" {
			t.Errorf("before the first load: %q", m.table.empty)
		}
		// The sync is under way (its command not run yet) when the empty load lands.
		next, _ := m.Update(watchTickMsg{})
		next, _ = next.(Model).Update(reportLoadedMsg{seq: m.loadSeq})
		m = next.(Model)
		if !strings.Contains(m.table.View(), "syncing for the first time…") {
			t.Errorf("during the first sync:\n%s", m.table.View())
		}
		// Its progress, as doublecheck sync shows it, in the table and the status bar.
		events := make(chan tea.Msg)
		close(events) // the sync's next message: none here
		m = send(t, m, syncProgressMsg{progress: SyncProgress{Charges: 1200, Fraction: 0.4, Rate: 300, ETA: 6 * time.Second}, events: events})
		const progress = "1200 charges so far · 40% · 300 charges/s · ETA 6s"
		if !strings.Contains(m.table.View(), "syncing for the first time: "+progress) {
			t.Errorf("the first sync's progress:\n%s", m.table.View())
		}
		if !strings.Contains(m.status.View(), "syncing: "+progress) {
			t.Errorf("the status bar: %q", m.status.View())
		}
		m = send(t, m, syncDoneMsg{err: errors.New("offline")})
		if !strings.Contains(m.table.View(), "nothing stored yet: the first sync failed (R retries)") {
			t.Errorf("after a failed first sync:\n%s", m.table.View())
		}
	})
}

// TestFooterAndFullHelp: ? and q are never cut off the footer, and the full help
// lists every key of the list and the detail pane, whatever is selected.
func TestFooterAndFullHelp(t *testing.T) {
	list := newHarness(fixtureReport()).start(t, testConfig())
	detail := press(t, list, "enter")
	for width := minWidth; width <= 250; width++ {
		for pane, m := range map[string]Model{"list": list, "detail": detail} {
			m = send(t, m, tea.WindowSizeMsg{Width: width, Height: 30})
			// Every key shows, or the footer says ? shows the others.
			footer := m.footerView()
			cut := strings.HasSuffix(footer, "? more keys • q quit")
			if !(cut || strings.HasSuffix(footer, "? help • q quit")) || lipgloss.Width(footer) > width {
				t.Errorf("at %d columns the %s footer is %q", width, pane, footer)
			}
			if width >= 230 && cut {
				t.Errorf("at %d columns the %s footer hides keys: %q", width, pane, footer)
			}
		}
	}
	m := press(t, newHarness(fixtureReport()).start(t, testConfig()), "?")
	help := m.helpView.View()
	for _, want := range []string{"enter/tab details", "esc/tab back to list", "u undo dismiss", "esc clear filter", "esc clear marks", "d dismiss", "r refund"} {
		k, desc, _ := strings.Cut(want, " ")
		if !regexp.MustCompile(regexp.QuoteMeta(k) + ` +` + regexp.QuoteMeta(desc)).MatchString(help) {
			t.Errorf("full help lacks %q:\n%s", want, help)
		}
	}
	if m = press(t, m, "?"); m.dialog() != modeList {
		t.Error("? did not close the help")
	}
}

// TestSmallestTerminalKeepsThreeRows: at the 60×15 minimum the list shows at
// least three groups; the detail pane, without a line of its own there, comes
// back when it takes the focus.
func TestSmallestTerminalKeepsThreeRows(t *testing.T) {
	m := send(t, newHarness(fixtureReport()).start(t, testConfig()), tea.WindowSizeMsg{Width: minWidth, Height: minHeight})
	if rows := m.table.Height() - 1; rows < 3 {
		t.Errorf("the table shows %d rows at %d×%d, want at least 3", rows, minWidth, minHeight)
	}
	for _, m := range []Model{m, press(t, m, "enter")} {
		if lines := strings.Count(m.View(), "\n") + 1; lines > minHeight {
			t.Errorf("the screen has %d lines at %d×%d", lines, minWidth, minHeight)
		}
	}
	if m = press(t, m, "enter"); !strings.Contains(m.View(), "cause new_key_per_retry") {
		t.Errorf("the focused detail pane does not show:\n%s", m.View())
	}
}

// TestHelpFitsAndScrolls: at 80×24 and at the 60×15 minimum the help screen
// is no wider than the terminal, and scrolling it shows every key.
func TestHelpFitsAndScrolls(t *testing.T) {
	want := []string{"enter/tab", "esc/tab", "/", "f", "s", "S", "space", "d", "u", "r", "R", "e", "ctrl+c"}
	for _, size := range []tea.WindowSizeMsg{{Width: 80, Height: 24}, {Width: 60, Height: 15}} {
		t.Run(fmt.Sprintf("%dx%d", size.Width, size.Height), func(t *testing.T) {
			m := press(t, send(t, newHarness(fixtureReport()).start(t, testConfig()), size), "?")
			var seen strings.Builder
			for range 40 {
				view := m.View()
				if lines := strings.Split(view, "\n"); len(lines) > size.Height {
					t.Fatalf("the screen has %d lines, the terminal %d", len(lines), size.Height)
				}
				for _, l := range strings.Split(view, "\n") {
					if lipgloss.Width(l) > size.Width {
						t.Fatalf("a line is %d wide at %d columns: %q", lipgloss.Width(l), size.Width, l)
					}
				}
				seen.WriteString(m.helpView.View())
				m = press(t, m, "j")
			}
			for _, k := range want {
				if !regexp.MustCompile(`(^|\s)` + regexp.QuoteMeta(k) + ` +\w`).MatchString(seen.String()) {
					t.Errorf("scrolling the help never shows %q", k)
				}
			}
		})
	}
}

// TestHeaderNeverCutsMoney: at any width every money figure shows whole; when
// the counts and the risk do not fit on one line the risk gets its own, and the
// frame still fills the terminal exactly.
func TestHeaderNeverCutsMoney(t *testing.T) {
	report := fixtureReport()
	for i, cur := range []string{"chf", "sek", "nok", "dkk", "pln"} { // eight currencies at risk
		id := fmt.Sprintf("ch_9%d01", i)
		report.Groups = append(report.Groups, group("grp_"+id, reconcile.High, reconcile.Open, reconcile.CauseNoKey, "cus_X",
			[]string{"2 charges in 5 s"}, charge(id, 0, 500000, cur, reconcile.Keep), charge(id+"b", 5*time.Second, 500000, cur, reconcile.Duplicate)))
	}
	report = withSummary(report.Groups)
	var figures []string
	for _, c := range report.Summary.ByCurrency {
		figures = append(figures, reconcile.FormatMoney(c.AtRisk, c.Currency))
	}
	m := newHarness(report).start(t, testConfig())
	for width := minWidth; width <= 220; width++ {
		m = send(t, m, tea.WindowSizeMsg{Width: width, Height: 30})
		header := m.header.View()
		for _, f := range append(figures, "99.00 USD", "20.00 USD") {
			if !strings.Contains(header, f) {
				t.Fatalf("at %d columns the header cuts %q:\n%s", width, f, header)
			}
		}
		if got := strings.Count(m.View(), "\n") + 1; got != 30 {
			t.Fatalf("at %d columns the frame is %d lines, want 30", width, got)
		}
	}
}

// TestRefundDialogLowConfidence: a low-confidence group shows its warning and
// the batch wants the typed word, even in test mode.
func TestRefundDialogLowConfidence(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "G", "r") // grp_ch_5001, low
	view := m.refund.View()
	for _, want := range []string{"grp_ch_5001  low confidence", "LOW CONFIDENCE: likely a separate purchase — different order_id on each charge",
		"type refund and press enter"} {
		if !strings.Contains(view, want) {
			t.Errorf("dialog lacks %q:\n%s", want, view)
		}
	}
	for width := minWidth; width <= 130; width++ {
		if got := lipgloss.Width(send(t, m, tea.WindowSizeMsg{Width: width, Height: 30}).refund.View()); got > width {
			t.Fatalf("at %d columns the dialog is %d wide", width, got)
		}
	}
	if m = press(t, m, "y"); m.dialog() != modeConfirm || h.refunder.calls != 0 {
		t.Fatal("y confirmed a low-confidence batch")
	}
	if m = press(t, m, "enter"); m.dialog() != modeList || h.refunder.calls != 0 {
		t.Fatal("a stray enter did not cancel")
	}
	m = typeText(t, press(t, m, "r"), "refund")
	if m = press(t, m, "enter"); h.refunder.calls != 1 || h.refunder.requests[0].ChargeID != "ch_5002" {
		t.Fatalf("typing refund did not refund ch_5002: %+v", h.refunder.requests)
	}

	// High-confidence groups show their confidence and headline, and y confirms.
	m = press(t, newHarness(fixtureReport()).start(t, testConfig()), "r")
	if view := m.refund.View(); !strings.Contains(view, "grp_ch_1001  high confidence") ||
		!strings.Contains(view, "same order_id o-1234 with 2 different idempotency keys") || m.refund.dialog.typed {
		t.Errorf("high-confidence dialog (typed %v):\n%s", m.refund.dialog.typed, view)
	}
}

// TestRefundDialogScrollsToConfirm: on a short terminal every charge can be
// scrolled to, and confirming stays off until the end of the list was seen.
func TestRefundDialogScrollsToConfirm(t *testing.T) {
	report := fixtureReport()
	report.Groups = report.Groups[:4] // no low-confidence group: y confirms once allowed
	h := newHarness(withSummary(report.Groups))
	m := send(t, h.start(t, testConfig()), tea.WindowSizeMsg{Width: 100, Height: 20})
	m = press(t, m, "space", "space", "space", "space", "r")
	if !m.refund.dialog.scrollable() || m.refund.dialog.seenAll {
		t.Fatalf("the listing fits at 100×20: %d lines in %d", m.refund.dialog.body.TotalLineCount(), m.refund.dialog.body.Height)
	}
	for width := minWidth; width <= 130; width++ { // the whole frame, right border included, fits
		if got := lipgloss.Width(send(t, m, tea.WindowSizeMsg{Width: width, Height: 20}).refund.View()); got > width {
			t.Fatalf("at %d columns the dialog is %d wide", width, got)
		}
	}
	for height := minHeight; height <= 20; height++ { // the buttons and the bottom border always show
		if view := send(t, m, tea.WindowSizeMsg{Width: minWidth, Height: height}).View(); !strings.Contains(view, "[Cancel]") || !strings.Contains(view, "╰") {
			t.Fatalf("at %d×%d the dialog is cut:\n%s", minWidth, height, view)
		}
	}
	if footer := m.footerView(); !strings.Contains(footer, "scroll to the end to confirm") || strings.Contains(footer, "y refund") {
		t.Errorf("footer before scrolling: %s", footer)
	}
	if m = press(t, m, "y", "tab", "enter"); m.dialog() != modeConfirm || h.refunder.calls != 0 {
		t.Fatal("confirmed before the end of the list was seen")
	}
	seen := map[string]bool{}
	for i := 0; ; i++ {
		if i > 50 {
			t.Fatal("j never reaches the end of the list")
		}
		for _, id := range []string{"ch_1001", "ch_1002", "ch_2001", "ch_2002", "ch_2003", "ch_3001", "ch_3002", "ch_4001", "ch_4002"} {
			if strings.Contains(m.View(), id) {
				seen[id] = true
			}
		}
		if m.refund.dialog.seenAll {
			break
		}
		m = press(t, m, "j")
	}
	if len(seen) != 9 {
		t.Errorf("charges seen while scrolling: %v", seen)
	}
	if strings.Count(m.View(), "\n")+1 != 20 {
		t.Error("the dialog pushed the frame past the terminal")
	}
	if m = press(t, m, "k", "y"); h.refunder.calls != 1 || len(h.refunder.requests) != 4 {
		t.Fatalf("after scrolling to the end y did not refund the 4 suspects: %d calls, %+v", h.refunder.calls, h.refunder.requests)
	}
}

// TestDetailPaneShowsTheDismissalNote: a dismissed group says who dismissed it,
// when, and why.
func TestDetailPaneShowsTheDismissalNote(t *testing.T) {
	m := press(t, newHarness(fixtureReport()).start(t, testConfig()), "s", "G") // grp_ch_7001, dismissed
	content := m.detail.render(m.table.Selected(), nil)
	if want := "dismissed by sam at 2026-11-20 19:40: repeat purchase: the customer bought a second ticket"; !strings.Contains(content, want) {
		t.Errorf("detail lacks %q:\n%s", want, content)
	}
	if content := m.detail.render(&m.report.Groups[0], nil); strings.Contains(content, "dismissed by") {
		t.Errorf("an open group shows a dismissal:\n%s", content)
	}
}

// TestTooSmallTerminalOnlyQuits: while the terminal is below the minimum the
// dialog is hidden, so its keys (and every other key but quit) do nothing; a
// dialog that no longer fits after a resize must be scrolled to its end again
// before it can be confirmed.
func TestTooSmallTerminalOnlyQuits(t *testing.T) {
	report := fixtureReport()
	report.Groups = report.Groups[:4] // no low-confidence group: y confirms once allowed
	tests := []struct {
		name       string
		size       tea.WindowSizeMsg // the terminal after the dialog was seen in full
		keys       []string
		wantCalls  int
		wantModal  mode
		wantQuit   bool
		wantScroll bool // the listing must be seen to its end again
	}{
		{"y on the too-small screen sends nothing", tea.WindowSizeMsg{Width: 40, Height: 10}, []string{"y"}, 0, modeConfirm, false, false},
		{"tab enter on the too-small screen sends nothing", tea.WindowSizeMsg{Width: 100, Height: 10}, []string{"tab", "enter"}, 0, modeConfirm, false, false},
		{"esc on the too-small screen does nothing", tea.WindowSizeMsg{Width: 40, Height: 40}, []string{"esc", "y"}, 0, modeConfirm, false, false},
		{"q quits on the too-small screen", tea.WindowSizeMsg{Width: 40, Height: 10}, []string{"q"}, 0, modeConfirm, true, false},
		{"a dialog that no longer fits wants its end seen again", tea.WindowSizeMsg{Width: 100, Height: 20}, []string{"y"}, 0, modeConfirm, false, true},
		{"a dialog that still fits confirms", tea.WindowSizeMsg{Width: 110, Height: 45}, []string{"y"}, 1, modeList, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(withSummary(report.Groups))
			m := send(t, h.start(t, testConfig()), tea.WindowSizeMsg{Width: 120, Height: 50})
			m = press(t, m, "space", "space", "space", "space", "r")
			if m.dialog() != modeConfirm || !m.refund.dialog.seenAll {
				t.Fatalf("the dialog should be open and seen in full at 120×50")
			}
			m = send(t, m, tc.size)
			var quit bool
			for _, k := range tc.keys {
				next, cmd := m.Update(keyMsg(k))
				m = next.(Model)
				if cmd != nil {
					if _, ok := cmd().(tea.QuitMsg); ok {
						quit = true
						continue
					}
				}
				m = drain(t, m, cmd)
			}
			if h.refunder.calls != tc.wantCalls || m.dialog() != tc.wantModal || quit != tc.wantQuit {
				t.Fatalf("refunds %d, modal %v, quit %v; want %d, %v, %v", h.refunder.calls, m.dialog(), quit, tc.wantCalls, tc.wantModal, tc.wantQuit)
			}
			if tc.wantScroll && m.refund.dialog.seenAll {
				t.Errorf("the dialog no longer fits but still counts as seen to its end")
			}
		})
	}
}

// TestPendingRefundShowsInTheDashboard: a group whose refund was begun and not
// finished is listed among the groups to act on as pending (never plain
// open), the header counts it, the detail pane gives the command that
// finishes it, and r finishes it with its stored key.
func TestPendingRefundShowsInTheDashboard(t *testing.T) {
	dup := charge("ch_9002", time.Minute, 2500, "usd", reconcile.Duplicate)
	dup.InFlight = []reconcile.RefundRequest{{Key: "doublecheck-refund-ch_9002-0-2500", ChargeID: "ch_9002", KeptChargeID: "ch_9001",
		GroupID: "grp_ch_9001", Amount: 2500, Currency: "usd"}}
	g := group("grp_ch_9001", reconcile.High, reconcile.Pending, reconcile.CauseNoKey, "cus_9", []string{"2 charges in 60 s"},
		charge("ch_9001", 0, 2500, "usd", reconcile.Keep), dup)
	h := newHarness(withSummary([]reconcile.Group{g}))
	cfg := testConfig()
	cfg.Resume = reconcile.ResumeTarget{Store: "/srv/a.db"}
	m := h.start(t, cfg)
	view := m.View()
	for _, want := range []string{"pending", "1 pending", "doublecheck refund --resume --db /srv/a.db"} {
		if !strings.Contains(view, want) {
			t.Errorf("the dashboard lacks %q:\n%s", want, view)
		}
	}
	if ids := listedIDs(m); !slices.Equal(ids, []string{"grp_ch_9001"}) {
		t.Fatalf("listed %v, want the pending group among the groups to act on", ids)
	}
	m = press(t, m, "r", "y")
	if !slices.Equal(h.refunder.requests, dup.InFlight) {
		t.Errorf("r sent %+v, want the refund in flight with its stored key", h.refunder.requests)
	}
}

// stoppableRefunder is a Stripe that never answers: each refund runs until
// its context is cancelled, then stays pending, as the Refunder reports it.
type stoppableRefunder struct{ sawCancelled bool }

func (r *stoppableRefunder) Refund(ctx context.Context, reqs []reconcile.RefundRequest, progress func(RefundResult)) error {
	if ctx.Err() == nil {
		return errors.New("the batch ran to its end: nothing stopped it")
	}
	r.sawCancelled = true
	progress(RefundResult{ChargeID: reqs[0].ChargeID, Pending: true, Err: errors.New("no answer from Stripe (interrupted)")})
	return ctx.Err()
}

// TestStopRefunds: while a batch runs, x stops it: its context is cancelled
// (nothing more is sent, the refund in flight stays pending) and the status
// bar says so with the command that finishes it.
func TestStopRefunds(t *testing.T) {
	refunder := &stoppableRefunder{}
	deps := newHarness(fixtureReport()).deps()
	deps.Refunder = refunder
	m := press(t, startWith(t, testConfig(), deps), "r")
	next, confirmed := m.Update(keyMsg("y"))
	next, run := next.(Model).Update(intent[refundConfirmedMsg](t, confirmed)) // the batch starts; its command has not run yet
	m = next.(Model)
	if !m.refund.running || !strings.Contains(m.footerView(), "x stop refunds") {
		t.Fatalf("refunding %v, footer %q: want x offered while the batch runs", m.refund.running, m.footerView())
	}
	m = press(t, m, "x")
	m = drain(t, m, run)
	if !refunder.sawCancelled {
		t.Fatal("x did not cancel the batch's context")
	}
	if m.refund.running || !strings.Contains(m.status.flashText, "refunds stopped by you") || !strings.Contains(m.status.flashText, reconcile.ResumeCommand(reconcile.ResumeTarget{})) {
		t.Errorf("refunding %v, flash %q: want stopped, with the resume command", m.refund.running, m.status.flashText)
	}
}

// blockingResumer is a Stripe that never answers a resume, once armed: the
// resume runs until its context is cancelled, its refund left pending. The
// time limit only keeps a resume nothing cancels from hanging the test.
type blockingResumer struct{ armed, sawCancelled bool }

func (r *blockingResumer) Resume(ctx context.Context) ([]RefundResult, error) {
	if !r.armed {
		return nil, nil
	}
	select {
	case <-ctx.Done():
		r.sawCancelled = true
		return []RefundResult{{ChargeID: "ch_1002", Pending: true, Err: errors.New("no answer from Stripe (interrupted)")}}, ctx.Err()
	case <-time.After(10 * time.Second):
		return nil, errors.New("the resume ran to its end: nothing stopped it")
	}
}

// TestStopResume: while pending refunds are resumed (r is off then), x stops
// the resume, the one Init starts and one a sync starts alike: its context is
// cancelled, the refunds stay pending, the status bar says so with the
// command that finishes them, and r works again.
func TestStopResume(t *testing.T) {
	tests := []struct {
		name  string
		start func(t *testing.T, deps Deps, resumer *blockingResumer) (Model, tea.Cmd) // the resume's command not run yet
	}{
		{"at start", func(t *testing.T, deps Deps, resumer *blockingResumer) (Model, tea.Cmd) {
			deps.Syncer = nil // no sync to resume again
			resumer.armed = true
			m := send(t, newTestModel(testConfig(), deps), tea.WindowSizeMsg{Width: 100, Height: 30})
			return m, m.Init()
		}},
		{"after a sync", func(t *testing.T, deps Deps, resumer *blockingResumer) (Model, tea.Cmd) {
			m := startWith(t, testConfig(), deps)
			resumer.armed = true
			next, run := m.Update(syncDoneMsg{at: time.Now()}) // a good sync resumes
			return next.(Model), run
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resumer := &blockingResumer{}
			deps := newHarness(fixtureReport()).deps()
			deps.Resumer = resumer
			m, run := tt.start(t, deps, resumer)
			if m.refund.Resuming() == "" || !strings.Contains(m.footerView(), "x stop refunds") {
				t.Fatalf("resuming %q, footer %q: want x offered while the resume runs", m.refund.Resuming(), m.footerView())
			}
			m = press(t, m, "x")
			m = drain(t, m, run)
			if !resumer.sawCancelled {
				t.Fatal("x did not cancel the resume's context")
			}
			if m.refund.Resuming() != "" || !strings.Contains(m.status.flashText, "stopped by you") ||
				!strings.Contains(m.status.flashText, reconcile.ResumeCommand(reconcile.ResumeTarget{})) || !strings.Contains(m.status.flashText, "ch_1002") {
				t.Errorf("resuming %q, flash %q: want stopped, naming the pending refund and the resume command", m.refund.Resuming(), m.status.flashText)
			}
			if m = press(t, m, "r"); m.dialog() != modeConfirm {
				t.Errorf("r after the stopped resume: modal %v, flash %q; want the refund dialog", m.dialog(), m.status.flashText)
			}
		})
	}
}

// TestConfirmedRefundsArePlannedOnce: from the moment the dialog is
// confirmed, before the root has started the batch, r plans nothing: a second
// dialog would send the same refunds again.
func TestConfirmedRefundsArePlannedOnce(t *testing.T) {
	h := newHarness(fixtureReport())
	m := press(t, h.start(t, testConfig()), "r")
	next, confirmed := m.Update(keyMsg("y")) // the confirmation is not delivered yet
	m = press(t, next.(Model), "r")
	if m.dialog() == modeConfirm {
		t.Fatal("r opened a second refund dialog before the first batch started")
	}
	m = drain(t, m, confirmed)
	if h.refunder.calls != 1 || len(h.refunder.requests) != 1 {
		t.Errorf("%d batches of %d refunds, want one of 1", h.refunder.calls, len(h.refunder.requests))
	}
}

// TestRefundDialogRefusesYUnseen: the dialog itself refuses y while the end of
// its listing has not been seen, even with the y binding enabled.
func TestRefundDialogRefusesYUnseen(t *testing.T) {
	styles := DefaultStyles()
	plan := reconcile.RefundPlan{Totals: map[string]int64{"usd": 4000}, Groups: 1}
	for i := range 40 {
		rq := reconcile.RefundRequest{ChargeID: fmt.Sprintf("ch_%d", i), GroupID: "grp_1", Amount: 100, Currency: "usd"}
		plan.Requests = append(plan.Requests, rq)
		plan.Lines = append(plan.Lines, reconcile.PlanLine{Kind: reconcile.PlanRefund, GroupID: "grp_1", ChargeID: rq.ChargeID, Amount: 100, Currency: "usd"})
	}
	d := newRefundDialog(&styles, plan, false, false)
	d.SetSize(80, 12)
	if d.seenAll {
		t.Fatal("a 40-line listing fits in 12 rows")
	}
	d.keys.Confirm.SetEnabled(true) // as if a binding were wrongly left on
	if result, _ := d.update(keyMsg("y")); result == dialogConfirmed {
		t.Fatal("y confirmed a refund whose listing was never seen to its end")
	}
	for range 100 {
		d, _, _ = d.Update(keyMsg("pgdown"))
	}
	if _, result, _ := d.Update(keyMsg("y")); result != dialogConfirmed {
		t.Errorf("y after seeing the whole listing gave %v, want confirmed", result)
	}
}

// TestReadOnlyStoreSaysWhySyncIsOff: a dashboard on a store it may not write
// says so where sync would show, and refunds are off.
func TestReadOnlyStoreSaysWhySyncIsOff(t *testing.T) {
	h := newHarness(fixtureReport())
	cfg := testConfig()
	cfg.ReadOnly, cfg.SyncOff = true, "the store is read-only"
	m := startWith(t, cfg, Deps{Loader: h.store, Decider: h.store})
	if view := m.View(); !strings.Contains(view, "sync off: the store is read-only") || !strings.Contains(view, "read-only") {
		t.Errorf("the header does not say why sync is off:\n%s", view)
	}
	if m = press(t, m, "r"); m.dialog() == modeConfirm {
		t.Error("r opened the refund dialog on a read-only store")
	}
}
