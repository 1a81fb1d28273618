package refunding

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding/refundtest"
)

// step is what the fake provider does with one Send.
type step int

const (
	answer     step = iota // refunds (once per key, as an idempotent provider) and answers
	lostBefore             // no answer, nothing refunded (the request never arrived)
	lostAfter              // refunds, but the answer is lost
	refuse                 // refuses: nothing refunded
	conflict               // the key was used with other parameters: its refund exists
	hang                   // never answers: the refund's deadline ends the call
)

// fakeError is the fake provider's answer to a Send that did not refund.
type fakeError struct{ step step }

func (e fakeError) Error() string {
	switch e.step {
	case refuse:
		return "the provider refused the refund (HTTP 422, not_refundable)"
	case conflict:
		return "the key was used with other parameters"
	}
	return "connection reset"
}

// fakeGateway is a provider with idempotency keys: a key sent again returns
// the first refund. script says, Send by Send, what happens (answer once it
// runs out); awaiting makes it confirm refunds later, as Adyen does.
type fakeGateway struct {
	provider reconcile.Provider
	awaiting bool
	events   *refundtest.Events

	mu       sync.Mutex
	script   []step
	refunds  map[string]string // idempotency key → refund id
	sends    int
	recorded []Recorded // what each Find was given
	// deadline is the last Send's context deadline (zero: it had none).
	deadline time.Time
}

func newFake(p reconcile.Provider, events *refundtest.Events, script ...step) *fakeGateway {
	return &fakeGateway{provider: p, events: events, script: script, refunds: map[string]string{}}
}

func (g *fakeGateway) Provider() reconcile.Provider { return g.provider }
func (g *fakeGateway) KeyTrust() time.Duration      { return 5 * time.Hour }

func (g *fakeGateway) Send(ctx context.Context, it reconcile.RefundIntent) (Receipt, error) {
	g.mu.Lock()
	g.sends++
	g.deadline, _ = ctx.Deadline()
	g.events.Add("send " + it.Key)
	s := answer
	if len(g.script) > 0 {
		s, g.script = g.script[0], g.script[1:]
	}
	g.mu.Unlock()
	if s == hang {
		<-ctx.Done()
		return Receipt{}, ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch s {
	case lostAfter, conflict:
		g.refund(it.Key)
		return Receipt{}, fakeError{s}
	case lostBefore, refuse:
		return Receipt{}, fakeError{s}
	}
	return Receipt{RefundID: g.refund(it.Key), AwaitingConfirmation: g.awaiting}, nil
}

// refund is the refund of key, made on its first use.
func (g *fakeGateway) refund(key string) string {
	if g.refunds[key] == "" {
		g.refunds[key] = fmt.Sprintf("rf_%d", len(g.refunds)+1)
	}
	return g.refunds[key]
}

func (g *fakeGateway) Find(ctx context.Context, it reconcile.RefundIntent, recorded Recorded) (Receipt, bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.events.Add("find " + it.Key)
	g.recorded = append(g.recorded, recorded)
	id, ok := g.refunds[it.Key]
	return Receipt{RefundID: id, AwaitingConfirmation: g.awaiting}, ok, nil
}

func (g *fakeGateway) Classify(err error) Failure {
	var fe fakeError
	if !errors.As(err, &fe) {
		return Failure{Unknown: true}
	}
	switch fe.step {
	case refuse:
		return Failure{Code: "not_refundable", Message: "not refundable"}
	case conflict:
		return Failure{KeyConflict: true, Code: "key_conflict", Message: "key used with other parameters"}
	}
	return Failure{Unknown: true}
}

func (g *fakeGateway) refundCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.refunds)
}

var start = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func planFor(charge string, p reconcile.Provider) reconcile.RefundRequest {
	return reconcile.RefundRequest{Key: reconcile.RefundKey(charge, 0, 2000), ChargeID: charge, KeptChargeID: "ch_keep",
		GroupID: "grp_1", Amount: 2000, Currency: "eur", Provider: p}
}

