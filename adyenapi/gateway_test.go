package adyenapi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding"
	"github.com/doublecheck-dev/doublecheck/refunding/refundtest"
	"github.com/doublecheck-dev/doublecheck/sandbox"
)

// refundWorld is the Adyen sandbox, a client, an in-memory ledger and a
// Refunder whose clock (and the gateway's) the test moves.
type refundWorld struct {
	sb     *sandbox.Adyen
	ledger *refundtest.Ledger
	r      *refunding.Refunder
	clock  time.Time
	plan   reconcile.RefundRequest
}

func newRefundWorld(t *testing.T, opts sandbox.AdyenOptions) *refundWorld {
	t.Helper()
	sb, c := sandboxClient(t, opts)
	w := &refundWorld{sb: sb, ledger: refundtest.NewLedger(nil), clock: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	now := func() time.Time { return w.clock }
	w.ledger.Now = now
	gw := &gateway{c: c, now: now}
	w.r = &refunding.Refunder{Gateways: map[reconcile.Provider]refunding.Gateway{reconcile.ProviderAdyen: gw},
		Ledger: w.ledger, Operator: "ops", Now: now}
	p := settledDuplicate(t, sb)
	w.plan = reconcile.RefundRequest{Key: reconcile.RefundKey(p.Psp, 0, 8900), ChargeID: p.Psp, Amount: 8900,
		Currency: "eur", GroupID: "grp_1", Provider: reconcile.ProviderAdyen}
	return w
}

func (w *refundWorld) refundsOfPlan() int { return refundsOf(w.sb, w.plan.ChargeID) }

func TestGatewayRefundIsReceivedNotConfirmed(t *testing.T) {
	ctx := context.Background()
	w := newRefundWorld(t, sandbox.AdyenOptions{})
	if len(w.plan.Key) > MaxIdempotencyKeyLen {
		t.Fatalf("the deterministic key %q is over Adyen's 64 characters", w.plan.Key)
	}
	out, err := w.r.Refund(ctx, []reconcile.RefundRequest{w.plan}, nil)
	if err != nil || out[0].Err != nil {
		t.Fatalf("%v %+v", err, out)
	}
	it := w.ledger.Intent(w.plan.Key)
	if it.Status != reconcile.RefundReceived || it.RefundID == "" {
		t.Fatalf("intent %+v: want received with Adyen's refund reference", it)
	}
	// Asked again: the ledger has it; nothing is sent.
	before := w.sb.Requests()
	if out, _ := w.r.Refund(ctx, []reconcile.RefundRequest{w.plan}, nil); !out[0].Recorded || w.sb.Requests() != before {
		t.Fatalf("second refund %+v sent %d requests", out[0], w.sb.Requests()-before)
	}
	// A resume leaves a received refund alone.
	if res, _ := w.r.Resume(ctx); len(res) != 0 {
		t.Fatalf("resume touched %+v", res)
	}
	// The REFUND notification confirms it.
	events, _, err := ReadNotifications(strings.NewReader(string(w.sb.Notify()[0])), "n.json", sandbox.AdyenHMACKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.ledger.ConfirmRefund(ctx, events[0].RefundPsp, reconcile.RefundOutcome{Status: reconcile.RefundSucceeded}); err != nil {
		t.Fatal(err)
	}
	if it := w.ledger.Intent(w.plan.Key); it.Status != reconcile.RefundSucceeded || w.refundsOfPlan() != 1 {
		t.Fatalf("after the notification: %+v, %d refunds", it, w.refundsOfPlan())
	}
}

// The answer is lost after Adyen received the refund: the intent stays
// pending and the resume, with the same key, gets the same refund.
func TestGatewayLostAnswerResumesOnce(t *testing.T) {
	ctx := context.Background()
	w := newRefundWorld(t, sandbox.AdyenOptions{DropAnswers: 1})
	out, err := w.r.Refund(ctx, []reconcile.RefundRequest{w.plan}, nil)
	if err != nil || !out[0].Pending {
		t.Fatalf("lost answer: %v %+v; want pending", err, out)
	}
	w.clock = w.clock.Add(time.Hour)
	res, err := w.r.Resume(ctx)
	if err != nil || len(res) != 1 || res[0].Intent.Status != reconcile.RefundReceived {
		t.Fatalf("resume: %v %+v", err, res)
	}
	if n := w.refundsOfPlan(); n != 1 {
		t.Fatalf("%d refunds of %s, want 1", n, w.plan.ChargeID)
	}
}

// Adyen has no refund list: within 31 days the resend with the same key is
// the lookup; after it, not known, and nothing is sent.
func TestGatewayFindAfterTheKeyLifetime(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		age     time.Duration
		want    reconcile.RefundStatus
		sends   int // requests the resume makes
		refunds int
	}{
		{"30.5 days: the resend is the lookup", 30*24*time.Hour + 12*time.Hour, reconcile.RefundReceived, 1, 1},
		{"32 days: not known, never resent", 32 * 24 * time.Hour, reconcile.RefundPending, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newRefundWorld(t, sandbox.AdyenOptions{DropAnswers: 1})
			if out, _ := w.r.Refund(ctx, []reconcile.RefundRequest{w.plan}, nil); !out[0].Pending {
				t.Fatalf("%+v", out[0])
			}
			w.clock = w.clock.Add(tc.age)
			before := w.sb.Requests()
			res, err := w.r.Resume(ctx)
			if err != nil || len(res) != 1 {
				t.Fatalf("%v %+v", err, res)
			}
			if it := w.ledger.Intent(w.plan.Key); it.Status != tc.want || w.sb.Requests()-before != tc.sends || w.refundsOfPlan() != tc.refunds {
				t.Fatalf("intent %s after %d requests, %d refunds: %+v", it.Status, w.sb.Requests()-before, w.refundsOfPlan(), res[0])
			}
			if tc.want == reconcile.RefundPending && !strings.Contains(res[0].Err.Error(), "not known") {
				t.Errorf("pending without saying why: %v", res[0].Err)
			}
		})
	}
}

