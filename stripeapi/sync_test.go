package stripeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	stripe "github.com/stripe/stripe-go/v76"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
)

// memSink is an in-memory Sink with the store's semantics: one atomic batch,
// newest Observed wins per charge, key sources merge, "" unsets a state name.
type memSink struct {
	mu        sync.Mutex
	charges   map[string]reconcile.Charge
	keys      map[string]reconcile.KeyRecord
	requests  map[string]reconcile.RequestRecord  // by object id
	checkouts map[string]reconcile.CheckoutRecord // by session id
	state     map[string]string
	batches   int
	failAfter int // > 0: every batch after this many saved ones fails
}

var errSinkFull = errors.New("disk full")

func newMemSink() *memSink {
	return &memSink{charges: map[string]reconcile.Charge{}, keys: map[string]reconcile.KeyRecord{}, state: map[string]string{},
		requests: map[string]reconcile.RequestRecord{}, checkouts: map[string]reconcile.CheckoutRecord{}}
}

func (s *memSink) SaveSyncBatch(ctx context.Context, charges []reconcile.Charge, keys []reconcile.KeyRecord, obs reconcile.Observations, state map[string]string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAfter > 0 && s.batches >= s.failAfter {
		return errSinkFull
	}
	for _, c := range charges {
		if old, ok := s.charges[c.ID]; ok && old.Observed.After(c.Observed) {
			continue
		}
		s.charges[c.ID] = c
	}
	for _, k := range keys {
		old := s.keys[k.Key]
		k.Sources = slices.Compact(slices.Sorted(slices.Values(append(old.Sources, k.Sources...))))
		if k.ChargeID == "" {
			k.ChargeID = old.ChargeID
		}
		s.keys[k.Key] = k
	}
	for _, r := range obs.Requests {
		s.requests[r.Object] = r
	}
	for _, c := range obs.Checkouts {
		s.checkouts[c.Session] = c
	}
	for name, v := range state {
		if v == "" {
			delete(s.state, name)
		} else {
			s.state[name] = v
		}
	}
	s.batches++
	return nil
}

func (s *memSink) State(ctx context.Context, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state[name], nil
}

// sinkCheckpoint is the checkpoint the sink holds.
func sinkCheckpoint(t *testing.T, sink *memSink) checkpoint {
	t.Helper()
	var cp checkpoint
	if err := json.Unmarshal([]byte(sink.state[stateCheckpoint]), &cp); err != nil {
		t.Fatalf("checkpoint %q: %v", sink.state[stateCheckpoint], err)
	}
	return cp
}

func (s *memSink) charge(id string) (reconcile.Charge, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.charges[id]
	return c, ok
}

func newSandbox(t testing.TB, opts sandbox.Options) (*sandbox.Server, string) {
	t.Helper()
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() {
		sb.Close()
		srv.Close()
	})
	return sb, srv.URL
}

// testClient is a client with test-sized backoff and request timeout.
func testClient(t testing.TB, secret, base string) *Client {
	t.Helper()
	key, err := ParseKey(secret, "STRIPE_API_KEY")
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(key, base)
	c.retryBase = 5 * time.Millisecond
	c.http.Timeout = 5 * time.Second
	return c
}

// fast lifts the client-side rate limit for tests that are not about it.
var fast = SyncOptions{Rate: 2000, Concurrency: 8}

