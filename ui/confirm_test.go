package ui

import (
	"slices"
	"testing"
	"time"

	"doublecheck/reconcile"
)

// TestPlanRefundsCarriesWhatWasRefundedBefore: each planned refund's key counts
// what was refunded on the charge before it, so the next part of a charge
// refunded in parts gets a key of its own (reconcile.RefundKey).
func TestPlanRefundsCarriesWhatWasRefundedBefore(t *testing.T) {
	tests := []struct {
		name           string
		stored         int64 // AmountRefunded as synced
		refundable     int64 // after the ledger's own refunds
		wantBefore     int64
		wantRequestFor int64
	}{
		{"untouched", 0, 4999, 0, 4999},
		{"partly refunded, synced", 1000, 3999, 1000, 3999},
		{"partly refunded by doublecheck, not synced yet", 0, 2999, 2000, 2999},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dup := charge("ch_2", time.Second, 4999, "usd", reconcile.Duplicate)
			dup.AmountRefunded, dup.Refundable = tc.stored, tc.refundable
			g := group("grp_ch_1", reconcile.High, reconcile.Open, reconcile.CauseNoKey, "cus_1", nil,
				charge("ch_1", 0, 4999, "usd", reconcile.Keep), dup)
			got := planRefunds([]*reconcile.Group{&g}).Requests
			want := []reconcile.RefundIntent{{Key: reconcile.RefundKey("ch_2", tc.wantBefore, tc.wantRequestFor),
				GroupID: "grp_ch_1", ChargeID: "ch_2", KeptChargeID: "ch_1", Amount: tc.wantRequestFor, Currency: "usd"}}
			if !slices.Equal(got, want) {
				t.Errorf("requests = %+v, want %+v", got, want)
			}
		})
	}
}

// TestPlanRefundsNamesEachSuspectsKeptCharge: in a group about a duplicated
// order the first charge of each order is kept; each suspect's request names the
// kept charge of its own order, and every kept charge is listed.
func TestPlanRefundsNamesEachSuspectsKeptCharge(t *testing.T) {
	members := []reconcile.Member{
		charge("ch_1", 0, 1000, "usd", reconcile.Keep), charge("ch_2", time.Second, 1000, "usd", reconcile.Duplicate),
		charge("ch_3", 2*time.Second, 1000, "usd", reconcile.Keep), charge("ch_4", 3*time.Second, 1000, "usd", reconcile.Duplicate),
	}
	for i, order := range []string{"o-1", "o-1", "o-2", "o-2"} {
		members[i].OrderRef = order
	}
	g := group("grp_ch_1", reconcile.High, reconcile.Open, reconcile.CauseNoKey, "cus_1", nil, members...)
	plan := planRefunds([]*reconcile.Group{&g})
	var kept []string
	for _, r := range plan.Requests {
		kept = append(kept, r.ChargeID+"→"+r.KeptChargeID)
	}
	if want := []string{"ch_2→ch_1", "ch_4→ch_3"}; !slices.Equal(kept, want) {
		t.Errorf("requests %v, want %v", kept, want)
	}
	var lines []string
	for _, l := range plan.Lines {
		lines = append(lines, l.Kind+" "+l.ChargeID)
	}
	if want := []string{"group ", "keep ch_1", "refund ch_2", "keep ch_3", "refund ch_4"}; !slices.Equal(lines, want) {
		t.Errorf("listing %v, want %v", lines, want)
	}
}