// The deterministic key already answered for another request: recorded as a
// refusal, never adopted as this intent's refund.
func TestGatewayKeyUsedForAnotherRefund(t *testing.T) {
	ctx := context.Background()
	w := newRefundWorld(t, sandbox.AdyenOptions{})
	other := w.plan
	other.Amount = 100
	if _, err := w.r.Gateways[reconcile.ProviderAdyen].Send(ctx, reconcile.RefundIntent{RefundRequest: other}); err != nil {
		t.Fatal(err)
	}
	out, err := w.r.Refund(ctx, []reconcile.RefundRequest{w.plan}, nil)
	if err != nil || out[0].Err == nil {
		t.Fatalf("%v %+v", err, out)
	}
	if it := w.ledger.Intent(w.plan.Key); it.Status != reconcile.RefundFailed || it.ErrorCode != "idempotency_key_reused" || it.RefundID != "" {
		t.Fatalf("intent %+v: want refused with idempotency_key_reused and no refund adopted", it)
	}
}

func TestGatewayClassify(t *testing.T) {
	g := &gateway{}
	for _, tc := range []struct {
		err     error
		unknown bool
		code    string
	}{
		{&NetworkError{Err: errors.New("connection reset")}, true, ""},
		{context.DeadlineExceeded, true, ""},
		{&APIError{HTTPStatus: 422, ErrorCode: "704", Message: "request already processed or in progress", Transient: true}, true, "704"},
		{&APIError{HTTPStatus: 500, ErrorCode: "905"}, true, "905"},
		{&APIError{HTTPStatus: 429}, true, "http_429"},
		{&APIError{HTTPStatus: 422, ErrorCode: "167", Message: "Original pspReference required"}, false, "167"},
		{&APIError{HTTPStatus: 401, ErrorCode: "000", Message: "Unauthorized"}, false, "000"},
		{&KeyMismatchError{Key: "k"}, false, "idempotency_key_reused"},
		{ErrNotKnown, true, ""},
	} {
		f := g.Classify(tc.err)
		if f.Unknown != tc.unknown || f.Code != tc.code || f.KeyConflict {
			t.Errorf("Classify(%v) = %+v, want unknown %t code %q", tc.err, f, tc.unknown, tc.code)
		}
	}
}