// TestRefundProtocol: one refund through a fake provider, then a resume.
// Whatever the provider does, the charge is refunded at most once, the
// intent is committed before anything is sent, and the ledger ends saying
// what the provider holds.
func TestRefundProtocol(t *testing.T) {
	cases := []struct {
		name     string
		provider reconcile.Provider
		awaiting bool
		script   []step
		age      time.Duration // > 0: an intent this old is already pending (a crash)
		held     bool          // the provider already holds the intent's refund
		// want: the first outcome's line, the intent's final status, the
		// refunds the provider holds, and the events in this order.
		first   string
		status  reconcile.RefundStatus
		refunds int
		events  []string
	}{
		{name: "answered", provider: reconcile.ProviderPayPal,
			first: "rf_1", status: reconcile.RefundSucceeded, refunds: 1,
			events: []string{"begin K", "attempt K by ana", "send K", "finish K refunded"}},
		{name: "confirmed later: received, not resent", provider: reconcile.ProviderAdyen, awaiting: true,
			first: "rf_1 (received, awaiting Adyen confirmation)", status: reconcile.RefundReceived, refunds: 1,
			events: []string{"begin K", "attempt K by ana", "send K", "finish K received"}},
		{name: "lost before the provider: pending, resumed with the same key", provider: reconcile.ProviderPayPal, script: []step{lostBefore},
			first: "error: no answer from PayPal for the refund of charge ch_dup (connection reset); the intent stays pending", status: reconcile.RefundSucceeded, refunds: 1,
			events: []string{"begin K", "send K", "finish K pending", "attempt K by ana", "send K", "finish K refunded"}},
		{name: "lost after the provider refunded: the resume replays it", provider: reconcile.ProviderPayPal, script: []step{lostAfter},
			first: "error: no answer from PayPal", status: reconcile.RefundSucceeded, refunds: 1,
			events: []string{"send K", "finish K pending", "send K", "finish K refunded"}},
		{name: "refused: recorded, not resumed", provider: reconcile.ProviderPayPal, script: []step{refuse},
			first: "error: charge ch_dup was not refunded: the provider refused the refund (HTTP 422, not_refundable)", status: reconcile.RefundFailed, refunds: 0,
			events: []string{"send K", "finish K refund_failed"}},
		{name: "key used with other parameters: its refund adopted", provider: reconcile.ProviderPayPal, script: []step{conflict},
			first: "rf_1 (found in PayPal)", status: reconcile.RefundSucceeded, refunds: 1,
			events: []string{"send K", "find K", "finish K adopted"}},
		{name: "an intent older than the key trust is looked for first: found", provider: reconcile.ProviderPayPal, age: 6 * time.Hour, held: true,
			first: "rf_1 (found in PayPal)", status: reconcile.RefundSucceeded, refunds: 1,
			events: []string{"attempt K by ana", "find K", "finish K adopted"}},
		{name: "an intent older than the key trust is looked for first: not found, sent", provider: reconcile.ProviderPayPal, age: 6 * time.Hour,
			first: "rf_1", status: reconcile.RefundSucceeded, refunds: 1,
			events: []string{"attempt K by ana", "find K", "send K", "finish K refunded"}},
		{name: "a younger pending intent is resent with its key", provider: reconcile.ProviderPayPal, age: 4 * time.Hour, held: true,
			first: "rf_1", status: reconcile.RefundSucceeded, refunds: 1,
			events: []string{"attempt K by ana", "send K", "finish K refunded"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			events := &refundtest.Events{}
			ledger := refundtest.NewLedger(events)
			ledger.Now = func() time.Time { return start }
			gw := newFake(tc.provider, events, tc.script...)
			gw.awaiting = tc.awaiting
			r := &Refunder{Gateways: map[reconcile.Provider]Gateway{tc.provider: gw}, Ledger: ledger, Operator: "ana",
				Now: func() time.Time { return start }}
			plan := planFor("ch_dup", tc.provider)
			if tc.held {
				gw.refunds[plan.Key] = "rf_1"
			}
			var first Outcome
			if tc.age > 0 {
				if _, _, err := ledger.BeginRefund(ctx, reconcile.RefundIntent{RefundRequest: plan, CreatedAt: start.Add(-tc.age)}); err != nil {
					t.Fatal(err)
				}
				outcomes, err := r.Resume(ctx)
				if err != nil || len(outcomes) != 1 {
					t.Fatalf("Resume = %v, %v", outcomes, err)
				}
				first = outcomes[0]
			} else {
				outcomes, err := r.Refund(ctx, []reconcile.RefundRequest{plan}, nil)
				if err != nil || len(outcomes) != 1 {
					t.Fatalf("Refund = %v, %v", outcomes, err)
				}
				first = outcomes[0]
				if _, err := r.Resume(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if !strings.Contains(first.String(), tc.first) {
				t.Errorf("outcome %q, want it to contain %q", first, tc.first)
			}
			if got := ledger.Intent(plan.Key); got.Status != tc.status || got.Provider != tc.provider {
				t.Errorf("intent %s through %q, want %s through %q", got.Status, got.Provider, tc.status, tc.provider)
			}
			if got := gw.refundCount(); got != tc.refunds {
				t.Errorf("the provider holds %d refunds, want %d", got, tc.refunds)
			}
			want := make([]string, len(tc.events))
			for i, e := range tc.events {
				want[i] = strings.ReplaceAll(e, " K", " "+plan.Key)
			}
			if got := events.List(); !isSubsequence(got, want) {
				t.Errorf("events %q, want %q in this order", got, want)
			}

			// Asked again, nothing more is refunded.
			if _, err := r.Refund(ctx, []reconcile.RefundRequest{plan}, nil); err != nil {
				t.Fatal(err)
			}
			if tc.status != reconcile.RefundFailed && gw.refundCount() != tc.refunds {
				t.Errorf("asked again, the provider holds %d refunds, want %d", gw.refundCount(), tc.refunds)
			}
		})
	}
}

// isSubsequence reports whether want occurs in got in order.
func isSubsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// TestRefundWithoutTheProvidersCredentials: a refund through a provider the
// Refunder has no gateway for is an outcome that names the provider; nothing
// is recorded or sent, and a pending intent of it stays as it was.
func TestRefundWithoutTheProvidersCredentials(t *testing.T) {
	ctx := context.Background()
	events := &refundtest.Events{}
	ledger := refundtest.NewLedger(events)
	stripe := newFake(reconcile.ProviderStripe, events)
	r := &Refunder{Gateways: map[reconcile.Provider]Gateway{reconcile.ProviderStripe: stripe}, Ledger: ledger, Operator: "ana"}

	outcomes, err := r.Refund(ctx, []reconcile.RefundRequest{planFor("ch_pp", reconcile.ProviderPayPal), planFor("ch_st", "")}, nil)
	if err != nil || len(outcomes) != 2 {
		t.Fatalf("Refund = %v, %v", outcomes, err)
	}
	if o := outcomes[0]; o.Err == nil || !strings.HasPrefix(o.Err.Error(), "no PayPal credentials: charge ch_pp was not refunded (nothing was sent or recorded)") || !Failed(outcomes[:1]) {
		t.Errorf("PayPal outcome %q, want it refused for want of PayPal credentials", o)
	}
	if o := outcomes[1]; o.Err != nil || o.Intent.Status != reconcile.RefundSucceeded {
		t.Errorf("Stripe outcome %q (a plan without a provider is Stripe's), want refunded", o)
	}
	if ledger.Len() != 1 || ledger.Intent(planFor("ch_pp", "").Key).Key != "" {
		t.Errorf("the ledger holds %d intents, want only Stripe's", ledger.Len())
	}

	pending := planFor("ch_pending", reconcile.ProviderPayPal)
	if _, _, err := ledger.BeginRefund(ctx, reconcile.RefundIntent{RefundRequest: pending}); err != nil {
		t.Fatal(err)
	}
	before := len(events.List())
	resumed, err := r.Resume(ctx)
	if err != nil || len(resumed) != 1 {
		t.Fatalf("Resume = %v, %v", resumed, err)
	}
	if o := resumed[0]; !o.Pending || o.Err == nil || !strings.HasPrefix(o.Err.Error(), "no PayPal credentials: the pending refund of charge ch_pending was not resumed") {
		t.Errorf("resumed %q, want it left pending for want of PayPal credentials", o)
	}
	if after := events.List(); len(after) != before {
		t.Errorf("the resume wrote or sent %q", after[before:])
	}

	// Told what would configure PayPal, the refusals say it.
	r.Unconfigured = map[reconcile.Provider]string{reconcile.ProviderPayPal: "set PAYPAL_CLIENT_ID"}
	outcomes, err = r.Refund(ctx, []reconcile.RefundRequest{planFor("ch_pp2", reconcile.ProviderPayPal)}, nil)
	if err != nil || len(outcomes) != 1 || outcomes[0].Err == nil ||
		!strings.HasPrefix(outcomes[0].Err.Error(), "no PayPal credentials (set PAYPAL_CLIENT_ID): charge ch_pp2 was not refunded") {
		t.Errorf("Refund = %v, %v; want it refused naming what would configure PayPal", outcomes, err)
	}
	resumed, err = r.Resume(ctx)
	if err != nil || len(resumed) != 1 || resumed[0].Err == nil || !strings.HasPrefix(resumed[0].Err.Error(), "no PayPal credentials (set PAYPAL_CLIENT_ID): the pending refund") {
		t.Errorf("Resume = %v, %v; want it left pending naming what would configure PayPal", resumed, err)
	}
	none := &Refunder{Ledger: ledger, Unconfigured: r.Unconfigured}
	if _, err := none.Refund(ctx, []reconcile.RefundRequest{planFor("ch_pp3", reconcile.ProviderPayPal)}, nil); err == nil ||
		err.Error() != "refunds need a payment provider's credentials (or --dry-run): PayPal: set PAYPAL_CLIENT_ID" {
		t.Errorf("a Refunder without gateways: %v", err)
	}
}

// TestRefundDeadlineStopsTheBatch: a refund the provider holds past the
// deadline stays pending, and the refunds after it are not attempted.
func TestRefundDeadlineStopsTheBatch(t *testing.T) {
	ctx := context.Background()
	ledger := refundtest.NewLedger(nil)
	gw := newFake(reconcile.ProviderAdyen, nil, hang)
	r := &Refunder{Gateways: map[reconcile.Provider]Gateway{reconcile.ProviderAdyen: gw}, Ledger: ledger, Operator: "ana", Deadline: time.Millisecond}
	plans := []reconcile.RefundRequest{planFor("ch_1", reconcile.ProviderAdyen), planFor("ch_2", reconcile.ProviderAdyen)}
	outcomes, err := r.Refund(ctx, plans, nil)
	if err != nil || len(outcomes) != 2 {
		t.Fatalf("Refund = %v, %v", outcomes, err)
	}
	if o := outcomes[0]; !o.HitDeadline() || !strings.Contains(o.Err.Error(), "no answer from Adyen for the refund of charge ch_1 (no answer within the refund deadline of 1ms)") {
		t.Errorf("first outcome %q, want it to hit the deadline", o)
	}
	if o := outcomes[1]; !o.NotAttempted || o.Pending {
		t.Errorf("second outcome %+v, want not attempted", o)
	}
	if it := ledger.Intent(plans[0].Key); it.Status != reconcile.RefundPending || it.ErrorCode != "network" {
		t.Errorf("first intent %s %q, want pending with a network error", it.Status, it.ErrorCode)
	}
	if ledger.Len() != 1 || gw.sends != 1 {
		t.Errorf("%d intents and %d sends, want the first refund's only", ledger.Len(), gw.sends)
	}
}

// TestRefundDeadlineIsAlwaysWithinTheLease: whatever Deadline the Refunder
// is given, the provider's calls end within reconcile.MaxRefundDeadline, so
// no attempt still waits once its lease lets another process take it over.
func TestRefundDeadlineIsAlwaysWithinTheLease(t *testing.T) {
	cases := []struct {
		name     string
		deadline time.Duration
		want     time.Duration
	}{
		{name: "unset: the maximum", deadline: 0, want: reconcile.MaxRefundDeadline},
		{name: "negative: the maximum", deadline: -time.Second, want: reconcile.MaxRefundDeadline},
		{name: "past the lease: the maximum", deadline: 10 * time.Minute, want: reconcile.MaxRefundDeadline},
		{name: "the maximum itself", deadline: reconcile.MaxRefundDeadline, want: reconcile.MaxRefundDeadline},
		{name: "a shorter one is kept", deadline: 30 * time.Second, want: 30 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw := newFake(reconcile.ProviderStripe, nil)
			r := &Refunder{Gateways: map[reconcile.Provider]Gateway{reconcile.ProviderStripe: gw}, Ledger: refundtest.NewLedger(nil),
				Operator: "ana", Deadline: tc.deadline}
			before := time.Now()
			if _, err := r.Refund(context.Background(), []reconcile.RefundRequest{planFor("ch_dup", reconcile.ProviderStripe)}, nil); err != nil {
				t.Fatal(err)
			}
			after := time.Now()
			// The deadline was set between before and after, tc.want ahead.
			if gw.deadline.IsZero() || gw.deadline.Before(before.Add(tc.want)) || gw.deadline.After(after.Add(tc.want)) {
				t.Errorf("the provider was called with deadline %v, want %s after the call began (between %v and %v)",
					gw.deadline, tc.want, before.Add(tc.want), after.Add(tc.want))
			}
		})
	}
}

// TestRefundRefusesBadPlansAndDryRunsWriteNothing: neither writes or sends.
func TestRefundRefusesBadPlansAndDryRunsWriteNothing(t *testing.T) {
	good := planFor("ch_dup", reconcile.ProviderPayPal)
	cases := []struct {
		name    string
		plan    reconcile.RefundRequest
		dry     bool
		wantErr string
		status  reconcile.RefundStatus
	}{
		{name: "no key", plan: func() reconcile.RefundRequest { p := good; p.Key = ""; return p }(), wantErr: "has no idempotency key"},
		{name: "no amount", plan: func() reconcile.RefundRequest { p := good; p.Amount = 0; return p }(), wantErr: "a positive amount"},
		{name: "a dry-run key", plan: func() reconcile.RefundRequest { p := good; p.Key = reconcile.DryRunKeyPrefix + "x"; return p }(), wantErr: "a dry run is never sent"},
		{name: "a key over PayPal's PayPal-Request-Id limit", plan: func() reconcile.RefundRequest { p := good; p.Key = strings.Repeat("k", 109); return p }(),
			wantErr: "the PayPal-Request-Id is 109 characters long; PayPal accepts at most 108"},
		{name: "a key over Adyen's Idempotency-Key limit", plan: func() reconcile.RefundRequest {
			p := planFor("ch_dup", reconcile.ProviderAdyen)
			p.Key = strings.Repeat("k", 65)
			return p
		}(), wantErr: "the Idempotency-Key is 65 characters long; Adyen accepts at most 64"},
		{name: "dry run, without any credentials", plan: good, dry: true, status: reconcile.RefundWouldRefund},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events := &refundtest.Events{}
			r := &Refunder{Ledger: refundtest.NewLedger(events), DryRun: tc.dry}
			if !tc.dry {
				r.Gateways = map[reconcile.Provider]Gateway{
					reconcile.ProviderPayPal: newFake(reconcile.ProviderPayPal, events),
					reconcile.ProviderAdyen:  newFake(reconcile.ProviderAdyen, events),
				}
			}
			outcomes, err := r.Refund(context.Background(), []reconcile.RefundRequest{tc.plan}, nil)
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			case tc.wantErr == "" && (err != nil || len(outcomes) != 1 || outcomes[0].Intent.Status != tc.status):
				t.Errorf("Refund = %v, %v; want one %s outcome", outcomes, err, tc.status)
			}
			if ev := events.List(); len(ev) != 0 {
				t.Errorf("events %q, want nothing written or sent", ev)
			}
		})
	}
}