// serverCharges is the sandbox's set of charges, converted like a sync would.
func serverCharges(t *testing.T, sb *sandbox.Server) map[string]reconcile.Charge {
	t.Helper()
	out := map[string]reconcile.Charge{}
	for _, raw := range sb.Charges() {
		c, err := decodeCharge(raw, time.Time{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		out[c.ID] = c
	}
	return out
}

// assertSameCharges checks the sink holds exactly the server's charges, field
// for field (the observation time and raw JSON aside).
func assertSameCharges(t *testing.T, want map[string]reconcile.Charge, sink *memSink) {
	t.Helper()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.charges) != len(want) {
		t.Errorf("sink has %d charges, server %d", len(sink.charges), len(want))
	}
	bad := 0
	for id, w := range want {
		got, ok := sink.charges[id]
		if !ok {
			bad++
			if bad <= 5 {
				t.Errorf("charge %s missing from the sink", id)
			}
			continue
		}
		got.Observed, got.Raw, w.Observed, w.Raw = time.Time{}, nil, time.Time{}, nil
		if !equalCharge(got, w) {
			bad++
			if bad <= 5 {
				t.Errorf("charge %s differs:\n got %+v\nwant %+v", id, got, w)
			}
		}
	}
}

func equalCharge(a, b reconcile.Charge) bool {
	am, bm := a.Metadata, b.Metadata
	a.Metadata, b.Metadata = nil, nil
	return fmt.Sprint(a) == fmt.Sprint(b) && maps.Equal(am, bm)
}

func TestSyncBackfillEqualsServer(t *testing.T) {
	sb, base := newSandbox(t, sandbox.Options{Seed: 1})
	c := testClient(t, sandbox.TestKey, base)
	sink := newMemSink()
	var progress []SyncProgress
	opts := fast
	opts.Progress = func(p SyncProgress) { progress = append(progress, p) }
	res, err := c.Sync(context.Background(), sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := serverCharges(t, sb)
	assertSameCharges(t, want, sink)
	if res.Charges != len(want) || res.Incremental || res.Resumed {
		t.Errorf("result %+v: want %d charges fetched once each, a full backfill", res, len(want))
	}
	if res.Requests != sb.Stats().Requests {
		t.Errorf("result counts %d requests, the server saw %d", res.Requests, sb.Stats().Requests)
	}
	if len(progress) != res.Pages || progress[len(progress)-1].Charges != res.Charges {
		t.Errorf("%d progress reports for %d pages; last %+v", len(progress), res.Pages, progress[len(progress)-1])
	}
	if last := progress[len(progress)-1]; last.EstimatedTotal != len(want) || last.Fraction != 1 {
		t.Errorf("final progress estimates %d charges (fraction %.2f), want %d and 1", last.EstimatedTotal, last.Fraction, len(want))
	}
	// Halfway through, the estimate is close and there is time left.
	mid := progress[len(progress)/2]
	if off := float64(mid.EstimatedTotal-len(want)) / float64(len(want)); off < -0.25 || off > 0.25 || mid.ETA <= 0 ||
		mid.Fraction <= 0 || mid.Fraction >= 1 {
		t.Errorf("halfway progress %+v: want an estimate within 25%% of %d charges, a fraction and an ETA", mid, len(want))
	}
	if _, err := time.Parse(time.RFC3339, sink.state[StateLastSync]); err != nil {
		t.Errorf("last sync time %q: %v", sink.state[StateLastSync], err)
	}
	if cp := sinkCheckpoint(t, sink); cp.Plan != nil {
		t.Errorf("plan %s left behind by a complete sync", cp.Plan.ID)
	}
	for name, value := range sink.state {
		if name != stateCheckpoint && name != StateLastSync {
			t.Errorf("state %s left behind by a complete sync", name)
		}
		if strings.Contains(value, sandbox.TestKey) {
			t.Errorf("state %s holds the API key", name)
		}
	}
	// Key records from charge.succeeded/failed events point at synced charges.
	if len(sink.keys) == 0 {
		t.Fatal("no idempotency keys from events")
	}
	for k, rec := range sink.keys {
		if _, ok := want[rec.ChargeID]; !ok || !slices.Equal(rec.Sources, []string{reconcile.SourceEvent}) {
			t.Errorf("key record %s = %+v: want an event key of a known charge", k, rec)
		}
		if strings.HasPrefix(k, "doublecheck-refund-") {
			t.Errorf("key %s belongs to a refund request, not a charge", k)
		}
	}
}

func TestSyncResumesAfterInterruption(t *testing.T) {
	sb, base := newSandbox(t, sandbox.Options{Seed: 2, Ordinary: 4000})
	want := serverCharges(t, sb)

	full, err := testClient(t, sandbox.TestKey, base).Sync(context.Background(), newMemSink(), fast)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		interrupt func(ctx context.Context, sink *memSink) (context.Context, SyncOptions)
		wantErr   error
	}{
		{"sink fails after 5 batches", func(ctx context.Context, sink *memSink) (context.Context, SyncOptions) {
			sink.failAfter = 5 + 1 // the plan is the first batch
			return ctx, fast
		}, errSinkFull},
		{"killed after 7 pages", func(ctx context.Context, sink *memSink) (context.Context, SyncOptions) {
			ctx, cancel := context.WithCancel(ctx)
			opts := fast
			opts.Progress = func(p SyncProgress) {
				if p.Pages == 7 {
					cancel()
				}
			}
			return ctx, opts
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := newMemSink()
			ctx, opts := tt.interrupt(context.Background(), sink)
			first, err := testClient(t, sandbox.TestKey, base).Sync(ctx, sink, opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("interrupted sync: error %v, want %v", err, tt.wantErr)
			}
			if n := len(sink.charges); n == 0 || n >= len(want) {
				t.Fatalf("interrupted sync saved %d of %d charges; want a part", n, len(want))
			}
			sink.failAfter = 0
			second, err := testClient(t, sandbox.TestKey, base).Sync(context.Background(), sink, fast)
			if err != nil {
				t.Fatal(err)
			}
			if !second.Resumed || second.Incremental {
				t.Errorf("second sync %+v: want a resumed backfill", second)
			}
			assertSameCharges(t, want, sink)
			// Nothing fetched twice, nothing skipped: the saved cursors pick up
			// exactly where the saved pages ended.
			if first.Charges+second.Charges != len(want) {
				t.Errorf("charges fetched: %d + %d, want %d in total", first.Charges, second.Charges, len(want))
			}
			// Items, not pages: idle workers split slices, so a resumed sync may
			// need as many (partial) pages as a full one; and the pages saved
			// before the interruption may all have been events.
			if got, all := second.Charges+second.Events, full.Charges+full.Events; got >= all {
				t.Errorf("resumed sync fetched %d charges and events, a full sync %d: it started over", got, all)
			}
		})
	}
}

func TestSyncIncremental(t *testing.T) {
	sb, base := newSandbox(t, sandbox.Options{Seed: 3, Ordinary: 1500})
	c := testClient(t, sandbox.TestKey, base)
	sink := newMemSink()
	ctx := context.Background()
	if _, err := c.Sync(ctx, sink, fast); err != nil {
		t.Fatal(err)
	}
	syncCost := func(what string) SyncResult {
		t.Helper()
		before := sb.Stats().Requests
		res, err := c.Sync(ctx, sink, fast)
		if err != nil {
			t.Fatal(err)
		}
		// One page of charges and one of events, however big the account is.
		if got := sb.Stats().Requests - before; got != 2 || !res.Incremental {
			t.Errorf("%s: %d requests (incremental=%v), want 2", what, got, res.Incremental)
		}
		return res
	}

	syncCost("nothing new")
	assertSameCharges(t, serverCharges(t, sb), sink)

	id := sb.AddCharge(sandbox.ChargeSpec{Email: "late@example.com", Amount: 1234, IdempotencyKey: "app-order-77-try-1",
		Metadata: map[string]string{"order_id": "o-77"}})
	syncCost("one new charge")
	got, ok := sink.charge(id)
	if !ok || got.Amount != 1234 || got.Email != "late@example.com" || got.Metadata["order_id"] != "o-77" {
		t.Fatalf("new charge %s in sink: %+v (found %v)", id, got, ok)
	}
	if rec := sink.keys["app-order-77-try-1"]; rec.ChargeID != id {
		t.Errorf("key record of the new charge: %+v", rec)
	}

	// A refund of an old charge is outside the incremental charge window: only
	// its charge.refunded event can bring it.
	old := oldRefundableCharge(t, sink, time.Now().Add(-3*24*time.Hour))
	params := &stripe.RefundParams{Charge: stripe.String(old.ID), Amount: stripe.Int64(old.Amount / 2)}
	params.SetIdempotencyKey("test-refund-" + old.ID)
	if _, err := c.api.Refunds.New(params); err != nil {
		t.Fatal(err)
	}
	syncCost("a refund of an old charge")
	if got, _ := sink.charge(old.ID); got.AmountRefunded != old.Amount/2 {
		t.Errorf("refunded charge %s: amount_refunded %d, want %d", old.ID, got.AmountRefunded, old.Amount/2)
	}
	if _, ok := sink.keys["test-refund-"+old.ID]; ok {
		t.Error("the refund request's idempotency key became a charge key record")
	}
}

// oldRefundableCharge picks a charge created before cutoff (and within the event
// retention) that can be refunded.
func oldRefundableCharge(t *testing.T, sink *memSink, cutoff time.Time) reconcile.Charge {
	t.Helper()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for _, c := range sink.charges {
		if c.Counts() && c.AmountRefunded == 0 && !c.Disputed && c.Created.Before(cutoff) &&
			c.Created.After(cutoff.Add(-20*24*time.Hour)) && c.Amount >= 200 {
			return c
		}
	}
	t.Fatal("no refundable charge in the sandbox data")
	return reconcile.Charge{}
}

// faultInjector answers every 7th request 429, every 11th 503 and lets every
// 13th hang until the client gives up, in front of the sandbox: deterministic
// faults, so the test always meets each kind.
type faultInjector struct {
	next                     http.Handler
	mu                       sync.Mutex
	n, limited, failed, hung int
}

func (f *faultInjector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	n := f.n
	fault := ""
	switch {
	case n%7 == 0:
		fault, f.limited = "429", f.limited+1
	case n%11 == 0:
		fault, f.failed = "503", f.failed+1
	case n%13 == 0:
		fault, f.hung = "hang", f.hung+1
	}
	f.mu.Unlock()
	switch fault {
	case "429":
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests hit the API too quickly."}}`)
	case "503":
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":{"type":"api_error","message":"Service unavailable."}}`)
	case "hang":
		<-r.Context().Done()
	default:
		f.next.ServeHTTP(w, r)
	}
}

func TestSyncSurvivesRateLimitsAndServerErrors(t *testing.T) {
	t.Run("sandbox rate limit far below the client's rate", func(t *testing.T) {
		sb, base := newSandbox(t, sandbox.Options{Seed: 4, Ordinary: 1000, RateLimit: 20, RateBurst: 1})
		sink := newMemSink()
		res, err := testClient(t, sandbox.TestKey, base).Sync(context.Background(), sink, SyncOptions{Rate: 100, Concurrency: 8})
		if err != nil {
			t.Fatalf("sync under a rate limit: %v", err)
		}
		assertSameCharges(t, serverCharges(t, sb), sink)
		if st := sb.Stats(); st.RateLimited == 0 || res.Retries < st.RateLimited {
			t.Errorf("%d 429s from the server, %d retries: want 429s, each retried", st.RateLimited, res.Retries)
		}
	})
	t.Run("429s, 503s and hung requests", func(t *testing.T) {
		sb := sandbox.New(sandbox.Options{Seed: 4, Ordinary: 1000})
		faults := &faultInjector{next: sb}
		srv := httptest.NewServer(faults)
		t.Cleanup(srv.Close)
		c := testClient(t, sandbox.TestKey, srv.URL)
		c.http.Timeout = 1500 * time.Millisecond
		sink := newMemSink()
		res, err := c.Sync(context.Background(), sink, fast)
		if err != nil {
			t.Fatalf("sync with faults: %v", err)
		}
		assertSameCharges(t, serverCharges(t, sb), sink)
		if faults.limited == 0 || faults.failed == 0 || faults.hung == 0 ||
			res.Retries < faults.limited+faults.failed+faults.hung {
			t.Errorf("%d retries for %d 429s, %d 503s, %d hangs: want each retried", res.Retries, faults.limited, faults.failed, faults.hung)
		}
	})
}

func TestSyncWithoutEventsEndpoint(t *testing.T) {
	sb, base := newSandbox(t, sandbox.Options{Seed: 5, Ordinary: 500, NoEvents: true})
	var warnings []string
	opts := fast
	opts.Warn = func(msg string) { warnings = append(warnings, msg) }
	sink := newMemSink()
	res, err := testClient(t, sandbox.TestKey, base).Sync(context.Background(), sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	assertSameCharges(t, serverCharges(t, sb), sink)
	if len(warnings) != 1 || !strings.Contains(warnings[0], "no events from "+base) || !res.EventsSkipped {
		t.Errorf("warnings %q (events skipped %v): want exactly one about the missing events", warnings, res.EventsSkipped)
	}
	if len(sink.keys) != 0 {
		t.Errorf("%d key records without events", len(sink.keys))
	}
}

func TestDisputeEventRefetchesTheCharge(t *testing.T) {
	sb, base := newSandbox(t, sandbox.Options{Seed: 6, Ordinary: -1})
	var disputed string
	for name, ids := range sb.Scenarios() {
		if strings.HasPrefix(name, "disputed/") {
			disputed = ids[len(ids)-1]
		}
	}
	if disputed == "" {
		t.Fatal("no disputed scenario in the sandbox")
	}
	c := testClient(t, sandbox.TestKey, base)
	ev, _ := json.Marshal(map[string]any{
		"id": "evt_dispute", "object": "event", "type": eventDisputeCreated, "created": time.Now().Unix(),
		"data": map[string]any{"object": map[string]any{"id": "dp_1", "object": "dispute", "charge": disputed, "amount": 100}},
	})
	run := &syncRun{c: c, opts: SyncOptions{Now: time.Now}}
	b, err := run.eventsBatch(context.Background(), []json.RawMessage{ev})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.charges) != 1 || b.charges[0].ID != disputed || !b.charges[0].Disputed || b.charges[0].Raw == nil {
		t.Fatalf("dispute event gave %+v, want the disputed charge %s as Stripe has it", b.charges, disputed)
	}
	if len(b.keys) != 0 {
		t.Errorf("a dispute event made key records: %+v", b.keys)
	}
}

// TestDisputedChargeIsValidated: the charge a dispute event makes sync fetch
// again is checked like every other; an impossible one stops the sync.
func TestDisputedChargeIsValidated(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"ch_bad","object":"charge","amount":-5,"amount_refunded":0,"currency":"usd","created":%d,"status":"succeeded","captured":true,"disputed":true}`,
			time.Now().Add(-time.Hour).Unix())
	}))
	t.Cleanup(srv.Close)
	ev, _ := json.Marshal(map[string]any{
		"id": "evt_dispute", "object": "event", "type": eventDisputeCreated, "created": time.Now().Unix(),
		"data": map[string]any{"object": map[string]any{"id": "dp_1", "object": "dispute", "charge": "ch_bad", "amount": 100}},
	})
	run := &syncRun{c: testClient(t, sandbox.TestKey, srv.URL), opts: SyncOptions{Now: time.Now}}
	b, err := run.eventsBatch(context.Background(), []json.RawMessage{ev})
	if err == nil || !strings.Contains(err.Error(), "amount -5 is negative") {
		t.Fatalf("got %+v, %v; want the impossible charge refused", b.charges, err)
	}
}

func TestSyncErrorsAreOneSentenceWithoutTheKey(t *testing.T) {
	_, base := newSandbox(t, sandbox.Options{Seed: 7, Ordinary: 100})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(silent.Close)
	tests := []struct {
		name    string
		secret  string
		base    string
		account bool // the error comes from Account (else from Sync)
		kind    error
		want    string
	}{
		{"wrong key", "sk_test_wrongwrongwrongwrong1234", base, true, ErrBadKey,
			"Stripe rejected the API key (sk_test_…1234): check --api-key or STRIPE_API_KEY"},
		{"stale key from the stripe CLI config", "rk_test_stalestalestalestale9z9z", base, true, ErrBadKey,
			"Stripe rejected the API key (rk_test_…9z9z from /home/ada/.config/stripe/config.toml): run `stripe login` again"},
		{"restricted key without charge read", sandbox.NoReadKey, base, false, ErrPermission,
			"the restricted key (rk_test_…read) lacks the Charges: Read permission (rak_charge_read)"},
		{"nothing listening", sandbox.TestKey, "http://127.0.0.1:1", true, ErrUnreachable,
			"cannot reach Stripe at http://127.0.0.1:1: "},
		{"server never answers", sandbox.TestKey, silent.URL, false, ErrUnreachable,
			"cannot reach Stripe at " + silent.URL + ": no answer within 50ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testClient(t, tt.secret, tt.base)
			if strings.HasPrefix(tt.secret, "rk_test_stale") {
				c.key.Source = "/home/ada/.config/stripe/config.toml"
			}
			c.http.Timeout = 50 * time.Millisecond
			var err error
			if tt.account {
				_, err = c.Account(context.Background())
			} else {
				_, err = c.Sync(context.Background(), newMemSink(), fast)
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q (kind %v), want %v containing %q", err, err, tt.kind, tt.want)
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(text, tt.secret) {
					t.Errorf("error shows the key: %s", text)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestAccount(t *testing.T) {
	_, base := newSandbox(t, sandbox.Options{Seed: 8, Ordinary: -1})
	_, noAccount := newSandbox(t, sandbox.Options{Seed: 8, Ordinary: -1, NoAccount: true})
	const refused = "The provided key 'rk_test_*********qs8Kgd' does not have the required permissions for this endpoint on account "
	form2020, _ := accountServer(t, http.StatusForbidden, refused+"'acct_1PJBLEBBLEfV'. This is a restricted API key, but the required permissions are not available for use by restricted keys.")
	form2025, _ := accountServer(t, http.StatusForbidden, refused+"'acct_1PJBLEBBLEfV'. Having the 'rak_accounts_kyc_id_numbers_read' permission would allow this request to continue.")
	masked, _ := accountServer(t, http.StatusForbidden, refused+"'acct_1Ab***'. Having the 'rak_accounts_kyc_id_numbers_read' permission would allow this request to continue.")
	for _, tt := range []struct {
		name    string
		secret  string
		base    string
		want    Account
		unknown string
	}{
		{"secret key", sandbox.TestKey, base, Account{ID: sandbox.AccountID, Name: sandbox.AccountName}, ""},
		{"live key", sandbox.LiveKey, base, Account{ID: sandbox.AccountID, Name: sandbox.AccountName, Live: true}, ""},
		{"restricted key: the id from Stripe's 403", sandbox.RestrictedKey, base,
			Account{ID: sandbox.AccountID, Name: sandbox.AccountID}, "the account's name"},
		{"server without /v1/account", sandbox.TestKey, noAccount, Account{}, "which account the key opens (" + noAccount + " has no /v1/account)"},
		{"Stripe's 403 as of 2020", sandbox.RestrictedKey, form2020, Account{ID: "acct_1PJBLEBBLEfV", Name: "acct_1PJBLEBBLEfV"}, "the account's name"},
		{"Stripe's 403 as of 2025", sandbox.RestrictedKey, form2025, Account{ID: "acct_1PJBLEBBLEfV", Name: "acct_1PJBLEBBLEfV"}, "the account's name"},
		{"a masked account id is no id", sandbox.RestrictedKey, masked, Account{}, "which account the key opens"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			acct, err := testClient(t, tt.secret, tt.base).Account(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			unknown := acct.Unknown
			acct.Unknown = ""
			if acct != tt.want || !strings.HasPrefix(unknown, tt.unknown) || (tt.unknown == "") != (unknown == "") {
				t.Errorf("Account() = %+v (unknown %q), want %+v (unknown %q…)", acct, unknown, tt.want, tt.unknown)
			}
		})
	}
}

// A server that ignores starting_after would keep a sync busy forever.
func TestSyncStopsOnAServerThatRepeatsPages(t *testing.T) {
	page := `{"object":"list","has_more":true,"data":[` + chargeFull + `]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, page)
	}))
	t.Cleanup(srv.Close)
	_, err := testClient(t, sandbox.TestKey, srv.URL).Sync(context.Background(), newMemSink(), SyncOptions{Rate: 1000, SkipEvents: true, Concurrency: 1})
	if err == nil || !strings.Contains(err.Error(), "sent the same page again") {
		t.Fatalf("error %v, want the repeated page named", err)
	}
}