// After Adyen refuses a refund, asking again under the same key would get
// Adyen's first answer replayed for 31 days: no new refund, and the refused
// refund recorded as received again. The refused intent is never resent;
// the planner's next ask has a key of its own, so Adyen makes a new refund.
func TestGatewayAskingAgainAfterARefusalMakesANewRefund(t *testing.T) {
	ctx := context.Background()
	w := newRefundWorld(t, sandbox.AdyenOptions{})
	charges := []reconcile.Charge{
		{ID: "8815000000000009", Created: w.clock.Add(-time.Hour), Amount: 8900, Currency: "eur", Status: "succeeded", Captured: true,
			Customer: "shopper-1", Provider: reconcile.ProviderAdyen},
		{ID: w.plan.ChargeID, Created: w.clock.Add(-time.Hour + time.Minute), Amount: 8900, Currency: "eur", Status: "succeeded", Captured: true,
			Customer: "shopper-1", Provider: reconcile.ProviderAdyen},
	}
	plan := func() reconcile.RefundRequest {
		t.Helper()
		var refunds []reconcile.RefundIntent
		for _, k := range []string{w.plan.Key, w.plan.Key + "-r1"} {
			if it := w.ledger.Intent(k); it.Key != "" {
				refunds = append(refunds, it)
			}
		}
		r := reconcile.Detect(reconcile.Input{Charges: charges, Refunds: refunds}, reconcile.DefaultOptions())
		if len(r.Groups) != 1 {
			t.Fatalf("%d groups, want the duplicate's", len(r.Groups))
		}
		p, err := reconcile.PlanRefunds([]*reconcile.Group{&r.Groups[0]}, reconcile.AllThatIsLeft)
		if err != nil || len(p.Requests) != 1 {
			t.Fatalf("plan %+v, %v", p, err)
		}
		return p.Requests[0]
	}
	first := plan()
	if first.Key != w.plan.Key {
		t.Fatalf("first key %s, want %s", first.Key, w.plan.Key)
	}
	out, err := w.r.Refund(ctx, []reconcile.RefundRequest{first}, nil)
	if err != nil || out[0].Intent.Status != reconcile.RefundReceived {
		t.Fatalf("%v %+v", err, out)
	}
	refused := out[0].Intent.RefundID
	if err := w.ledger.ConfirmRefund(ctx, refused, reconcile.RefundOutcome{Status: reconcile.RefundFailed, ErrorCode: "refund", ErrorMessage: "Insufficient balance"}); err != nil {
		t.Fatal(err)
	}

	// The same plan again (planned before the refusal was known) sends nothing.
	before := w.sb.Requests()
	out, err = w.r.Refund(ctx, []reconcile.RefundRequest{first}, nil)
	if err != nil || out[0].Err == nil || w.sb.Requests() != before || w.ledger.Intent(first.Key).Status != reconcile.RefundFailed {
		t.Fatalf("the refused key again: %v %+v, %d requests, intent %s; want nothing sent and the refusal kept",
			err, out, w.sb.Requests()-before, w.ledger.Intent(first.Key).Status)
	}

	// Planned again: a new key, and Adyen makes a new refund.
	again := plan()
	if again.Key != w.plan.Key+"-r1" || len(again.Key) > MaxIdempotencyKeyLen {
		t.Fatalf("asked again under %q, want %q (at most %d characters)", again.Key, w.plan.Key+"-r1", MaxIdempotencyKeyLen)
	}
	out, err = w.r.Refund(ctx, []reconcile.RefundRequest{again}, nil)
	if err != nil || out[0].Err != nil || out[0].Intent.Status != reconcile.RefundReceived || out[0].Intent.RefundID == refused {
		t.Fatalf("asked again: %v %+v; want a new refund received", err, out)
	}
	if n := w.refundsOfPlan(); n != 2 {
		t.Errorf("%d refunds of %s at Adyen, want the refused one and the new one", n, w.plan.ChargeID)
	}
}