// TestResumeSkipsWhatIsNotPending: received and refunded intents are not
// pending, so a resume sends nothing for them.
func TestResumeSkipsWhatIsNotPending(t *testing.T) {
	ctx := context.Background()
	events := &refundtest.Events{}
	ledger := refundtest.NewLedger(events)
	gw := newFake(reconcile.ProviderAdyen, events)
	for i, st := range []reconcile.RefundStatus{reconcile.RefundReceived, reconcile.RefundSucceeded} {
		plan := planFor(fmt.Sprintf("ch_%d", i), reconcile.ProviderAdyen)
		if _, _, err := ledger.BeginRefund(ctx, reconcile.RefundIntent{RefundRequest: plan}); err != nil {
			t.Fatal(err)
		}
		if err := ledger.FinishRefund(ctx, plan.Key, reconcile.RefundOutcome{Status: st, RefundID: "psp_" + plan.ChargeID}); err != nil {
			t.Fatal(err)
		}
	}
	r := &Refunder{Gateways: map[reconcile.Provider]Gateway{reconcile.ProviderAdyen: gw}, Ledger: ledger, Operator: "ana"}
	outcomes, err := r.Resume(ctx)
	if err != nil || len(outcomes) != 0 || gw.sends != 0 {
		t.Errorf("Resume = %v, %v with %d sends; want nothing resumed", outcomes, err, gw.sends)
	}
	if ev := events.List(); slices.ContainsFunc(ev, func(e string) bool { return strings.HasPrefix(e, "attempt") }) {
		t.Errorf("events %q: an attempt was made", ev)
	}
}

