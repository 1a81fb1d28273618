package refunding

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding/refundtest"
	"github.com/doublecheck-dev/doublecheck/store"
)

// A refund another process on the same store is sending right now (ann's
// attempt holds its intent) is not sent again, by a new refund or a resume:
// the outcome says who holds it and since when, and counts as not done.
func TestRefundHeldByAnotherProcessSendsNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	ann, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ann.Close()
	bob, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()

	plan := planFor("ch_dup", reconcile.ProviderPayPal)
	if _, _, err := ann.BeginRefund(ctx, reconcile.RefundIntent{RefundRequest: plan, Operator: "ann"}); err != nil {
		t.Fatal(err)
	}
	if err := ann.MarkAttempt(ctx, plan.Key, "ann"); err != nil {
		t.Fatal(err)
	}

	gw := newFake(reconcile.ProviderPayPal, &refundtest.Events{})
	r := &Refunder{Gateways: map[reconcile.Provider]Gateway{reconcile.ProviderPayPal: gw}, Ledger: bob, Operator: "bob"}
	outcomes, err := r.Refund(ctx, []reconcile.RefundRequest{plan}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resumed, err := r.Resume(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range append(outcomes, resumed...) {
		var held *reconcile.RefundHeldError
		if !o.Held || !errors.As(o.Err, &held) || held.Operator != "ann" {
			t.Errorf("outcome %+v, want it held by ann", o)
		}
		if line := o.String(); !strings.Contains(line, "nothing was sent") || !strings.Contains(line, "held by ann since") {
			t.Errorf("the outcome reads %q, want it to say it was not sent and who holds it", line)
		}
	}
	if len(resumed) != 1 {
		t.Errorf("resume gave %d outcomes, want the held intent's", len(resumed))
	}
	if !Failed(outcomes) {
		t.Error("a held refund counts as done")
	}
	if n := gw.refundCount(); n != 0 {
		t.Errorf("bob's doublecheck sent %d refunds while ann's held the intent", n)
	}
}
