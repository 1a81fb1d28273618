package cli

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/store"
)

// TestDashboardDecisionsReachTheStore follows the dashboard's dismiss and undo
// through the adapters it is wired with: decisions land in the real store and
// re-detection reads them back, for every marked group at once.
func TestDashboardDecisionsReachTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, stderr := runCLI(t, "", "import", sampleCharges, "--db", db); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	loader, dec := detector{st, reconcile.DefaultOptions()}, decider{st}
	report, err := loader.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	marked := []string{report.Groups[0].ID, report.Groups[1].ID}
	statusOf := func() map[string]reconcile.Status {
		t.Helper()
		r, err := loader.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]reconcile.Status{}
		for _, g := range r.Groups {
			out[g.ID] = g.Status
		}
		return out
	}
	decide := func(kind reconcile.DecisionKind) {
		t.Helper()
		var ds []reconcile.Decision
		for _, id := range marked {
			ds = append(ds, reconcile.Decision{GroupID: id, Kind: kind, Operator: "ana", Note: "regular customer"})
		}
		if err := dec.Decide(ctx, ds); err != nil {
			t.Fatal(err)
		}
	}

	decide(reconcile.DecisionDismissed)
	status := statusOf()
	for _, id := range marked {
		if status[id] != reconcile.Dismissed {
			t.Errorf("group %s is %s after dismissing it, want dismissed", id, status[id])
		}
	}
	decide(reconcile.DecisionUndismissed)
	status = statusOf()
	for _, id := range marked {
		if status[id] != reconcile.Open {
			t.Errorf("group %s is %s after undoing the dismissal, want open", id, status[id])
		}
	}
}
