package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// fakeWatcher is a shared store's activity, changed by the test.
type fakeWatcher struct {
	mu     sync.Mutex
	mark   string
	latest Activity
}

func (w *fakeWatcher) Activity(context.Context) (string, Activity, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mark, w.latest, nil
}

func (w *fakeWatcher) set(mark string, a Activity) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.mark, w.latest = mark, a
}

// Another operator's work on a shared store reloads an open dashboard at the
// next poll and says who did what, when; the operator's own work, or no work,
// reloads nothing more.
func TestOthersActivityReloadsTheDashboard(t *testing.T) {
	h := newHarness(fixtureReport())
	w := &fakeWatcher{mark: "1"}
	deps := h.deps()
	deps.Watcher = w
	m := startWith(t, testConfig(), deps)
	m = send(t, m, tea.WindowSizeMsg{Width: 160, Height: 30}) // room in the header for who did what
	loads := func() int {
		h.store.mu.Lock()
		defer h.store.mu.Unlock()
		return h.store.loads
	}
	start := loads()

	tests := []struct {
		name       string
		mark       string
		latest     Activity
		reload     bool
		wantHeader string
	}{
		{"nothing changed", "1", Activity{}, false, ""},
		{"ann dismissed a group", "2", Activity{Operator: "ann", At: time.Date(2026, 11, 29, 13, 40, 5, 0, time.UTC), What: "dismissed grp_1"}, true, "ann dismissed grp_1 at 13:40:05 UTC"},
		{"the operator's own refund", "3", Activity{Operator: "ops@acme.test", At: time.Date(2026, 11, 29, 13, 41, 0, 0, time.UTC), What: "refunded ch_9"}, true, "ann dismissed grp_1 at 13:40:05 UTC"},
	}
	for _, tt := range tests {
		w.set(tt.mark, tt.latest)
		before := loads()
		m = send(t, m, activityTickMsg{})
		if reloaded := loads() > before; reloaded != tt.reload {
			t.Errorf("%s: reloaded %v, want %v", tt.name, reloaded, tt.reload)
		}
		if header := m.header.View(); tt.wantHeader != "" && !strings.Contains(header, tt.wantHeader) {
			t.Errorf("%s: the header does not say %q:\n%s", tt.name, tt.wantHeader, header)
		}
		if tt.reload && tt.latest.Operator == "ann" && !strings.Contains(m.View(), tt.wantHeader) {
			t.Errorf("%s: the status bar does not say %q", tt.name, tt.wantHeader)
		}
		if strings.Contains(m.header.View(), "refunded ch_9") {
			t.Errorf("%s: the header shows the operator's own work as another's", tt.name)
		}
	}
	if loads() == start {
		t.Error("no reload at all")
	}
	if !strings.Contains(m.header.View(), "as ops@acme.test") {
		t.Errorf("the header does not name the operator:\n%s", m.header.View())
	}
}

// elsewhereErr is a Syncer's answer while another operator syncs the store.
type elsewhereErr struct{}

func (elsewhereErr) Error() string       { return "sync running by ann since 13:40:02 UTC" }
func (elsewhereErr) SyncElsewhere() bool { return true }

// A sync refused because another operator's runs is no failure: the status
// bar says who runs it, and the header does not call the last sync failed.
func TestSyncRunningElsewhereIsNoFailure(t *testing.T) {
	h := newHarness(fixtureReport())
	h.syncer.err = elsewhereErr{}
	m := h.start(t, testConfig())
	m = press(t, m, "R")
	view := m.View()
	if !strings.Contains(view, "sync running by ann") {
		t.Errorf("the dashboard does not say who syncs:\n%s", view)
	}
	if strings.Contains(view, "sync failed") || strings.Contains(m.header.View(), "last sync failed") {
		t.Errorf("another operator's sync reads as a failure:\n%s", view)
	}
}