// A --since further back than the last complete backfill fetches the older
// charges; after that, syncs are incremental again.
func TestSyncWidenedSinceBackfillsAgain(t *testing.T) {
	sb, base := newSandbox(t, sandbox.Options{Seed: 9, Ordinary: 1000})
	want := serverCharges(t, sb)
	c := testClient(t, sandbox.TestKey, base)
	sink := newMemSink()
	ctx := context.Background()
	steps := []struct {
		since           time.Duration
		wantIncremental bool
	}{{10 * 24 * time.Hour, false}, {90 * 24 * time.Hour, false}, {90 * 24 * time.Hour, true}}
	for i, step := range steps {
		opts := fast
		opts.Since = time.Now().Add(-step.since)
		res, err := c.Sync(ctx, sink, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Incremental != step.wantIncremental {
			t.Errorf("sync %d since %v: incremental=%v, want %v", i, step.since, res.Incremental, step.wantIncremental)
		}
		if i == 0 && len(sink.charges) >= len(want) {
			t.Fatalf("a 10-day sync stored %d of %d charges spread over 60 days", len(sink.charges), len(want))
		}
	}
	assertSameCharges(t, want, sink)
}

// An authorisation captured after it was synced lies outside every later
// incremental charge window: only its charge.captured event can bring the
// capture, and with it the duplicate the authorisation turns into.
func TestSyncSeesLaterCapture(t *testing.T) {
	tests := []struct {
		name    string
		capture func(t *testing.T, sb *sandbox.Server, c *Client, id string)
		amount  int64 // captured; the rest of the 5000 authorised is released
	}{
		{"captured through the API with its own idempotency key", func(t *testing.T, sb *sandbox.Server, c *Client, id string) {
			params := &stripe.ChargeCaptureParams{}
			params.SetIdempotencyKey("capture-" + id)
			if _, err := c.api.Charges.Capture(id, params); err != nil {
				t.Fatal(err)
			}
		}, 5000},
		{"partly captured through the API", func(t *testing.T, sb *sandbox.Server, c *Client, id string) {
			params := &stripe.ChargeCaptureParams{Amount: stripe.Int64(3000)}
			params.SetIdempotencyKey("capture-" + id)
			if _, err := c.api.Charges.Capture(id, params); err != nil {
				t.Fatal(err)
			}
		}, 3000},
		{"captured in the Dashboard", func(t *testing.T, sb *sandbox.Server, c *Client, id string) {
			if err := sb.Capture(id); err != nil {
				t.Fatal(err)
			}
		}, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, base := newSandbox(t, sandbox.Options{Seed: 10, Ordinary: 300})
			c := testClient(t, sandbox.TestKey, base)
			sink := newMemSink()
			ctx := context.Background()
			authorised := sb.Now().Add(-3 * time.Hour)
			buyer := sandbox.ChargeSpec{Customer: "cus_capture", Email: "hold@example.com", CardFingerprint: "fpCapture000001", Amount: 5000}
			first := buyer
			first.Created, first.IdempotencyKey = authorised, "checkout-try-1"
			firstID := sb.AddCharge(first)
			hold := buyer
			hold.Created, hold.IdempotencyKey, hold.Uncaptured = authorised.Add(40*time.Second), "checkout-try-2", true
			holdID := sb.AddCharge(hold)
			sb.AddCharge(sandbox.ChargeSpec{}) // a charge of now: the next sync's window starts hours after the hold

			if _, err := c.Sync(ctx, sink, fast); err != nil {
				t.Fatal(err)
			}
			if got, ok := sink.charge(holdID); !ok || got.Captured || got.Counts() {
				t.Fatalf("the authorisation %s is missing or stored as captured before its capture", holdID)
			}
			tt.capture(t, sb, c, holdID)
			res, err := c.Sync(ctx, sink, fast)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Incremental {
				t.Fatalf("second sync %+v: want an incremental one", res)
			}
			got, ok := sink.charge(holdID)
			if !ok || !got.Captured || !got.Counts() || got.AmountRefunded != 5000-tt.amount || got.Observed.Before(got.Created.Add(time.Hour)) {
				t.Fatalf("after the capture the store holds %s (found %v): captured=%v status=%s amount_refunded=%d observed=%s; want it captured, %d released, observed at the capture",
					holdID, ok, got.Captured, got.Status, got.AmountRefunded, got.Observed, 5000-tt.amount)
			}
			if rec := sink.keys["checkout-try-2"]; rec.ChargeID != holdID {
				t.Errorf("the key that created the hold: %+v", rec)
			}
			if _, ok := sink.keys["capture-"+holdID]; ok {
				t.Error("the capture request's idempotency key became a charge key record")
			}

			// The capture makes the hold a duplicate of the first charge.
			input := reconcile.Input{}
			sink.mu.Lock()
			for _, ch := range sink.charges {
				input.Charges = append(input.Charges, ch)
			}
			sink.mu.Unlock()
			report := reconcile.Detect(input, reconcile.DefaultOptions())
			grouped := false
			for _, g := range report.Groups {
				var ids []string
				for _, m := range g.Charges {
					ids = append(ids, m.ID)
				}
				grouped = grouped || (slices.Contains(ids, firstID) && slices.Contains(ids, holdID))
			}
			if !grouped {
				t.Errorf("no group holds %s and the captured %s", firstID, holdID)
			}
		})
	}
}

