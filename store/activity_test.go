package store

import (
	"context"
	"testing"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// What one process does to the store changes the mark another reads, and the
// latest activity names who did what.
func TestActivitySeesOtherHandles(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		path := d.location(t)
		ann, bob := openAt(t, path), openAt(t, path)
		mark, latest, err := bob.Activity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if latest != (Activity{}) {
			t.Errorf("activity of a new store: %+v, want none", latest)
		}
		steps := []struct {
			name string
			do   func() error
			want string // latest.What
		}{
			{"a dismissal", func() error {
				return ann.RecordDecisions(ctx, []reconcile.Decision{{GroupID: "grp_1", Kind: reconcile.DecisionDismissed, Operator: "ann"}})
			}, "dismissed grp_1"},
			{"a refund attempt", func() error {
				it, _, err := ann.BeginRefund(ctx, intentFor("ch_dup", 900, "ann"))
				if err != nil {
					return err
				}
				return ann.MarkAttempt(ctx, it.Key, "ann")
			}, "is refunding ch_dup"},
			{"its outcome", func() error {
				return ann.FinishRefund(ctx, reconcile.RefundKey("ch_dup", 0, 900), reconcile.RefundOutcome{Status: reconcile.RefundSucceeded, RefundID: "re_1"})
			}, "refunded ch_dup"},
		}
		for _, step := range steps {
			if err := step.do(); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			next, latest, err := bob.Activity(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if next == mark {
				t.Errorf("%s left the mark unchanged (%s)", step.name, mark)
			}
			if latest.Operator != "ann" || latest.What != step.want || latest.At.IsZero() {
				t.Errorf("after %s the latest activity is %+v, want ann: %q", step.name, latest, step.want)
			}
			mark = next
		}
	})
}
