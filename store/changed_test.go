package store

import (
	"context"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// TestChargesChangedCountsOnlyChanges: a sync batch counts the charges it
// adds and those whose newer observation differs; the same state observed
// again, or an older observation the store keeps out, changes nothing.
func TestChargesChangedCountsOnlyChanges(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		first := fakeCharges(0, 120, true) // more than one chunk
		later := func(cs []reconcile.Charge, d time.Duration, change func(*reconcile.Charge)) []reconcile.Charge {
			out := make([]reconcile.Charge, len(cs))
			for i, c := range cs {
				c.Observed = c.Observed.Add(d)
				if change != nil {
					change(&c)
				}
				out[i] = c
			}
			return out
		}
		refundedTwo := later(first, time.Hour, nil)
		for i := range 2 {
			refundedTwo[i].AmountRefunded, refundedTwo[i].Refunded = refundedTwo[i].Amount, true
		}
		save := func(cs []reconcile.Charge) error { return s.SaveSyncBatch(ctx, cs, nil, reconcile.Observations{}, nil) }
		steps := []struct {
			name    string
			save    func() error
			changed int64
		}{
			{"new charges", func() error { return save(first) }, 120},
			{"the same state observed later", func() error { return save(later(first, time.Minute, nil)) }, 0},
			{"two refunded", func() error {
				return save(refundedTwo)
			}, 2},
			{"an older observation that differs", func() error {
				return save(later(first, -time.Hour, func(c *reconcile.Charge) { c.Disputed = true }))
			}, 0},
			{"a new email and a new charge", func() error {
				return save(append(later(first[:1], 2*time.Hour, func(c *reconcile.Charge) {
					c.AmountRefunded, c.Refunded, c.Email = c.Amount, true, "new@example.com"
				}), fakeCharge(500, false)))
			}, 2},
		}
		for _, step := range steps {
			before := s.ChargesChanged()
			if err := step.save(); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if got := s.ChargesChanged() - before; got != step.changed {
				t.Errorf("%s: %d charges changed, want %d", step.name, got, step.changed)
			}
		}
	})
}
