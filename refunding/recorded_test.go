package refunding

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding/refundtest"
)

// TestRecordedPick: which of a charge's refunds an intent adopts. Two equal
// partial refunds of one charge are two intents' refunds: the second intent
// never adopts the first's, whether the refund names its intent's key or
// (made by an older version) names none and the ledger records it.
func TestRecordedPick(t *testing.T) {
	type refund struct{ id, key string }
	it := reconcile.RefundIntent{RefundRequest: reconcile.RefundRequest{Key: "K2", ChargeID: "ch_1"}}
	cases := []struct {
		name    string
		others  []string // refund ids the ledger records for the charge's other intents
		refunds []refund
		want    int
	}{
		{"none", nil, nil, -1},
		{"its own key", nil, []refund{{"re_1", "K1"}, {"re_2", "K2"}}, 1},
		{"its own key wins over an earlier keyless one", nil, []refund{{"re_0", ""}, {"re_2", "K2"}}, 1},
		{"another intent's key: never, even one this ledger does not hold", nil, []refund{{"re_1", "K1"}}, -1},
		{"keyless, not recorded: adopted", nil, []refund{{"re_1", ""}}, 0},
		{"keyless, recorded for another intent: skipped", []string{"re_1"}, []refund{{"re_1", ""}}, -1},
		{"keyless: the first not recorded for another", []string{"re_1"}, []refund{{"re_1", ""}, {"re_2", ""}, {"re_3", ""}}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := NewRecorded(it, tc.others...).Pick(len(tc.refunds), func(i int) (string, string) {
				return tc.refunds[i].id, tc.refunds[i].key
			})
			if got != tc.want {
				t.Errorf("Pick = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestFindIsGivenTheChargesOtherRefunds: a resume past the key trust hands
// Find the refund ids the ledger records for the charge's other intents of
// the same provider, and never the intent's own or another charge's.
func TestFindIsGivenTheChargesOtherRefunds(t *testing.T) {
	ctx := context.Background()
	ledger := refundtest.NewLedger(nil)
	ledger.Now = func() time.Time { return start }
	gw := newFake(reconcile.ProviderStripe, nil)
	r := &Refunder{Gateways: map[reconcile.Provider]Gateway{reconcile.ProviderStripe: gw}, Ledger: ledger, Operator: "ana",
		Now: func() time.Time { return start }}
	done := func(charge string, refunded int64, p reconcile.Provider, refundID string) {
		plan := planFor(charge, p)
		plan.Key = reconcile.RefundKey(charge, refunded, 1000)
		if _, _, err := ledger.BeginRefund(ctx, reconcile.RefundIntent{RefundRequest: plan, CreatedAt: start.Add(-48 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if refundID != "" {
			if err := ledger.FinishRefund(ctx, plan.Key, reconcile.RefundOutcome{Status: reconcile.RefundSucceeded, RefundID: refundID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	done("ch_dup", 0, reconcile.ProviderStripe, "re_first")     // the sibling: recorded
	done("ch_other", 0, reconcile.ProviderStripe, "re_other")   // another charge
	done("ch_dup", 3000, reconcile.ProviderPayPal, "re_paypal") // another provider's id space
	done("ch_dup", 1000, reconcile.ProviderStripe, "")          // the pending one resumed
	if _, err := r.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if len(gw.recorded) != 1 {
		t.Fatalf("Find was called %d times, want once", len(gw.recorded))
	}
	got := gw.recorded[0]
	if want := reconcile.RefundKey("ch_dup", 1000, 1000); got.key != want {
		t.Errorf("Find's record is for key %q, want %q", got.key, want)
	}
	if ids := slices.Sorted(maps.Keys(got.others)); !slices.Equal(ids, []string{"re_first"}) {
		t.Errorf("Find was told the other intents hold %v, want [re_first]", ids)
	}
}
