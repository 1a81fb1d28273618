package stripeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	stripe "github.com/stripe/stripe-go/v76"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding"
	"github.com/doublecheck-dev/doublecheck/refunding/refundtest"
	"github.com/doublecheck-dev/doublecheck/sandbox"
)

func TestExplainRefundErrors(t *testing.T) {
	it := reconcile.RefundIntent{RefundRequest: reconcile.RefundRequest{ChargeID: "ch_dup", Amount: 2000, Currency: "usd"}}
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
			false, "charge ch_dup was not refunded: Stripe refused the request (HTTP 400, charge_not_refundable): This charge cannot be refunded"},
		{"server error", &stripe.Error{HTTPStatusCode: 503, Type: stripe.ErrorTypeAPI, Msg: "try again"},
			true, "the intent stays pending and will be resumed"},
		{"rate limited", &stripe.Error{HTTPStatusCode: 429, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeRateLimit},
			true, "the intent stays pending and will be resumed"},
		{"same key in flight", &stripe.Error{HTTPStatusCode: 409, Type: stripe.ErrorTypeIdempotency, Code: stripe.ErrorCodeIdempotencyKeyInUse},
			true, "the intent stays pending and will be resumed"},
		{"network", fmt.Errorf("Post \"http://127.0.0.1:1/v1/refunds\": %w", context.DeadlineExceeded),
			true, "no answer from Stripe for the refund of charge ch_dup"},
	}
	client := NewClient(Key{Secret: "sk_test_explain"}, "")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := transient(tc.err); got != tc.transient {
				t.Errorf("transient = %v, want %v", got, tc.transient)
			}
			// As the Refunder sees it: through the client's own explanation.
			got := refunding.Explain(client.RefundGateway(""), it, client.explain(tc.err, maxAttempts), reconcile.ResumeCommand(reconcile.ResumeTarget{}))
			if !strings.Contains(got.Error(), tc.want) {
				t.Errorf("explain = %q, want it to contain %q", got, tc.want)
			}
			if strings.ContainsAny(got.Error(), "{}\n") || strings.Contains(got.Error(), "sk_test_explain") {
				t.Errorf("explain = %q, want one plain sentence without the key", got)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("explain does not wrap the cause %v", tc.err)
			}
		})
	}
}

// Faults the recorder injects in POST /v1/refunds, on top of the sandbox's own.
const (
	faultNone          int32 = iota
	faultBefore              // 503 before the sandbox sees the request: nothing refunded
	faultAfter               // the sandbox refunds, the client gets a 500
	faultAfterTimout         // the sandbox refunds, the client waits until it gives up
	faultRefuseEchoKey       // 400 whose message quotes the caller's API key
)

// refundRig is a sandbox behind a recording proxy, a client on it with short
// timeouts, and an in-memory ledger sharing the proxy's event log.
type refundRig struct {
	sb     *sandbox.Server
	url    string
	events *refundtest.Events
	ledger *refundtest.Ledger
	client *Client
	fault  atomic.Int32
	posts  atomic.Int32 // POST /v1/refunds that reached the proxy
	now    atomic.Int64 // the Refunder's clock (unix nanoseconds)
	date   atomic.Value // when set (a string), the Date header of every response
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
	rig := &refundRig{sb: sandbox.New(opts), events: &refundtest.Events{}}
	rig.now.Store(opts.Now.UnixNano())
	rig.ledger = refundtest.NewLedger(rig.events)
	rig.ledger.Now = rig.clock
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

// gatewaysOf is the Refunder's gateways with client as Stripe's.
func gatewaysOf(client *Client) map[reconcile.Provider]refunding.Gateway {
	return map[reconcile.Provider]refunding.Gateway{reconcile.ProviderStripe: client.RefundGateway("1.2.3")}
}

func (rig *refundRig) refunder() *refunding.Refunder {
	return &refunding.Refunder{Gateways: gatewaysOf(rig.client), Ledger: rig.ledger, Operator: "ana", Now: rig.clock}
}

func (rig *refundRig) serve(w http.ResponseWriter, r *http.Request) {
	if date, ok := rig.date.Load().(string); ok {
		w.Header().Set("Date", date)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/refunds" {
		rig.events.Add(r.Method + " " + r.URL.Path)
		rig.sb.ServeHTTP(w, r)
		return
	}
	rig.posts.Add(1)
	rig.events.Add("POST /v1/refunds " + r.Header.Get("Idempotency-Key"))
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
	case faultRefuseEchoKey:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":{"type":"invalid_request_error","code":"parameter_invalid","message":"cannot refund with %s"}}`,
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	case faultAfterTimout:
		rig.sb.ServeHTTP(httptest.NewRecorder(), r)
		<-r.Context().Done()
	default:
		rig.sb.ServeHTTP(w, r)
	}
}

// duplicatePair adds a kept charge and its duplicate and returns the plan to
// refund the duplicate.
func (rig *refundRig) duplicatePair(amount int64) reconcile.RefundRequest {
	spec := sandbox.ChargeSpec{Amount: amount, Customer: "cus_" + fmt.Sprint(rig.posts.Load()), Email: "lee@example.com"}
	kept := rig.sb.AddCharge(spec)
	dup := rig.sb.AddCharge(spec)
	return reconcile.RefundRequest{ChargeID: dup, KeptChargeID: kept, GroupID: "grp_" + kept, Amount: amount, Currency: "usd",
		Key: reconcile.RefundKey(dup, 0, amount)}
}