// TestSyncReadsIntentAndCheckoutEvents: sync keeps what payment_intent.created
// and charge.succeeded events say about the creating request (the key, or
// that there was none) and the Checkout Sessions that completed, and a store
// synced before it read those types reads the 30 days of events again.
func TestSyncReadsIntentAndCheckoutEvents(t *testing.T) {
	sb, base := newSandbox(t, sandbox.Options{Seed: 5, Ordinary: 50})
	c := testClient(t, sandbox.TestKey, base)
	sink := newMemSink()
	ctx := context.Background()
	if _, err := c.Sync(ctx, sink, fast); err != nil {
		t.Fatal(err)
	}
	perAttempt := sb.Scenarios()["intent_per_attempt/1"]
	for _, id := range perAttempt {
		ch, _ := sink.charge(id)
		if r, ok := sink.requests[ch.PaymentIntent]; !ok || !strings.HasPrefix(r.Key, "pi-o-") {
			t.Errorf("PaymentIntent %s of %s: request %+v (found %v), want the server's key", ch.PaymentIntent, id, r, ok)
		}
		if r, ok := sink.requests[id]; !ok || r.Key != "" {
			t.Errorf("charge %s: request %+v (found %v), want the browser's, without a key", id, r, ok)
		}
	}
	carts := map[string]bool{}
	for _, id := range sb.Scenarios()["double_checkout/1"] {
		ch, _ := sink.charge(id)
		for _, cs := range sink.checkouts {
			if cs.PaymentIntent == ch.PaymentIntent {
				carts[cs.ClientReferenceID] = true
			}
		}
	}
	if len(carts) != 1 || carts[""] {
		t.Errorf("double_checkout/1 carts %v, want one client_reference_id", carts)
	}

	// A store an older doublecheck synced: its checkpoint names fewer types.
	cp := sinkCheckpoint(t, sink)
	cp.EventTypes = "charge.succeeded,charge.failed"
	sink.state[stateCheckpoint] = string(mustJSON(cp))
	clear(sink.requests)
	res, err := c.Sync(ctx, sink, fast)
	if err != nil {
		t.Fatal(err)
	}
	if types := sinkCheckpoint(t, sink).EventTypes; res.Events < 50 || len(sink.requests) == 0 || types != strings.Join(eventTypes, ",") {
		t.Errorf("after a sync by an older version: %d events read, %d requests, types %q; want the 30 days read again",
			res.Events, len(sink.requests), types)
	}
}

