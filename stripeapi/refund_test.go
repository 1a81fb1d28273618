package stripeapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	stripe "github.com/stripe/stripe-go/v76"

	"doublecheck/reconcile"
	"doublecheck/sandbox"
)

// memLedger is an in-memory Ledger with the store's semantics (stripeapi never
// imports store, even in tests). It records the order of its writes in an event
// log shared with the HTTP recorder, so tests can prove the intent is committed
// before any request.
type memLedger struct {
	mu      sync.Mutex
	intents map[string]reconcile.RefundIntent
	charges map[string]reconcile.Charge // chargeAfter of each FinishRefund
	events  *eventLog
	now     func() time.Time
}

func newMemLedger(events *eventLog) *memLedger {
	return &memLedger{
		intents: map[string]reconcile.RefundIntent{},
		charges: map[string]reconcile.Charge{},
		events:  events,
		now:     func() time.Time { return time.Now().UTC() },
	}
}

func (l *memLedger) BeginRefund(ctx context.Context, it reconcile.RefundIntent) (reconcile.RefundIntent, bool, error) {
	if err := ctx.Err(); err != nil {
		return reconcile.RefundIntent{}, false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.intents[it.Key]; ok {
		return old, false, nil
	}
	// Like the store: a new intent is pending or would_refund.
	switch it.Status {
	case "":
		it.Status = reconcile.RefundPending
	case reconcile.RefundPending, reconcile.RefundWouldRefund:
	default:
		return reconcile.RefundIntent{}, false, fmt.Errorf("begin refund: new intent with status %q", it.Status)
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = l.now()
	}
	l.intents[it.Key] = it
	l.events.add("begin " + it.Key)
	return it, true, nil
}

func (l *memLedger) MarkAttempt(ctx context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	it, ok := l.intents[key]
	if !ok {
		return fmt.Errorf("mark attempt: no intent %q", key)
	}
	it.Attempts++
	l.intents[key] = it
	l.events.add("attempt " + key)
	return nil
}

func (l *memLedger) FinishRefund(ctx context.Context, key, status, refundID, errCode, errMsg string, chargeAfter *reconcile.Charge) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	it, ok := l.intents[key]
	if !ok {
		return fmt.Errorf("finish refund: no intent %q", key)
	}
	if it.Status == reconcile.RefundSucceeded && status != reconcile.RefundSucceeded {
		return fmt.Errorf("finish refund %q: already refunded, refusing %q", key, status)
	}
	it.Status, it.RefundID, it.ErrorCode, it.ErrorMessage = status, refundID, errCode, errMsg
	it.FinishedAt = l.now()
	l.intents[key] = it
	if chargeAfter != nil {
		l.charges[chargeAfter.ID] = *chargeAfter
	}
	l.events.add("finish " + key + " " + status)
	return nil
}

func (l *memLedger) PendingRefunds(ctx context.Context) ([]reconcile.RefundIntent, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []reconcile.RefundIntent
	for _, it := range l.intents {
		if it.Status == reconcile.RefundPending {
			out = append(out, it)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (l *memLedger) intent(key string) reconcile.RefundIntent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.intents[key]
}

// eventLog is an ordered, concurrency-safe list of what happened.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (e *eventLog) add(s string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.events = append(e.events, s)
	e.mu.Unlock()
}

func (e *eventLog) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.events...)
}

