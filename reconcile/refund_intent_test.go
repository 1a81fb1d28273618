package reconcile

import "testing"

// TestGroupRefundIntent: the plan for a suspect names the kept charge of its own
// order and keys the refund on what the charge had refunded before, so the next
// part of a partly refunded charge never reuses an earlier part's key.
func TestGroupRefundIntent(t *testing.T) {
	member := func(id, order string, role Role, amount, refundable int64) Member {
		return Member{Charge: Charge{ID: id, Amount: amount, Currency: "usd"}, Role: role, OrderRef: order, Refundable: refundable}
	}
	g := Group{ID: "grp_1", Charges: []Member{
		member("ch_1", "o-1", Keep, 2000, 0),
		member("ch_2", "o-1", Duplicate, 2000, 2000),
		member("ch_3", "o-2", Keep, 2000, 0),
		member("ch_4", "o-2", Duplicate, 2000, 500), // 1500 already refunded
	}}
	for _, tc := range []struct {
		suspect int
		amount  int64
		want    RefundIntent
	}{
		{1, 2000, RefundIntent{Key: "doublecheck-refund-ch_2-0-2000", ChargeID: "ch_2", KeptChargeID: "ch_1", GroupID: "grp_1", Amount: 2000, Currency: "usd"}},
		{3, 500, RefundIntent{Key: "doublecheck-refund-ch_4-1500-500", ChargeID: "ch_4", KeptChargeID: "ch_3", GroupID: "grp_1", Amount: 500, Currency: "usd"}},
	} {
		if got := g.RefundIntent(&g.Charges[tc.suspect], tc.amount); got != tc.want {
			t.Errorf("RefundIntent(%s) = %+v, want %+v", g.Charges[tc.suspect].ID, got, tc.want)
		}
	}
}
