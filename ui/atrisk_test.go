package ui

import (
	"testing"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// TestAtRiskText: the AT RISK cell says "disputed" for an open group whose only
// duplicates left are disputed (money taken twice that a dispute, not a
// refund, settles), rather than 0.00 as if nothing were at stake.
func TestAtRiskText(t *testing.T) {
	member := func(id string, role reconcile.Role, disputed bool, refundable int64) reconcile.Member {
		return reconcile.Member{Charge: reconcile.Charge{ID: id, Amount: 18695, Currency: "usd", Disputed: disputed}, Role: role, Refundable: refundable}
	}
	tests := []struct {
		name   string
		status reconcile.Status
		dups   []reconcile.Member
		want   string
	}{
		{"a duplicate to refund", reconcile.Open, []reconcile.Member{member("ch_b", reconcile.Duplicate, false, 18695)}, "186.95 USD"},
		{"its only duplicate disputed", reconcile.Open, []reconcile.Member{member("ch_b", reconcile.Duplicate, true, 0)}, "disputed"},
		{"one disputed, one to refund", reconcile.Open,
			[]reconcile.Member{member("ch_b", reconcile.Duplicate, true, 0), member("ch_c", reconcile.Duplicate, false, 18695)}, "186.95 USD"},
		{"resolved", reconcile.Resolved, []reconcile.Member{member("ch_b", reconcile.Duplicate, true, 0)}, "—"},
	}
	for _, tt := range tests {
		g := reconcile.Group{ID: "grp_a", Status: tt.status, Currency: "usd", Amount: 18695,
			Charges: append([]reconcile.Member{member("ch_a", reconcile.Keep, false, 0)}, tt.dups...)}
		if got := atRiskText(&g); got != tt.want {
			t.Errorf("%s: AT RISK %q, want %q", tt.name, got, tt.want)
		}
	}
}