// settledMeanwhile is a ledger where another process settles every intent
// right after this one lists them pending, as a race between two resumes.
type settledMeanwhile struct {
	*refundtest.Ledger
	outcome reconcile.RefundOutcome
}

func (l settledMeanwhile) PendingRefunds(ctx context.Context) ([]reconcile.RefundIntent, error) {
	pending, err := l.Ledger.PendingRefunds(ctx)
	for _, it := range pending {
		if err := l.Ledger.FinishRefund(ctx, it.Key, l.outcome); err != nil {
			return nil, err
		}
	}
	return pending, err
}

// TestResumeSendsNothingForAnIntentSettledMeanwhile: a resume that listed an
// intent pending and lost the race to another process that settled it sends
// nothing: the ledger refuses the claim, and the outcome says what the other
// attempt recorded.
func TestResumeSendsNothingForAnIntentSettledMeanwhile(t *testing.T) {
	cases := []struct {
		name     string
		outcome  reconcile.RefundOutcome
		recorded bool
		line     string
	}{
		{name: "refunded", outcome: reconcile.RefundOutcome{Status: reconcile.RefundSucceeded, RefundID: "rf_9"}, recorded: true,
			line: "rf_9 (already refunded by doublecheck)"},
		{name: "received", outcome: reconcile.RefundOutcome{Status: reconcile.RefundReceived, RefundID: "rf_9"}, recorded: true,
			line: "rf_9 (received, awaiting Adyen confirmation)"},
		{name: "refused", outcome: reconcile.RefundOutcome{Status: reconcile.RefundFailed, ErrorCode: "not_refundable", ErrorMessage: "not refundable"},
			line: "error: the refund of ch_dup is already recorded as refund_failed (another attempt settled it); nothing was sent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			events := &refundtest.Events{}
			ledger := settledMeanwhile{Ledger: refundtest.NewLedger(events), outcome: tc.outcome}
			gw := newFake(reconcile.ProviderAdyen, events)
			plan := planFor("ch_dup", reconcile.ProviderAdyen)
			if _, _, err := ledger.BeginRefund(ctx, reconcile.RefundIntent{RefundRequest: plan}); err != nil {
				t.Fatal(err)
			}
			r := &Refunder{Gateways: map[reconcile.Provider]Gateway{reconcile.ProviderAdyen: gw}, Ledger: ledger, Operator: "bob"}
			outcomes, err := r.Resume(ctx)
			if err != nil || len(outcomes) != 1 {
				t.Fatalf("Resume = %v, %v", outcomes, err)
			}
			o := outcomes[0]
			if o.Recorded != tc.recorded || o.Pending || !strings.Contains(o.String(), tc.line) {
				t.Errorf("outcome %q (recorded %v, pending %v), want %q, recorded %v", o, o.Recorded, o.Pending, tc.line, tc.recorded)
			}
			if gw.sends != 0 || len(ledger.Attempts(plan.Key)) != 0 {
				t.Errorf("%d sends and attempts %+v, want none", gw.sends, ledger.Attempts(plan.Key))
			}
			if got := ledger.Intent(plan.Key).Status; got != tc.outcome.Status {
				t.Errorf("intent %s, want the other attempt's %s kept", got, tc.outcome.Status)
			}
		})
	}
}