func TestExplainRefundErrors(t *testing.T) {
	it := reconcile.RefundIntent{ChargeID: "ch_dup", Amount: 2000, Currency: "usd"}
	tests := []struct {
		name      string
		err       error
		transient bool
		want      string
	}{
		{"disputed", &stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeChargeDisputed, Msg: "Charge ch_dup has been charged back"},
			false, "charge ch_dup is disputed, so it cannot be refunded"},
		{"already refunded", &stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeChargeAlreadyRefunded, Msg: "Charge ch_dup has already been refunded."},
			false, "charge ch_dup was already refunded elsewhere"},
		{"partly refunded", &stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeAmountTooLarge, Msg: "Refund amount ($20.00) is greater than unrefunded amount on charge ($5.00)"},
			false, "charge ch_dup was already partly refunded elsewhere, so 20.00 USD is more than is left"},
		{"restricted key", &stripe.Error{HTTPStatusCode: 403, Type: stripe.ErrorTypeInvalidRequest, Msg: "The provided key does not have the required permissions for this endpoint"},
			false, "restricted key without write permission on refunds"},
		{"bad key", &stripe.Error{HTTPStatusCode: 401, Type: stripe.ErrorTypeInvalidRequest, Msg: "Invalid API Key provided"},
			false, "Stripe rejected the API key"},
		{"other refusal", &stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeChargeNotRefundable, Msg: "This charge cannot be refunded"},
			false, "Stripe refused to refund charge ch_dup: This charge cannot be refunded"},
		{"server error", &stripe.Error{HTTPStatusCode: 503, Type: stripe.ErrorTypeAPI, Msg: "try again"},
			true, "the intent stays pending and will be resumed"},
		{"rate limited", &stripe.Error{HTTPStatusCode: 429, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeRateLimit},
			true, "the intent stays pending and will be resumed"},
		{"same key in flight", &stripe.Error{HTTPStatusCode: 409, Type: stripe.ErrorTypeIdempotency, Code: stripe.ErrorCodeIdempotencyKeyInUse},
			true, "the intent stays pending and will be resumed"},
		{"network", fmt.Errorf("Post \"http://127.0.0.1:1/v1/refunds\": %w", context.DeadlineExceeded),
			true, "could not get an answer from Stripe for the refund of charge ch_dup"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := transient(tc.err); got != tc.transient {
				t.Errorf("transient = %v, want %v", got, tc.transient)
			}
			got := explain(it, tc.err)
			if !strings.Contains(got.Error(), tc.want) {
				t.Errorf("explain = %q, want it to contain %q", got, tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("explain does not wrap the cause %v", tc.err)
			}
		})
	}
}

// Faults the recorder injects in POST /v1/refunds, on top of the sandbox's own.
const (
	faultNone        int32 = iota
	faultBefore            // 503 before the sandbox sees the request: nothing refunded
	faultAfter             // the sandbox refunds, the client gets a 500
	faultAfterTimout       // the sandbox refunds, the client waits until it gives up
)

// refundRig is a sandbox behind a recording proxy, a client on it with short
// timeouts, and an in-memory ledger sharing the proxy's event log.
type refundRig struct {
	sb     *sandbox.Server
	url    string
	events *eventLog
	ledger *memLedger
	client *Client
	fault  atomic.Int32
	posts  atomic.Int32 // POST /v1/refunds that reached the proxy
	now    atomic.Int64 // the Refunder's clock (unix nanoseconds)
}

var rigStart = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func newRefundRig(t *testing.T, opts sandbox.Options) *refundRig {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = rigStart
	}
	if opts.Ordinary == 0 {
		opts.Ordinary = -1
	}
	rig := &refundRig{sb: sandbox.New(opts), events: &eventLog{}}
	rig.now.Store(opts.Now.UnixNano())
	rig.ledger = newMemLedger(rig.events)
	rig.ledger.now = rig.clock
	srv := httptest.NewServer(http.HandlerFunc(rig.serve))
	t.Cleanup(func() { rig.sb.Close(); srv.Close() })
	rig.url = srv.URL
	rig.client = rig.newClient(sandbox.TestKey)
	return rig
}

// newClient is a client on the rig with timeouts and backoff short enough for
// tests: a hang costs 300 ms per attempt instead of 30 s.
func (rig *refundRig) newClient(secret string) *Client {
	c := NewClient(Key{Secret: secret, Live: strings.Contains(secret, "_live_")}, rig.url)
	c.http.Timeout = 300 * time.Millisecond
	c.retryBase = time.Millisecond
	c.SetRate(10000)
	return c
}

func (rig *refundRig) clock() time.Time { return time.Unix(0, rig.now.Load()).UTC() }

// advance moves both clocks: the sandbox's (idempotency keys age on it) and ours.
func (rig *refundRig) advance(d time.Duration) {
	rig.sb.Advance(d)
	rig.now.Add(int64(d))
}

