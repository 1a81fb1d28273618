package stripeapi

import (
	"context"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
)

// TestFindTellsEqualRefundsApart: two partial refunds of the same amount of
// one charge (--amount 1500 twice). The second intent's request is lost
// before Stripe sees it; resumed past the key trust, it is looked for first.
// Find must not adopt the first intent's refund (same amount, group and kept
// charge), whether that refund names its intent's key (doublecheck_key) or,
// made by an older version, names none and the ledger records it: the second
// 15.00 is sent. A refund the intent itself made with an older version is
// still adopted, not sent again.
func TestFindTellsEqualRefundsApart(t *testing.T) {
	cases := []struct {
		name string
		// first makes the first intent's refund and records it.
		first       func(t *testing.T, rig *refundRig, plan reconcile.RefundRequest)
		ownLegacy   bool // the second intent's own refund was made by an older version
		wantRefunds int
		wantAdopted bool
	}{
		{name: "the first refund names its key", first: refundNow, wantRefunds: 2},
		{name: "the first refund was made by an older version, the ledger records it", first: refundLegacy, wantRefunds: 2},
		{name: "the intent's own refund was made by an older version: adopted", first: refundLegacy, ownLegacy: true,
			wantRefunds: 2, wantAdopted: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
			first := rig.duplicatePair(3000)
			first.Amount, first.Key = 1500, reconcile.RefundKey(first.ChargeID, 0, 1500)
			tc.first(t, rig, first)

			second := first
			second.Key = reconcile.RefundKey(first.ChargeID, 1500, 1500)
			if tc.ownLegacy {
				// The older version refunded, and its answer was lost.
				if _, _, err := rig.ledger.BeginRefund(ctx, reconcile.RefundIntent{RefundRequest: second, Operator: "ana"}); err != nil {
					t.Fatal(err)
				}
				rig.legacyRefund(t, second)
			} else {
				rig.fault.Store(faultBefore)
				if out, err := rig.refunder().Refund(ctx, []reconcile.RefundRequest{second}, nil); err != nil || !out[0].Pending {
					t.Fatalf("second refund = %+v, %v; want it pending", out, err)
				}
				rig.fault.Store(faultNone)
			}
			rig.advance(25 * time.Hour)
			resumed, err := rig.refunder().Resume(ctx)
			if err != nil || len(resumed) != 1 || resumed[0].Err != nil {
				t.Fatalf("Resume = %+v, %v", resumed, err)
			}
			refunds := rig.sb.RefundsFor(first.ChargeID)
			if len(refunds) != tc.wantRefunds {
				t.Fatalf("Stripe holds %d refunds of %s, want %d: %+v", len(refunds), first.ChargeID, tc.wantRefunds, refunds)
			}
			firstID, secondID := rig.ledger.Intent(first.Key).RefundID, rig.ledger.Intent(second.Key).RefundID
			if firstID == secondID || secondID == "" {
				t.Errorf("the intents record refunds %q and %q, want two different refunds", firstID, secondID)
			}
			if resumed[0].Adopted != tc.wantAdopted {
				t.Errorf("resume adopted = %v, want %v", resumed[0].Adopted, tc.wantAdopted)
			}
		})
	}
}

// refundNow refunds plan through the Refunder (the refund names its key).
func refundNow(t *testing.T, rig *refundRig, plan reconcile.RefundRequest) {
	t.Helper()
	out, err := rig.refunder().Refund(context.Background(), []reconcile.RefundRequest{plan}, nil)
	if err != nil || out[0].Err != nil {
		t.Fatalf("first refund = %+v, %v", out, err)
	}
}

// refundLegacy makes plan's refund as a version that sent no doublecheck_key
// did, and records it in the ledger.
func refundLegacy(t *testing.T, rig *refundRig, plan reconcile.RefundRequest) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := rig.ledger.BeginRefund(ctx, reconcile.RefundIntent{RefundRequest: plan, Operator: "ana"}); err != nil {
		t.Fatal(err)
	}
	ref := rig.legacyRefund(t, plan)
	if err := rig.ledger.FinishRefund(ctx, plan.Key, reconcile.RefundOutcome{Status: reconcile.RefundSucceeded, RefundID: ref}); err != nil {
		t.Fatal(err)
	}
}

// legacyRefund makes plan's refund with its key and the metadata an older
// version sent (no doublecheck_key), and returns its id.
func (rig *refundRig) legacyRefund(t *testing.T, plan reconcile.RefundRequest) string {
	t.Helper()
	it := reconcile.RefundIntent{RefundRequest: plan, Operator: "ana"}
	params := refundParams(context.Background(), it, "1.0.0")
	delete(params.Metadata, metaKey)
	ref, err := rig.client.api.Refunds.New(params)
	if err != nil {
		t.Fatal(err)
	}
	return ref.ID
}