// asLegacyState rewrites the sink's checkpoint the way a version that kept its
// bookkeeping under several state names stored it (the JSON shapes are that
// version's, written out here rather than taken from this package's types).
func asLegacyState(t *testing.T, sink *memSink) {
	t.Helper()
	cp := sinkCheckpoint(t, sink)
	delete(sink.state, stateCheckpoint)
	for name, v := range map[string]int64{"stripe.charges.newest": cp.ChargesNewest, "stripe.charges.since": cp.ChargesSince,
		"stripe.events.newest": cp.EventsNewest} {
		if v != 0 {
			sink.state[name] = strconv.FormatInt(v, 10)
		}
	}
	if cp.EventTypes != "" {
		sink.state["stripe.events.types"] = cp.EventTypes
		sink.state["stripe.events.disputes_seen"] = string(mustJSON(cp.DisputesSeen))
	}
	if cp.Plan == nil {
		return
	}
	var specs []string
	for i, s := range cp.Plan.Slices {
		hi := ""
		if s.Hi != 0 {
			hi = fmt.Sprintf(`,"hi":%d`, s.Hi)
		}
		specs = append(specs, fmt.Sprintf(`{"kind":%q,"lo":%d%s}`, s.Kind, s.Lo, hi))
		if s.Fetched > 0 || s.Done {
			sink.state["stripe.sync.slice."+strconv.Itoa(i)] = fmt.Sprintf(`{"plan":%q,"after":%q,"newest":%d,"oldest":%d,"fetched":%d,"done":%v}`,
				cp.Plan.ID, s.After, s.Newest, s.Oldest, s.Fetched, s.Done)
		}
	}
	sink.state["stripe.sync.plan"] = fmt.Sprintf(`{"id":%q,"started":%d,"charges_from":%d,"incremental":%v,"slices":[%s]}`,
		cp.Plan.ID, cp.Plan.Started, cp.Plan.ChargesFrom, cp.Plan.Incremental, strings.Join(specs, ","))
}