// TestARefusedRefundIsNeverSentAgainUnderItsKey: a plan that still carries a
// refused intent's key (planned before the refusal was recorded) sends
// nothing and leaves the refusal recorded; the planner's next key (-r1)
// asks again. A reversed refund likewise.
func TestARefusedRefundIsNeverSentAgainUnderItsKey(t *testing.T) {
	for _, p := range []reconcile.Provider{reconcile.ProviderStripe, reconcile.ProviderPayPal, reconcile.ProviderAdyen} {
		t.Run(string(p), func(t *testing.T) {
			ctx := context.Background()
			events := &refundtest.Events{}
			ledger := refundtest.NewLedger(events)
			gw := newFake(p, events, refuse)
			r := &Refunder{Gateways: map[reconcile.Provider]Gateway{p: gw}, Ledger: ledger, Operator: "ana"}
			plan := planFor("ch_dup", p)
			if _, err := r.Refund(ctx, []reconcile.RefundRequest{plan}, nil); err != nil {
				t.Fatal(err)
			}
			out, err := r.Refund(ctx, []reconcile.RefundRequest{plan}, nil)
			if err != nil || len(out) != 1 {
				t.Fatalf("Refund = %v, %v", out, err)
			}
			if o := out[0]; o.Err == nil || !strings.Contains(o.Err.Error(), "was refused by "+p.Title()+" (not refundable) and is never sent again under that key") || !Failed(out) {
				t.Errorf("asked again under the refused key: %q, want it refused without sending", o)
			}
			if gw.sends != 1 || ledger.Intent(plan.Key).Status != reconcile.RefundFailed {
				t.Errorf("%d sends, intent %s; want the one refused send, still recorded as refused", gw.sends, ledger.Intent(plan.Key).Status)
			}
			again := plan
			again.Key += "-r1" // what the planner keys the next ask with
			if out, err := r.Refund(ctx, []reconcile.RefundRequest{again}, nil); err != nil || out[0].Err != nil || gw.refundCount() != 1 {
				t.Errorf("the new ask: %v, %v; the provider holds %d refunds, want 1", out, err, gw.refundCount())
			}
		})
	}
}