func (rig *refundRig) refunder() *Refunder {
	return &Refunder{Client: rig.client, Ledger: rig.ledger, Operator: "ana", Version: "1.2.3", Now: rig.clock}
}

func (rig *refundRig) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/refunds" {
		rig.events.add(r.Method + " " + r.URL.Path)
		rig.sb.ServeHTTP(w, r)
		return
	}
	rig.posts.Add(1)
	rig.events.add("POST /v1/refunds " + r.Header.Get("Idempotency-Key"))
	switch rig.fault.Load() {
	case faultBefore:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":{"type":"api_error","message":"injected outage"}}`)
	case faultAfter:
		rig.sb.ServeHTTP(httptest.NewRecorder(), r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error":{"type":"api_error","message":"injected failure after the refund"}}`)
	case faultAfterTimout:
		rig.sb.ServeHTTP(httptest.NewRecorder(), r)
		<-r.Context().Done()
	default:
		rig.sb.ServeHTTP(w, r)
	}
}

// duplicatePair adds a kept charge and its duplicate and returns the plan to
// refund the duplicate.
func (rig *refundRig) duplicatePair(amount int64) reconcile.RefundIntent {
	spec := sandbox.ChargeSpec{Amount: amount, Customer: "cus_" + fmt.Sprint(rig.posts.Load()), Email: "lee@example.com"}
	kept := rig.sb.AddCharge(spec)
	dup := rig.sb.AddCharge(spec)
	return reconcile.RefundIntent{ChargeID: dup, KeptChargeID: kept, GroupID: "grp_" + kept, Amount: amount, Currency: "usd"}
}

// assertRefundedOnce checks the sandbox holds exactly one refund of the plan's
// amount with doublecheck's metadata and key, and the ledger agrees.
func (rig *refundRig) assertRefundedOnce(t *testing.T, plan reconcile.RefundIntent) {
	t.Helper()
	refunds := rig.sb.RefundsFor(plan.ChargeID)
	if len(refunds) != 1 {
		t.Fatalf("charge %s has %d refunds on the sandbox, want exactly 1: %+v", plan.ChargeID, len(refunds), refunds)
	}
	got := refunds[0]
	key := reconcile.RefundKey(plan.ChargeID, plan.Amount)
	if got.Amount != plan.Amount || got.Reason != "duplicate" || got.IdempotencyKey != key {
		t.Errorf("refund = amount %d reason %q key %q, want %d duplicate %q", got.Amount, got.Reason, got.IdempotencyKey, plan.Amount, key)
	}
	wantMeta := map[string]string{"duplicate_of": plan.KeptChargeID, "group": plan.GroupID, "operator": "ana", "doublecheck_version": "1.2.3"}
	for k, v := range wantMeta {
		if got.Metadata[k] != v {
			t.Errorf("refund metadata[%s] = %q, want %q", k, got.Metadata[k], v)
		}
	}
	it := rig.ledger.intent(key)
	if it.Status != reconcile.RefundSucceeded || it.RefundID != got.ID {
		t.Errorf("ledger intent = status %q refund %q, want %q %q", it.Status, it.RefundID, reconcile.RefundSucceeded, got.ID)
	}
}

func TestRefundRecordsIntentBeforeCallingStripe(t *testing.T) {
	rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
	plans := []reconcile.RefundIntent{rig.duplicatePair(2400), rig.duplicatePair(1500)}
	var seen []string
	outcomes, err := rig.refunder().Refund(context.Background(), plans, func(o Outcome) { seen = append(seen, o.Intent.ChargeID) })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []string{plans[0].ChargeID, plans[1].ChargeID}) {
		t.Errorf("progress saw %v, want both charges in order", seen)
	}
	for i, plan := range plans {
		o := outcomes[i]
		if o.Err != nil || o.Pending || o.Reused || o.Intent.RefundID == "" {
			t.Fatalf("outcome %d = %+v, want a fresh refund", i, o)
		}
		rig.assertRefundedOnce(t, plan)
		key := reconcile.RefundKey(plan.ChargeID, plan.Amount)
		// The protocol's order: intent committed, attempt counted, request sent, outcome recorded.
		want := []string{"begin " + key, "attempt " + key, "POST /v1/refunds " + key, "finish " + key + " refunded"}
		if got := subsequence(rig.events.list(), want); got != len(want) {
			t.Errorf("events %v: only the first %d of %v happen in that order", rig.events.list(), got, want)
		}
		after, ok := rig.ledger.charges[plan.ChargeID]
		if !ok || after.AmountRefunded != plan.Amount || after.Amount != plan.Amount || !after.Refunded {
			t.Errorf("charge state recorded with the outcome = %+v (found %v), want fully refunded", after, ok)
		}
		if line := o.String(); !strings.Contains(line, plan.ChargeID) || !strings.Contains(line, o.Intent.RefundID) ||
			!strings.Contains(line, reconcile.FormatMoney(plan.Amount, "usd")) {
			t.Errorf("outcome line %q lacks the charge, amount or refund id", line)
		}
	}
}