// A store synced by the version that kept its bookkeeping under several state
// names: the next sync reads them, carries on as that version would have (a
// half-done sync resumes, a complete one stays incremental, an unreadable plan
// is planned again) and leaves one checkpoint behind.
func TestSyncUpgradesLegacyState(t *testing.T) {
	sb, base := newSandbox(t, sandbox.Options{Seed: 12, Ordinary: 3000})
	want := serverCharges(t, sb)
	tests := []struct {
		name                  string
		before                func(ctx context.Context) (context.Context, SyncOptions)
		edit                  func(sink *memSink)
		wantResumed, wantIncr bool
		wantRequests          int // 0: not checked
	}{
		{"interrupted backfill", func(ctx context.Context) (context.Context, SyncOptions) {
			ctx, cancel := context.WithCancel(ctx)
			opts := fast
			opts.Progress = func(p SyncProgress) {
				if p.Pages == 7 {
					cancel()
				}
			}
			return ctx, opts
		}, nil, true, false, 0},
		{"complete sync", func(ctx context.Context) (context.Context, SyncOptions) { return ctx, fast }, nil, false, true, 2},
		{"unreadable plan", func(ctx context.Context) (context.Context, SyncOptions) { return ctx, fast },
			func(sink *memSink) {
				delete(sink.state, "stripe.charges.newest")
				sink.state["stripe.sync.plan"] = "{not json"
				sink.state["stripe.sync.slice.3"] = `{"plan":"gone","after":"ch_x","fetched":100}`
			}, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := newMemSink()
			ctx, opts := tt.before(context.Background())
			first, _ := testClient(t, sandbox.TestKey, base).Sync(ctx, sink, opts)
			asLegacyState(t, sink)
			if tt.edit != nil {
				tt.edit(sink)
			}
			requests := sb.Stats().Requests
			second, err := testClient(t, sandbox.TestKey, base).Sync(context.Background(), sink, fast)
			if err != nil {
				t.Fatal(err)
			}
			if second.Resumed != tt.wantResumed || second.Incremental != tt.wantIncr {
				t.Errorf("sync after the upgrade %+v: want resumed=%v incremental=%v", second, tt.wantResumed, tt.wantIncr)
			}
			assertSameCharges(t, want, sink)
			if tt.wantResumed && first.Charges+second.Charges != len(want) {
				t.Errorf("charges fetched: %d + %d, want %d in total: the old cursors were not followed", first.Charges, second.Charges, len(want))
			}
			if got := sb.Stats().Requests - requests; tt.wantRequests > 0 && got != tt.wantRequests {
				t.Errorf("%d requests after the upgrade, want %d", got, tt.wantRequests)
			}
			if cp := sinkCheckpoint(t, sink); cp.Plan != nil || cp.ChargesNewest == 0 || cp.EventTypes != strings.Join(eventTypes, ",") {
				t.Errorf("checkpoint after the upgrade %+v: want a complete sync's", cp)
			}
			for name := range sink.state {
				if name != stateCheckpoint && name != StateLastSync {
					t.Errorf("state %s left behind", name)
				}
			}
		})
	}
}

