package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
)

// storedDecisions are the decisions the store holds for group.
func storedDecisions(t *testing.T, db, group string) []reconcile.Decision {
	t.Helper()
	st, err := store.OpenReadOnly(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in, err := st.LoadInput(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []reconcile.Decision
	for _, d := range in.Decisions {
		if d.GroupID == group {
			out = append(out, d)
		}
	}
	return out
}

// TestDismissAndUndoCommands: the headless dismiss and undo record what the
// dashboard records (the same decision, its operator and note, the charges
// the dismissal covers), and re-detection reads them back.
func TestDismissAndUndoCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, stderr := runCLI(t, "", "import", sampleCharges, "--db", db); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	var group string
	var charges []string
	for _, g := range scanStore(t, db).Groups {
		if g.Status == "open" {
			group = g.ID
			for _, c := range g.Charges {
				charges = append(charges, c.ID)
			}
			break
		}
	}
	if group == "" {
		t.Fatal("the sample has no open group")
	}
	statusOf := func() string {
		t.Helper()
		for _, g := range scanStore(t, db).Groups {
			if g.ID == group {
				return g.Status
			}
		}
		t.Fatalf("group %s is gone", group)
		return ""
	}

	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string // on stdout
		wantErr    string // on stderr
		wantStatus string
		decisions  int // stored for the group after the step
	}{
		{"a dry run records nothing", []string{"dismiss", "--group", group, "--dry-run"},
			0, "dry run, nothing recorded: would have dismissed " + group, "", "open", 0},
		{"dismiss with a note", []string{"dismiss", "--group", group, "--note", " repeat purchase ", "--operator", "ana"},
			0, "dismissed " + group + " as legitimate (" + reconcile.Plural(len(charges), "charge") + ": " + strings.Join(charges, ", ") + "), by ana", "imported data", "dismissed", 1},
		{"dismiss again records nothing", []string{"dismiss", "--group", group, "--operator", "ana"},
			0, "", group + " is already dismissed: nothing recorded", "dismissed", 1},
		{"undo reopens it", []string{"undo", "--group", group, "--operator", "bo"},
			0, "reopened " + group + ", by bo", "", "open", 2},
		{"undo again records nothing", []string{"undo", "--group", group},
			0, "", group + " is not dismissed (it is open): nothing to undo", "open", 2},
		{"an unknown group", []string{"dismiss", "--group", "grp_ch_nope"},
			1, "", "no duplicate group grp_ch_nope in the store", "open", 2},
		{"no group", []string{"dismiss", "--note", "x"},
			2, "", "pass --group ID", "open", 2},
		{"undo takes no note", []string{"undo", "--group", group, "--note", "x"},
			2, "", "--note", "open", 2},
	}
	for _, s := range steps {
		code, stdout, stderr := runCLI(t, "", append(s.args, "--db", db)...)
		if code != s.wantCode || !strings.Contains(stdout, s.wantOut) || !strings.Contains(stderr, s.wantErr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", s.name, code, stdout, stderr, s.wantCode, s.wantOut, s.wantErr)
		}
		if got := statusOf(); got != s.wantStatus {
			t.Errorf("%s: the group is %s, want %s", s.name, got, s.wantStatus)
		}
		if got := len(storedDecisions(t, db, group)); got != s.decisions {
			t.Errorf("%s: %d decisions stored, want %d", s.name, got, s.decisions)
		}
	}

	ds := storedDecisions(t, db, group)
	dismissal, undo := ds[0], ds[1]
	if dismissal.Kind != reconcile.DecisionDismissed || dismissal.Operator != "ana" || dismissal.Note != "repeat purchase" ||
		!slices.Equal(dismissal.Charges, charges) || dismissal.At.IsZero() {
		t.Errorf("the dismissal is stored as %+v, want ana's, with the note and the charges %v", dismissal, charges)
	}
	// An undo lists the charges too, so it finds the group under a later id.
	if undo.Kind != reconcile.DecisionUndismissed || undo.Operator != "bo" || !slices.Equal(undo.Charges, charges) {
		t.Errorf("the undo is stored as %+v", undo)
	}
}

// TestDecisionCommandsCreateNoStore: a mistyped --db is refused, not made.
func TestDecisionCommandsCreateNoStore(t *testing.T) {
	for _, cmd := range []string{"dismiss", "undo"} {
		db := filepath.Join(t.TempDir(), "typo.db")
		code, _, stderr := runCLI(t, "", cmd, "--group", "grp_ch_1", "--db", db)
		if code != 1 || stderr == "" {
			t.Errorf("%s on a missing store: exit %d, %q", cmd, code, stderr)
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Errorf("%s created %s", cmd, db)
		}
	}
}

// TestDismissRefusesAResolvedGroup: a refunded group is not "legitimate".
func TestDismissRefusesAResolvedGroup(t *testing.T) {
	w := newRefundWorld(t, sandbox.Options{})
	if code, out := w.run(t, "", "refund", "--group", w.group.ID, "--yes"); code != 0 {
		t.Fatalf("refund: %s", out)
	}
	code, out := w.run(t, "", "dismiss", "--group", w.group.ID)
	if code != 1 || !strings.Contains(out, w.group.ID+" is resolved: only open groups can be dismissed") {
		t.Errorf("dismiss of a resolved group: exit %d, %q", code, out)
	}
}