func TestAReversedRefundIsNeverSentAgainUnderItsKey(t *testing.T) {
	ctx := context.Background()
	ledger := refundtest.NewLedger(nil)
	gw := newFake(reconcile.ProviderAdyen, nil)
	gw.awaiting = true
	r := &Refunder{Gateways: map[reconcile.Provider]Gateway{reconcile.ProviderAdyen: gw}, Ledger: ledger, Operator: "ana"}
	plan := planFor("ch_dup", reconcile.ProviderAdyen)
	out, err := r.Refund(ctx, []reconcile.RefundRequest{plan}, nil)
	if err != nil || out[0].Intent.Status != reconcile.RefundReceived {
		t.Fatalf("Refund = %v, %v", out, err)
	}
	if err := ledger.ConfirmRefund(ctx, out[0].Intent.RefundID, reconcile.RefundOutcome{Status: reconcile.RefundReversed, ErrorCode: "refunded_reversed", ErrorMessage: "REFUNDED_REVERSED"}); err != nil {
		t.Fatal(err)
	}
	out, err = r.Refund(ctx, []reconcile.RefundRequest{plan}, nil)
	if err != nil || out[0].Err == nil || !strings.Contains(out[0].Err.Error(), "was reversed by Adyen (REFUNDED_REVERSED) and is never sent again under that key") {
		t.Errorf("asked again under the reversed key: %v, %v", out, err)
	}
	if gw.sends != 1 || ledger.Intent(plan.Key).Status != reconcile.RefundReversed {
		t.Errorf("%d sends, intent %s; want one send, the intent still reversed", gw.sends, ledger.Intent(plan.Key).Status)
	}
}