// rangeRecorder notes the created[gte] of every charges list request.
type rangeRecorder struct {
	next http.Handler
	mu   sync.Mutex
	lows map[string]bool
}

func (rr *rangeRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/charges" {
		rr.mu.Lock()
		rr.lows[r.URL.Query().Get("created[gte]")] = true
		rr.mu.Unlock()
	}
	rr.next.ServeHTTP(w, r)
}

// All the charges lie in the newest of the planned slices: the workers whose
// slices are empty take halves of it instead of idling until it ends, and
// still nothing is fetched twice, in one run or across an interruption.
func TestSyncSplitsTheSliceWithTheMostLeft(t *testing.T) {
	sb := sandbox.New(sandbox.Options{Seed: 13, Ordinary: 3000, Span: 2 * 24 * time.Hour, NoScenarios: true})
	rec := &rangeRecorder{next: sb, lows: map[string]bool{}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	want := serverCharges(t, sb)
	opts := SyncOptions{Rate: 2000, Concurrency: 4, SkipEvents: true, Since: time.Now().Add(-40 * 24 * time.Hour)}

	for _, tt := range []struct {
		name      string
		interrupt int // pages before the first run is killed; 0: not killed
	}{{"one run", 0}, {"killed after 12 pages and resumed", 12}} {
		t.Run(tt.name, func(t *testing.T) {
			clear(rec.lows)
			sink := newMemSink()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			first := opts
			first.Progress = func(p SyncProgress) {
				if p.Pages == tt.interrupt {
					cancel()
				}
			}
			res, err := testClient(t, sandbox.TestKey, srv.URL).Sync(ctx, sink, first)
			fetched := res.Charges
			if tt.interrupt > 0 {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("interrupted sync: %v", err)
				}
				if cp := sinkCheckpoint(t, sink); cp.Plan == nil || len(cp.Plan.Slices) <= opts.Concurrency {
					t.Fatalf("interrupted sync saved %+v: want a plan with split slices", cp.Plan)
				}
				res, err = testClient(t, sandbox.TestKey, srv.URL).Sync(context.Background(), sink, opts)
				fetched += res.Charges
			}
			if err != nil {
				t.Fatal(err)
			}
			assertSameCharges(t, want, sink)
			if fetched != len(want) {
				t.Errorf("%d charges fetched for %d: some twice", fetched, len(want))
			}
			if len(rec.lows) <= opts.Concurrency {
				t.Errorf("charges listed from %d lower bounds, as planned (%d): no slice was split", len(rec.lows), opts.Concurrency)
			}
		})
	}
}