// subsequence reports how many of want occur in events in order.
func subsequence(events, want []string) int {
	n := 0
	for _, e := range events {
		if n < len(want) && e == want[n] {
			n++
		}
	}
	return n
}

func TestRefundTwiceRefundsOnce(t *testing.T) {
	tests := []struct {
		name      string
		newLedger bool // the second run lost the ledger: only Stripe's replay saves it
		wantPosts int32
	}{
		{"same ledger: the intent is reused, nothing sent", false, 1},
		{"lost ledger: Stripe replays the first refund", true, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
			plan := rig.duplicatePair(2400)
			first, err := rig.refunder().Refund(context.Background(), []reconcile.RefundIntent{plan}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.newLedger {
				rig.ledger = newMemLedger(rig.events)
			}
			second, err := rig.refunder().Refund(context.Background(), []reconcile.RefundIntent{plan}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if second[0].Err != nil || second[0].Intent.RefundID != first[0].Intent.RefundID {
				t.Errorf("second run = %+v, want the first refund %s", second[0], first[0].Intent.RefundID)
			}
			if second[0].Reused == tc.newLedger {
				t.Errorf("second run Reused = %v, want %v", second[0].Reused, !tc.newLedger)
			}
			if got := rig.posts.Load(); got != tc.wantPosts {
				t.Errorf("%d refund requests sent, want %d", got, tc.wantPosts)
			}
			rig.assertRefundedOnce(t, plan)
		})
	}
}

func TestRefundUnknownOutcomeStaysPendingAndResumes(t *testing.T) {
	tests := []struct {
		name  string
		fault int32
	}{
		{"Stripe down before it ran", faultBefore},
		{"refund applied, then a 500", faultAfter},
		{"refund applied, then no answer", faultAfterTimout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
			plan := rig.duplicatePair(2400)
			rig.fault.Store(tc.fault)
			outcomes, err := rig.refunder().Refund(context.Background(), []reconcile.RefundIntent{plan}, nil)
			if err != nil {
				t.Fatal(err)
			}
			o := outcomes[0]
			if !o.Pending || o.Err == nil || !strings.Contains(o.Err.Error(), "the intent stays pending and will be resumed") {
				t.Fatalf("outcome = %+v, want pending with the network-failure sentence", o)
			}
			if !Failed(outcomes) {
				t.Error("Failed = false for a pending outcome")
			}
			pending, _ := rig.ledger.PendingRefunds(context.Background())
			if len(pending) != 1 || pending[0].ChargeID != plan.ChargeID || pending[0].Attempts != 1 {
				t.Fatalf("pending intents = %+v, want the one intent with 1 attempt", pending)
			}

			rig.fault.Store(faultNone)
			resumed, err := rig.refunder().Resume(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(resumed) != 1 || resumed[0].Err != nil || resumed[0].Pending || resumed[0].Intent.RefundID == "" {
				t.Fatalf("resume = %+v, want the refund recorded", resumed)
			}
			rig.assertRefundedOnce(t, plan)
			if pending, _ := rig.ledger.PendingRefunds(context.Background()); len(pending) != 0 {
				t.Errorf("still pending after resume: %+v", pending)
			}
			if again, _ := rig.refunder().Resume(context.Background()); len(again) != 0 {
				t.Errorf("a second resume did %+v, want nothing", again)
			}
		})
	}
}