// assertRefundedOnce checks the sandbox holds exactly one refund of the plan's
// amount with doublecheck's metadata and key, and the ledger agrees.
func (rig *refundRig) assertRefundedOnce(t *testing.T, plan reconcile.RefundRequest) {
	t.Helper()
	refunds := rig.sb.RefundsFor(plan.ChargeID)
	if len(refunds) != 1 {
		t.Fatalf("charge %s has %d refunds on the sandbox, want exactly 1: %+v", plan.ChargeID, len(refunds), refunds)
	}
	got := refunds[0]
	key := plan.Key
	if got.Amount != plan.Amount || got.Reason != "duplicate" || got.IdempotencyKey != key {
		t.Errorf("refund = amount %d reason %q key %q, want %d duplicate %q", got.Amount, got.Reason, got.IdempotencyKey, plan.Amount, key)
	}
	wantMeta := map[string]string{"duplicate_of": plan.KeptChargeID, "group": plan.GroupID, "operator": "ana", "doublecheck_version": "1.2.3",
		"doublecheck_key": key}
	for k, v := range wantMeta {
		if got.Metadata[k] != v {
			t.Errorf("refund metadata[%s] = %q, want %q", k, got.Metadata[k], v)
		}
	}
	it := rig.ledger.Intent(key)
	if it.Status != reconcile.RefundSucceeded || it.RefundID != got.ID {
		t.Errorf("ledger intent = status %q refund %q, want %q %q", it.Status, it.RefundID, reconcile.RefundSucceeded, got.ID)
	}
}

func TestRefundRecordsIntentBeforeCallingStripe(t *testing.T) {
	rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
	plans := []reconcile.RefundRequest{rig.duplicatePair(2400), rig.duplicatePair(1500)}
	var seen []string
	outcomes, err := rig.refunder().Refund(context.Background(), plans, func(o refunding.Outcome) { seen = append(seen, o.Intent.ChargeID) })
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
		key := plan.Key
		// The protocol's order: intent committed, attempt counted, request sent, outcome recorded.
		want := []string{"begin " + key, "attempt " + key + " by ana", "POST /v1/refunds " + key, "finish " + key + " refunded"}
		if got := subsequence(rig.events.List(), want); got != len(want) {
			t.Errorf("events %v: only the first %d of %v happen in that order", rig.events.List(), got, want)
		}
		after, ok := rig.ledger.Charge(plan.ChargeID)
		if !ok || after.AmountRefunded != plan.Amount || after.Amount != plan.Amount || !after.Refunded {
			t.Errorf("charge state recorded with the outcome = %+v (found %v), want fully refunded", after, ok)
		}
		if line := o.String(); !strings.Contains(line, plan.ChargeID) || !strings.Contains(line, o.Intent.RefundID) ||
			!strings.Contains(line, reconcile.FormatMoney(plan.Amount, "usd")) {
			t.Errorf("outcome line %q lacks the charge, amount or refund id", line)
		}
	}
}

// attemptWant is what one recorded attempt should say; refundID "*" is any
// non-empty id, code "" is any non-empty code when msg is set.
type attemptWant struct {
	operator            string
	status              reconcile.RefundStatus
	refundID, code, msg string
}

// assertAttempts checks the ledger's attempts for key, in order: who ran each,
// its outcome, the refund id or the error, and its times.
func assertAttempts(t *testing.T, l *refundtest.Ledger, key string, want []attemptWant) {
	t.Helper()
	got := l.Attempts(key)
	if len(got) != len(want) {
		t.Fatalf("attempts of %s = %+v, want %d: %+v", key, got, len(want), want)
	}
	for i, w := range want {
		a := got[i]
		ok := a.Attempt == i+1 && a.Operator == w.operator && a.Status == w.status &&
			!a.StartedAt.IsZero() && !a.FinishedAt.IsZero()
		switch w.refundID {
		case "*":
			ok = ok && a.RefundID != ""
		default:
			ok = ok && a.RefundID == w.refundID
		}
		if w.msg != "" {
			ok = ok && strings.Contains(a.ErrorMessage, w.msg) && (a.ErrorCode == w.code || w.code == "" && a.ErrorCode != "")
		} else {
			ok = ok && a.ErrorCode == "" && a.ErrorMessage == ""
		}
		if !ok {
			t.Errorf("attempt %d of %s = %+v, want #%d %+v, started and finished", i+1, key, a, i+1, w)
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
		newLedger bool   // the second run lost the ledger: only Stripe's replay saves it
		operator  string // of the second run; another one changes the request's metadata
		wantPosts int32
		adopted   bool
		attempts  []attemptWant // in the ledger of the second run
	}{
		{"same ledger: the intent is reused, nothing sent", false, "bo", 1, false,
			[]attemptWant{{"ana", reconcile.RefundSucceeded, "*", "", ""}}},
		{"lost ledger: Stripe replays the first refund", true, "ana", 2, false,
			[]attemptWant{{"ana", reconcile.RefundSucceeded, "*", "", ""}}},
		{"lost ledger, another operator: the key's refund is found and adopted", true, "bo", 2, true,
			[]attemptWant{{"bo", reconcile.RefundAdopted, "*", "", ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
			plan := rig.duplicatePair(2400)
			first, err := rig.refunder().Refund(context.Background(), []reconcile.RefundRequest{plan}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.newLedger {
				rig.ledger = refundtest.NewLedger(rig.events)
			}
			r := rig.refunder()
			r.Operator = tc.operator
			second, err := r.Refund(context.Background(), []reconcile.RefundRequest{plan}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if second[0].Adopted != tc.adopted {
				t.Errorf("second run Adopted = %v, want %v", second[0].Adopted, tc.adopted)
			}
			if second[0].Err != nil || second[0].Intent.RefundID != first[0].Intent.RefundID {
				t.Errorf("second run = %+v, want the first refund %s", second[0], first[0].Intent.RefundID)
			}
			if second[0].Reused == tc.newLedger || second[0].Recorded == tc.newLedger {
				t.Errorf("second run Reused = %v, Recorded = %v, want both %v", second[0].Reused, second[0].Recorded, !tc.newLedger)
			}
			if got := strings.Contains(second[0].String(), "already refunded by doublecheck"); got == tc.newLedger {
				t.Errorf("second run line %q: says already refunded = %v, want %v", second[0], got, !tc.newLedger)
			}
			if got := rig.posts.Load(); got != tc.wantPosts {
				t.Errorf("%d refund requests sent, want %d", got, tc.wantPosts)
			}
			rig.assertRefundedOnce(t, plan)
			assertAttempts(t, rig.ledger, plan.Key, tc.attempts)
		})
	}
}

func TestRefundUnknownOutcomeStaysPendingAndResumes(t *testing.T) {
	tests := []struct {
		name     string
		fault    int32
		wantCode string // the first attempt's recorded error
		wantMsg  string
	}{
		{"Stripe down before it ran", faultBefore, "api_error", "injected outage"},
		{"refund applied, then a 500", faultAfter, "api_error", "injected failure after the refund"},
		{"refund applied, then no answer", faultAfterTimout, "network", "timed out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
			plan := rig.duplicatePair(2400)
			rig.fault.Store(tc.fault)
			outcomes, err := rig.refunder().Refund(context.Background(), []reconcile.RefundRequest{plan}, nil)
			if err != nil {
				t.Fatal(err)
			}
			o := outcomes[0]
			if !o.Pending || o.Err == nil || !strings.Contains(o.Err.Error(), "the intent stays pending and will be resumed") {
				t.Fatalf("outcome = %+v, want pending with the network-failure sentence", o)
			}
			if !refunding.Failed(outcomes) {
				t.Error("Failed = false for a pending outcome")
			}
			pending, _ := rig.ledger.PendingRefunds(context.Background())
			if len(pending) != 1 || pending[0].ChargeID != plan.ChargeID || pending[0].Attempts != 1 {
				t.Fatalf("pending intents = %+v, want the one intent with 1 attempt", pending)
			}

			if it := pending[0]; it.ErrorCode != tc.wantCode || !strings.Contains(it.ErrorMessage, tc.wantMsg) {
				t.Errorf("pending intent error = %q %q, want %q %q", it.ErrorCode, it.ErrorMessage, tc.wantCode, tc.wantMsg)
			}

			// Someone else resumes it: the attempt is theirs, the intent (and
			// the request's metadata, so Stripe replays it) stays ana's.
			rig.fault.Store(faultNone)
			resumer := rig.refunder()
			resumer.Operator = "bo"
			resumed, err := resumer.Resume(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(resumed) != 1 || resumed[0].Err != nil || resumed[0].Pending || resumed[0].Intent.RefundID == "" {
				t.Fatalf("resume = %+v, want the refund recorded", resumed)
			}
			rig.assertRefundedOnce(t, plan)
			assertAttempts(t, rig.ledger, plan.Key, []attemptWant{
				{"ana", reconcile.RefundPending, "", tc.wantCode, tc.wantMsg},
				{"bo", reconcile.RefundSucceeded, resumed[0].Intent.RefundID, "", ""},
			})
			if pending, _ := rig.ledger.PendingRefunds(context.Background()); len(pending) != 0 {
				t.Errorf("still pending after resume: %+v", pending)
			}
			if again, _ := rig.refunder().Resume(context.Background()); len(again) != 0 {
				t.Errorf("a second resume did %+v, want nothing", again)
			}
		})
	}
}

func TestResumeOldIntentLooksForItsRefundFirst(t *testing.T) {
	tests := []struct {
		name      string
		fault     int32 // what happened to the first attempt
		wantPosts int32 // refund requests in all, first attempts included
		adopted   bool
	}{
		// The key has expired on Stripe: resending it would refund a second time
		// (the plan refunds half the charge, so Stripe would accept it).
		{"Stripe refunded it: adopt, send nothing", faultAfter, maxAttempts, true},
		{"Stripe never saw it: send it now", faultBefore, maxAttempts + 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
			plan := rig.duplicatePair(3000)
			plan.Amount = 1500
			rig.fault.Store(tc.fault)
			outcomes, err := rig.refunder().Refund(context.Background(), []reconcile.RefundRequest{plan}, nil)
			if err != nil || !outcomes[0].Pending {
				t.Fatalf("first run = %+v, %v; want pending", outcomes, err)
			}
			rig.fault.Store(faultNone)
			rig.advance(25 * time.Hour)

			resumed, err := rig.refunder().Resume(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(resumed) != 1 || resumed[0].Err != nil || resumed[0].Adopted != tc.adopted {
				t.Fatalf("resume = %+v, want success with Adopted %v", resumed, tc.adopted)
			}
			if got := rig.posts.Load(); got != tc.wantPosts {
				t.Errorf("%d refund requests, want %d", got, tc.wantPosts)
			}
			outcome := reconcile.RefundSucceeded
			if tc.adopted {
				outcome = reconcile.RefundAdopted
			}
			if subsequence(rig.events.List(), []string{"attempt " + plan.Key + " by ana", "GET /v1/refunds", "finish " + plan.Key + " " + string(outcome)}) != 3 {
				t.Errorf("the attempt was not recorded, then Stripe's refunds listed, before the outcome %q: %v", outcome, rig.events.List())
			}
			rig.assertRefundedOnce(t, plan)
			assertAttempts(t, rig.ledger, plan.Key, []attemptWant{
				{"ana", reconcile.RefundPending, "", "api_error", "injected"},
				{"ana", outcome, resumed[0].Intent.RefundID, "", ""},
			})
		})
	}
}

func TestRefundFlakyAPIRefundsEachSuspectExactlyOnce(t *testing.T) {
	rig := newRefundRig(t, sandbox.Options{NoScenarios: true, Seed: 7,
		ErrorRate: 0.15, TimeoutRate: 0.15, FailAfterCommitRate: 0.3})
	var plans []reconcile.RefundRequest
	for i := range 12 {
		plans = append(plans, rig.duplicatePair(int64(1000+i*100)))
	}
	ctx := context.Background()
	r := rig.refunder()
	outcomes, err := r.Refund(ctx, plans, nil)
	if err != nil {
		t.Fatal(err)
	}
	pending := 0
	for _, o := range outcomes {
		if o.Pending {
			pending++
		} else if o.Err != nil {
			t.Fatalf("refund of %s failed for good: %v", o.Intent.ChargeID, o.Err)
		}
	}
	for round := 0; pending > 0; round++ {
		if round == 10 {
			t.Fatalf("%d refunds still pending after 10 resumes", pending)
		}
		resumed, err := r.Resume(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pending = 0
		for _, o := range resumed {
			if o.Pending {
				pending++
			}
		}
	}
	st := rig.sb.Stats()
	if st.ServerErrors == 0 || st.Timeouts == 0 {
		t.Fatalf("the sandbox injected %d 5xx and %d timeouts; the test needs both", st.ServerErrors, st.Timeouts)
	}
	for _, plan := range plans {
		rig.assertRefundedOnce(t, plan)
	}
}

// chargeOf reads a sandbox charge's amount and currency.
func chargeOf(t *testing.T, sb *sandbox.Server, id string) (int64, string) {
	t.Helper()
	raw, ok := sb.ChargeJSON(id)
	if !ok {
		t.Fatalf("no charge %s in the sandbox", id)
	}
	var ch struct {
		Amount         int64  `json:"amount"`
		AmountRefunded int64  `json:"amount_refunded"`
		Currency       string `json:"currency"`
	}
	if err := json.Unmarshal(raw, &ch); err != nil {
		t.Fatal(err)
	}
	return ch.Amount - ch.AmountRefunded, ch.Currency
}

func TestRefundRefusalsAreExplained(t *testing.T) {
	tests := []struct {
		name     string
		scenario string // a seeded scenario whose second charge is refunded
		key      string
		wantCode string
		want     string
	}{
		{"disputed", "disputed/1", sandbox.TestKey, "charge_disputed", "is disputed, so it cannot be refunded"},
		{"already refunded elsewhere", "already_refunded/1", sandbox.TestKey, "charge_already_refunded", "was already refunded elsewhere"},
		{"partly refunded elsewhere", "partly_refunded/1", sandbox.TestKey, "amount_too_large", "was already partly refunded elsewhere"},
		{"restricted key", "double_click/1", sandbox.NoRefundKey, "", "restricted key without write permission on refunds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRefundRig(t, sandbox.Options{})
			rig.client = rig.newClient(tc.key)
			ids := rig.sb.Scenarios()[tc.scenario]
			if len(ids) < 2 {
				t.Fatalf("scenario %s has charges %v", tc.scenario, ids)
			}
			amount, currency := chargeOf(t, rig.sb, ids[0]) // the full amount: what a stale store would plan
			plan := reconcile.RefundRequest{ChargeID: ids[1], KeptChargeID: ids[0], GroupID: "grp_x", Amount: amount, Currency: currency,
				Key: reconcile.RefundKey(ids[1], 0, amount)}
			before := len(rig.sb.RefundsFor(ids[1]))
			outcomes, err := rig.refunder().Refund(context.Background(), []reconcile.RefundRequest{plan}, nil)
			if err != nil {
				t.Fatal(err)
			}
			o := outcomes[0]
			if o.Pending || o.Err == nil || !strings.Contains(o.Err.Error(), tc.want) {
				t.Fatalf("outcome = %+v (err %v), want a refusal saying %q", o, o.Err, tc.want)
			}
			if strings.Contains(o.Err.Error(), tc.key) {
				t.Errorf("the error shows the API key: %v", o.Err)
			}
			it := rig.ledger.Intent(plan.Key)
			if it.Status != reconcile.RefundFailed || (tc.wantCode != "" && it.ErrorCode != tc.wantCode) || it.ErrorMessage == "" {
				t.Errorf("ledger = status %q code %q message %q, want %q %q and Stripe's message", it.Status, it.ErrorCode, it.ErrorMessage, reconcile.RefundFailed, tc.wantCode)
			}
			if after := len(rig.sb.RefundsFor(ids[1])); after != before {
				t.Errorf("refunds of %s went from %d to %d", ids[1], before, after)
			}
			if pending, _ := rig.ledger.PendingRefunds(context.Background()); len(pending) != 0 {
				t.Errorf("a refusal left pending intents: %+v", pending)
			}
		})
	}
}

// A refusal (a restricted key without refund permission) stays on record
// under its key: the same plan again sends nothing; the planner's next ask,
// under the key with -r1, refunds once with a better API key.
func TestRefusedRefundIsAskedAgainUnderANewKey(t *testing.T) {
	rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
	plan := rig.duplicatePair(2400)
	rig.client = rig.newClient(sandbox.NoRefundKey)
	first, err := rig.refunder().Refund(context.Background(), []reconcile.RefundRequest{plan}, nil)
	if err != nil || first[0].Err == nil || first[0].Pending {
		t.Fatalf("restricted key: %+v, %v; want a refusal", first, err)
	}
	refusal := rig.ledger.Intent(plan.Key)
	if refusal.ErrorCode == "" || refusal.ErrorMessage == "" {
		t.Fatalf("the refusal was recorded without its error: %+v", refusal)
	}
	rig.client = rig.newClient(sandbox.TestKey)
	same, err := rig.refunder().Refund(context.Background(), []reconcile.RefundRequest{plan}, nil)
	if err != nil || same[0].Err == nil || len(rig.sb.RefundsFor(plan.ChargeID)) != 0 {
		t.Fatalf("the refused key again: %+v, %v; want nothing sent", same, err)
	}
	again := plan
	again.Key += "-r1" // the planner's next key (reconcile tests it)
	second, err := rig.refunder().Refund(context.Background(), []reconcile.RefundRequest{again}, nil)
	if err != nil || second[0].Err != nil {
		t.Fatalf("full key: %+v, %v; want the new ask refunded", second, err)
	}
	rig.assertRefundedOnce(t, again)
	// The refusal stays on record, in its own intent's one attempt.
	assertAttempts(t, rig.ledger, plan.Key, []attemptWant{
		{"ana", reconcile.RefundFailed, "", refusal.ErrorCode, refusal.ErrorMessage},
	})
	if it := rig.ledger.Intent(plan.Key); it.Status != reconcile.RefundFailed {
		t.Errorf("the refused intent is %s now, want it still refused", it.Status)
	}
}

func TestDryRunCallsNothing(t *testing.T) {
	rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
	plans := []reconcile.RefundRequest{rig.duplicatePair(2400), rig.duplicatePair(900)}
	before := rig.sb.Stats().Requests
	dry := rig.refunder()
	dry.DryRun = true
	for run := range 2 {
		outcomes, err := dry.Refund(context.Background(), plans, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range outcomes {
			if o.Err != nil || o.Intent.Status != reconcile.RefundWouldRefund || o.Reused ||
				!strings.Contains(o.String(), "would refund") {
				t.Errorf("run %d: outcome %+v (%q), want would_refund", run, o, o)
			}
		}
	}
	if got := rig.sb.Stats().Requests - before; got != 0 || rig.posts.Load() != 0 {
		t.Fatalf("a dry run sent %d requests", got)
	}
	// A rehearsal is not a decision: the ledger holds nothing of it.
	recorded := rig.ledger.Len()
	if recorded != 0 {
		t.Errorf("a dry run recorded %d intents", recorded)
	}
	// A dry run never stands in the way of the real refund.
	if _, err := rig.refunder().Refund(context.Background(), plans, nil); err != nil {
		t.Fatal(err)
	}
	for _, plan := range plans {
		rig.assertRefundedOnce(t, plan)
	}
}

func TestResumeNeverSendsAnInterruptedDryRun(t *testing.T) {
	rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
	plan := rig.duplicatePair(2400)
	// A dry run killed between its intent and marking it would_refund.
	plan.Key = reconcile.DryRunKeyPrefix + plan.Key
	if _, _, err := rig.ledger.BeginRefund(context.Background(), reconcile.RefundIntent{RefundRequest: plan}); err != nil {
		t.Fatal(err)
	}
	outcomes, err := rig.refunder().Resume(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != 0 || rig.posts.Load() != 0 || len(rig.sb.RefundsFor(plan.ChargeID)) != 0 {
		t.Fatalf("resume of a dry-run intent: outcomes %+v, %d requests", outcomes, rig.posts.Load())
	}
	if got := rig.ledger.Intent(plan.Key).Status; got != reconcile.RefundWouldRefund {
		t.Errorf("dry-run intent status = %q, want %q", got, reconcile.RefundWouldRefund)
	}
}

func TestConcurrentRefundsOfOneGroupRefundOnce(t *testing.T) {
	tests := []struct {
		name         string
		sharedLedger bool
	}{
		{"one ledger", true},
		{"two ledgers", false}, // the worst case: only the idempotency key protects
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRefundRig(t, sandbox.Options{NoScenarios: true, Latency: 5 * time.Millisecond})
			plans := []reconcile.RefundRequest{rig.duplicatePair(2400), rig.duplicatePair(2400), rig.duplicatePair(700)}
			results := make([][]refunding.Outcome, 2)
			var wg sync.WaitGroup
			for i := range results {
				r := rig.refunder()
				if !tc.sharedLedger && i == 1 {
					r.Ledger = refundtest.NewLedger(rig.events)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					var err error
					if results[i], err = r.Refund(context.Background(), plans, nil); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			for j, plan := range plans {
				refunds := rig.sb.RefundsFor(plan.ChargeID)
				if len(refunds) != 1 {
					t.Fatalf("charge %s has %d refunds, want 1", plan.ChargeID, len(refunds))
				}
				for i := range results {
					if o := results[i][j]; o.Err != nil || o.Intent.RefundID != refunds[0].ID {
						t.Errorf("runner %d, charge %s: %+v, want refund %s", i, plan.ChargeID, o, refunds[0].ID)
					}
				}
			}
		})
	}
}

func TestRefundRejectsBadPlansBeforeAnyWrite(t *testing.T) {
	tests := []struct {
		name string
		plan reconcile.RefundRequest
		want string
	}{
		{"no charge", reconcile.RefundRequest{Amount: 100, Currency: "usd"}, "a charge id and a positive amount are required"},
		{"zero amount", reconcile.RefundRequest{ChargeID: "ch_1", Currency: "usd"}, "a charge id and a positive amount are required"},
		{"no key", reconcile.RefundRequest{ChargeID: "ch_1", Amount: 100, Currency: "usd"}, "has no idempotency key"},
		{"a dry run's key", reconcile.RefundRequest{ChargeID: "ch_1", Amount: 100, Currency: "usd", Key: reconcile.DryRunKeyPrefix + reconcile.RefundKey("ch_1", 0, 100)},
			"a dry run is never sent"},
		{"key over 255 characters", reconcile.RefundRequest{ChargeID: "ch_" + strings.Repeat("x", 250), Amount: 100, Currency: "usd",
			Key: reconcile.RefundKey("ch_"+strings.Repeat("x", 250), 0, 100)}, "the Idempotency-Key is 278 characters long; Stripe accepts at most 255"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
			_, err := rig.refunder().Refund(context.Background(), []reconcile.RefundRequest{tc.plan}, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if ev := rig.events.List(); len(ev) != 0 {
				t.Errorf("a bad plan still did %v", ev)
			}
		})
	}
}

// TestRefundRequestsConformToStripeMock sends the refund protocol's requests to
// stripe-mock, which checks every parameter against Stripe's OpenAPI spec, and
// checks what went over the wire.
func TestRefundRequestsConformToStripeMock(t *testing.T) {
	mock := startStripeMock(t)
	type request struct {
		method, path, key string
		form              url.Values
	}
	var (
		mu   sync.Mutex
		seen []request
	)
	target, err := url.Parse(mock)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if r.Method == http.MethodGet {
			form = r.URL.Query()
		}
		mu.Lock()
		seen = append(seen, request{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), form})
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()

	client := NewClient(Key{Secret: "sk_test_123"}, srv.URL)
	ledger := refundtest.NewLedger(nil)
	now := time.Now().UTC()
	r := &refunding.Refunder{Gateways: gatewaysOf(client), Ledger: ledger, Operator: "ana", Now: func() time.Time { return now }}
	plan := reconcile.RefundRequest{ChargeID: "ch_dup", KeptChargeID: "ch_kept", GroupID: "grp_1", Amount: 1200, Currency: "usd",
		Key: reconcile.RefundKey("ch_dup", 300, 1200)}

	tests := []struct {
		name    string
		run     func() ([]refunding.Outcome, error)
		wantReq []string // method and path of each request, in order
	}{
		{"refund", func() ([]refunding.Outcome, error) {
			return r.Refund(context.Background(), []reconcile.RefundRequest{plan}, nil)
		},
			[]string{"POST /v1/refunds", "GET /v1/charges/ch_dup"}},
		{"resume an intent older than the key lifetime", func() ([]refunding.Outcome, error) {
			old := reconcile.RefundIntent{RefundRequest: plan}
			old.ChargeID, old.Amount, old.Operator = "ch_old", 500, "ana"
			old.Key, old.CreatedAt = reconcile.RefundKey(old.ChargeID, 0, old.Amount), now.Add(-30*time.Hour)
			if _, _, err := ledger.BeginRefund(context.Background(), old); err != nil {
				return nil, err
			}
			return r.Resume(context.Background())
		}, []string{"GET /v1/refunds", "POST /v1/refunds", "GET /v1/charges/ch_old"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			outcomes, err := tc.run()
			if err != nil {
				t.Fatal(err)
			}
			if len(outcomes) != 1 || outcomes[0].Err != nil || outcomes[0].Intent.RefundID == "" {
				t.Fatalf("outcomes = %+v, want one refund accepted by stripe-mock", outcomes)
			}
			mu.Lock()
			defer mu.Unlock()
			var got []string
			for _, req := range seen {
				got = append(got, req.method+" "+req.path)
			}
			if !slices.Equal(got, tc.wantReq) {
				t.Fatalf("requests = %v, want %v", got, tc.wantReq)
			}
			for _, req := range seen {
				switch req.method + " " + req.path {
				case "GET /v1/refunds":
					if req.form.Get("charge") != "ch_old" {
						t.Errorf("refund list filter = %v, want charge=ch_old", req.form)
					}
				case "POST /v1/refunds":
					it := outcomes[0].Intent
					want := url.Values{
						"charge": {it.ChargeID}, "amount": {fmt.Sprint(it.Amount)}, "reason": {"duplicate"},
						"metadata[duplicate_of]": {"ch_kept"}, "metadata[group]": {"grp_1"},
						"metadata[operator]": {"ana"}, "metadata[doublecheck_version]": {"1.2.3"},
						"metadata[doublecheck_key]": {it.Key}, "expand[0]": {"charge"},
					}
					if !reflect.DeepEqual(req.form, want) {
						t.Errorf("refund form = %v, want %v", req.form, want)
					}
					if req.key != it.Key || it.Key == "" {
						t.Errorf("Idempotency-Key = %q, want the intent's %q", req.key, it.Key)
					}
				}
			}
		})
	}
}

// TestResumeSettlesEveryRealIntent: any pending intent without the dry-run
// prefix may have moved money, whatever its key looks like (an older key
// format included), so Resume settles it with that key and never records it
// as a dry run.
func TestResumeSettlesEveryRealIntent(t *testing.T) {
	tests := []struct {
		name string
		key  func(plan reconcile.RefundRequest) string
	}{
		{"current key", func(p reconcile.RefundRequest) string { return reconcile.RefundKey(p.ChargeID, 0, p.Amount) }},
		{"older key format", func(p reconcile.RefundRequest) string {
			return fmt.Sprintf("doublecheck-refund-%s-%d", p.ChargeID, p.Amount)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
			rq := rig.duplicatePair(2400)
			rq.Key = tc.key(rq)
			plan := reconcile.RefundIntent{RefundRequest: rq}
			plan.Operator, plan.Status = "ana", reconcile.RefundPending
			if _, _, err := rig.ledger.BeginRefund(context.Background(), plan); err != nil {
				t.Fatal(err)
			}
			outcomes, err := rig.refunder().Resume(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(outcomes) != 1 || outcomes[0].Err != nil || outcomes[0].Intent.Status != reconcile.RefundSucceeded {
				t.Fatalf("resume outcomes = %+v, want the intent refunded", outcomes)
			}
			refunds := rig.sb.RefundsFor(plan.ChargeID)
			if len(refunds) != 1 || refunds[0].IdempotencyKey != plan.Key || refunds[0].Amount != plan.Amount {
				t.Fatalf("refunds = %+v, want one of %d sent with the stored key %q", refunds, plan.Amount, plan.Key)
			}
			if it := rig.ledger.Intent(plan.Key); it.Status != reconcile.RefundSucceeded || it.RefundID != refunds[0].ID {
				t.Errorf("ledger intent = %+v, want refunded by %s", it, refunds[0].ID)
			}
		})
	}
}

// TestRefusalInTheLedgerHidesTheKey: a Stripe message quoting the API key is
// masked before it is recorded.
func TestRefusalInTheLedgerHidesTheKey(t *testing.T) {
	rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
	plan := rig.duplicatePair(2400)
	rig.fault.Store(faultRefuseEchoKey)
	outcomes, err := rig.refunder().Refund(context.Background(), []reconcile.RefundRequest{plan}, nil)
	if err != nil || len(outcomes) != 1 || outcomes[0].Err == nil || outcomes[0].Pending {
		t.Fatalf("outcomes = %+v, %v; want one refusal", outcomes, err)
	}
	it := rig.ledger.Intent(outcomes[0].Intent.Key)
	if it.Status != reconcile.RefundFailed || it.ErrorCode != "parameter_invalid" || !strings.Contains(it.ErrorMessage, "cannot refund with") {
		t.Fatalf("ledger intent = %+v, want the refusal recorded", it)
	}
	for name, text := range map[string]string{"ledger message": it.ErrorMessage, "outcome": outcomes[0].String()} {
		if strings.Contains(text, sandbox.TestKey) {
			t.Errorf("the %s shows the API key: %q", name, text)
		}
	}
}

// TestRefundedChargeIsObservedOnTheServerClock: the charge state recorded with
// a refund carries the time of Stripe's answer, as sync's observations do, so
// the store's newest-wins rule compares times from one clock.
func TestRefundedChargeIsObservedOnTheServerClock(t *testing.T) {
	rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
	plan := rig.duplicatePair(2400)
	served := rigStart.Add(-3 * time.Hour) // the server's clock, behind ours
	rig.date.Store(served.Format(http.TimeFormat))
	if _, err := rig.refunder().Refund(context.Background(), []reconcile.RefundRequest{plan}, nil); err != nil {
		t.Fatal(err)
	}
	after, ok := rig.ledger.Charge(plan.ChargeID)
	if !ok || !after.Observed.Equal(served) || after.AmountRefunded != plan.Amount {
		t.Errorf("recorded charge: found %v, refunded %d observed at %v; want refunded %d observed at %v",
			ok, after.AmountRefunded, after.Observed, plan.Amount, served)
	}
}

// TestInterruptedAttemptIsRecorded: an operator who interrupts a refund in
// flight (the context is cancelled) leaves a pending intent, and its attempt
// records why it ended.
func TestInterruptedAttemptIsRecorded(t *testing.T) {
	rig := newRefundRig(t, sandbox.Options{NoScenarios: true})
	plan := rig.duplicatePair(2400)
	rig.fault.Store(faultAfterTimout)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for rig.posts.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	outcomes, err := rig.refunder().Refund(ctx, []reconcile.RefundRequest{plan}, nil)
	if err != nil || len(outcomes) != 1 || !outcomes[0].Pending {
		t.Fatalf("outcomes = %+v, %v; want one pending", outcomes, err)
	}
	assertAttempts(t, rig.ledger, plan.Key, []attemptWant{{"ana", reconcile.RefundPending, "", "network", "interrupted"}})
	if it := rig.ledger.Intent(plan.Key); it.Status != reconcile.RefundPending || it.ErrorMessage != "interrupted" {
		t.Errorf("intent = %+v, want pending, interrupted", it)
	}
}

// TestRefundDeadline: a Stripe that accepts the connection and never answers
// (the sandbox's hanging endpoint, with a request timeout far longer than the
// test) holds a refund only until the Refunder's deadline; past it the intent
// stays pending with the reason and the resume command, and the batch stops:
// the rest are not attempted (nothing recorded), each saying what to run.
func TestRefundDeadline(t *testing.T) {
	rig := newRefundRig(t, sandbox.Options{NoScenarios: true, TimeoutRate: 1})
	rig.client.http.Timeout = time.Hour // as Stripe's 30 s per attempt × 8 attempts: never reached here
	plans := []reconcile.RefundRequest{rig.duplicatePair(2400), rig.duplicatePair(900), rig.duplicatePair(500)}
	r := rig.refunder()
	r.Deadline = 100 * time.Millisecond
	outcomes, err := r.Refund(context.Background(), plans, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != len(plans) {
		t.Fatalf("%d outcomes for %d refunds, want one each", len(outcomes), len(plans))
	}
	if o := outcomes[0]; !o.Pending || o.Err == nil || !strings.Contains(o.Err.Error(), "no answer within the refund deadline of 100ms") ||
		!strings.Contains(o.Err.Error(), reconcile.ResumeCommand(reconcile.ResumeTarget{})) {
		t.Errorf("outcome 0 = %+v, want pending past the deadline, with the resume command", o)
	}
	for i, o := range outcomes[1:] {
		if !o.NotAttempted || o.Pending || o.Err == nil || !strings.Contains(o.Err.Error(), "not attempted") ||
			!strings.Contains(o.Err.Error(), "doublecheck refund --group "+plans[i+1].GroupID) {
			t.Errorf("outcome %d = %+v, want not attempted, with the commands", i+1, o)
		}
	}
	pending, _ := rig.ledger.PendingRefunds(context.Background())
	if len(pending) != 1 || pending[0].Key != plans[0].Key {
		t.Fatalf("pending intents = %+v, want only the first", pending)
	}
	if it := pending[0]; it.ErrorCode != "network" || !strings.Contains(it.ErrorMessage, "refund deadline") {
		t.Errorf("intent %s recorded %q %q, want the deadline", it.Key, it.ErrorCode, it.ErrorMessage)
	}
}

// TestResumeStopsAtTheDeadline: a resume against a Stripe that never answers
// stops at the first intent that hits the deadline; the others stay pending,
// untouched (no attempt recorded), each reported as not attempted with the
// resume command.
func TestResumeStopsAtTheDeadline(t *testing.T) {
	rig := newRefundRig(t, sandbox.Options{NoScenarios: true, TimeoutRate: 1})
	rig.client.http.Timeout = time.Hour // never reached here: only the deadline ends a request
	var keys []string
	for _, amount := range []int64{2400, 900, 500} {
		it := reconcile.RefundIntent{RefundRequest: rig.duplicatePair(amount), Operator: "ana", Status: reconcile.RefundPending, CreatedAt: rig.clock()}
		if _, _, err := rig.ledger.BeginRefund(context.Background(), it); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, it.Key)
	}
	r := rig.refunder()
	r.Deadline = 100 * time.Millisecond
	outcomes, err := r.Resume(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != len(keys) {
		t.Fatalf("%d outcomes for %d pending intents, want one each", len(outcomes), len(keys))
	}
	if o := outcomes[0]; !o.Pending || o.NotAttempted || o.Err == nil || !strings.Contains(o.Err.Error(), "no answer within the refund deadline") {
		t.Errorf("outcome 0 = %+v, want the deadline hit", o)
	}
	for i, o := range outcomes[1:] {
		if !o.NotAttempted || !o.Pending || o.Err == nil ||
			!strings.Contains(o.Err.Error(), "so the resume stopped") || !strings.Contains(o.Err.Error(), reconcile.ResumeCommand(reconcile.ResumeTarget{})) {
			t.Errorf("outcome %d = %+v, want pending, not attempted, with the resume command", i+1, o)
		}
	}
	pending, _ := rig.ledger.PendingRefunds(context.Background())
	if len(pending) != len(keys) {
		t.Fatalf("%d intents pending after the resume, want all %d", len(pending), len(keys))
	}
	for _, it := range pending {
		wantAttempts := 0
		if it.Key == outcomes[0].Intent.Key {
			wantAttempts = 1
		}
		if it.Attempts != wantAttempts {
			t.Errorf("intent %s has %d attempts, want %d", it.Key, it.Attempts, wantAttempts)
		}
	}
}
