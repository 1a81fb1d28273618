package paypalapi

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	paypal "github.com/plutov/paypal/v4"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
)

var testNow = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

// recorder counts the search requests the sandbox gets and keeps their queries.
type recorder struct {
	mu      sync.Mutex
	queries []url.Values
	next    http.Handler
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/v1/reporting/transactions" {
		r.mu.Lock()
		r.queries = append(r.queries, req.URL.Query())
		r.mu.Unlock()
	}
	r.next.ServeHTTP(w, req)
}

func startSandbox(t *testing.T, opts sandbox.Options) (*sandbox.Server, *recorder, *Client) {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = testNow
	}
	opts.Ordinary = -1 // the Stripe side is not needed here
	s := sandbox.New(opts)
	rec := &recorder{next: s}
	ts := httptest.NewServer(rec)
	t.Cleanup(func() { s.Close(); ts.Close() })
	c, err := New(Config{ClientID: sandbox.PayPalClientID, Secret: sandbox.PayPalSecret, Env: Sandbox, BaseURL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	return s, rec, c
}

// memSink is an in-memory Sink with the store's semantics: one atomic batch,
// newest Observed wins per charge (raw JSON with it), "" unsets a state name.
// Provider packages do not import the store, even in tests.
type memSink struct {
	mu      sync.Mutex
	charges map[string]reconcile.Charge
	state   map[string]string
}

func openStore(t *testing.T) *memSink {
	return &memSink{charges: map[string]reconcile.Charge{}, state: map[string]string{}}
}

func (m *memSink) SaveSyncBatch(ctx context.Context, charges []reconcile.Charge, _ []reconcile.KeyRecord, _ reconcile.Observations, state map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range charges {
		if old, ok := m.charges[c.ID]; ok && old.Observed.After(c.Observed) {
			continue
		}
		m.charges[c.ID] = c
	}
	for k, v := range state {
		if v == "" {
			delete(m.state, k)
		} else {
			m.state[k] = v
		}
	}
	return nil
}

func (m *memSink) State(_ context.Context, name string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state[name], nil
}

func (m *memSink) RawCharges(_ context.Context, ids []string) (map[string][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]byte{}
	for _, id := range ids {
		if c, ok := m.charges[id]; ok && len(c.Raw) > 0 {
			out[id] = c.Raw
		}
	}
	return out, nil
}

func charges(t *testing.T, st *memSink) map[string]reconcile.Charge {
	st.mu.Lock()
	defer st.mu.Unlock()
	return maps.Clone(st.charges)
}

// expected is what a sync up to through should store: the sandbox's
// balance-affecting payments initiated in [from, through), with the refunds
// made up to through.
func expected(s *sandbox.Server, from, through time.Time) map[string]int64 {
	out := map[string]int64{}
	txs := s.PayPalTransactions()
	for _, tx := range txs {
		if tx.BalanceAffecting && tx.Amount > 0 && strings.HasPrefix(tx.EventCode, "T00") && !tx.Initiated.Before(from) && tx.Initiated.Before(through) {
			out[tx.ID] = 0
		}
	}
	for _, tx := range txs {
		if _, ok := out[tx.ReferenceID]; ok && tx.EventCode == sandbox.PayPalEventRefund && tx.Initiated.Before(through) {
			out[tx.ReferenceID] -= tx.Amount
		}
	}
	return out
}

func checkStored(t *testing.T, st *memSink, want map[string]int64) {
	t.Helper()
	got := charges(t, st)
	if len(got) != len(want) {
		t.Errorf("%d charges stored, want %d", len(got), len(want))
	}
	for id, refunded := range want {
		c, ok := got[id]
		if !ok {
			t.Errorf("payment %s not stored", id)
			continue
		}
		if c.AmountRefunded != refunded {
			t.Errorf("payment %s: refunded %d, want %d", id, c.AmountRefunded, refunded)
		}
	}
}

func TestSyncStoresBalanceAffectingPaymentsWithRefunds(t *testing.T) {
	tests := []struct {
		name     string
		pageSize int
	}{
		{"pages of 500", 0},
		{"pages of 7", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, rec, c := startSandbox(t, sandbox.Options{})
			st := openStore(t)
			since := testNow.Add(-60 * 24 * time.Hour)
			res, err := c.Sync(context.Background(), st, SyncOptions{Since: since, PageSize: tt.pageSize, Now: s.Now})
			if err != nil {
				t.Fatal(err)
			}
			through := testNow.Add(-DefaultLag)
			if !res.Through.Equal(through) || res.Windows != 2 {
				t.Errorf("through %v in %d windows, want %v in 2", res.Through, res.Windows, through)
			}
			checkStored(t, st, expected(s, since, through))
			for _, q := range rec.queries {
				start, _ := time.Parse(time.RFC3339, q.Get("start_date"))
				end, _ := time.Parse(time.RFC3339, q.Get("end_date"))
				if end.Sub(start) > MaxWindow || q.Get("fields") != "all" || q.Get("balance_affecting_records_only") != "Y" {
					t.Errorf("search %v", q)
				}
			}
			if tt.pageSize == 7 && res.Pages <= 2*res.Windows {
				t.Errorf("%d pages for %d windows of pages of 7", res.Pages, res.Windows)
			}
			// Identity and order reference of a seeded duplicate.
			for _, tx := range s.PayPalTransactions() {
				if tx.Scenario != "paypal_same_invoice/1" || !tx.BalanceAffecting {
					continue
				}
				ch := charges(t, st)[tx.ID]
				if ch.Customer != tx.PayerID || ch.Email != tx.PayerEmail || ch.Metadata[MetaOrderRef] != tx.InvoiceID || ch.Livemode {
					t.Errorf("charge %+v for %+v", ch, tx)
				}
			}
		})
	}
}

// failingSink fails every save after the first n.
type failingSink struct {
	*memSink
	n, saved int
}

var errDiskFull = errors.New("disk full")

func (f *failingSink) SaveSyncBatch(ctx context.Context, ch []reconcile.Charge, k []reconcile.KeyRecord, o reconcile.Observations, st map[string]string) error {
	if f.saved >= f.n {
		return errDiskFull
	}
	f.saved++
	return f.memSink.SaveSyncBatch(ctx, ch, k, o, st)
}

func TestSyncResumesAtTheNextPage(t *testing.T) {
	s, rec, c := startSandbox(t, sandbox.Options{})
	st := openStore(t)
	since := testNow.Add(-60 * 24 * time.Hour)
	opts := SyncOptions{Since: since, PageSize: 10, Now: s.Now}
	if _, err := c.Sync(context.Background(), &failingSink{memSink: st, n: 5}, opts); !errors.Is(err, errDiskFull) {
		t.Fatalf("interrupted sync: %v", err)
	}
	before := len(rec.queries)
	res, err := c.Sync(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed {
		t.Errorf("the second sync did not resume")
	}
	// It asks again for the page whose save failed, never for the five saved.
	if q := rec.queries[before]; q.Get("page") != "6" {
		t.Errorf("resumed at page %s of %s, want page 6", q.Get("page"), q.Get("start_date"))
	}
	checkStored(t, st, expected(s, since, testNow.Add(-DefaultLag)))
}

func TestSyncWaitsOutTheLag(t *testing.T) {
	s, _, c := startSandbox(t, sandbox.Options{PayPalLag: time.Hour})
	st := openStore(t)
	since := testNow.Add(-40 * 24 * time.Hour)
	opts := SyncOptions{Since: since, Lag: time.Hour, Now: s.Now}
	if _, err := c.Sync(context.Background(), st, opts); err != nil {
		t.Fatal(err)
	}
	// A payment now, and a refund now of one synced before.
	fresh := s.AddPayPalCapture(4200, "usd", "late@example.com", "INV-LATE")
	var old sandbox.PayPalTransaction
	for _, tx := range s.PayPalTransactions() {
		if tx.Scenario == "paypal_double_submit/1" && tx.BalanceAffecting {
			old = tx
		}
	}
	refundNow(t, c, old.ID, 500)

	s.Advance(30 * time.Minute)
	res, err := c.Sync(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Half an hour on, the lag line (07:30) is before both.
	if _, ok := charges(t, st)[fresh]; ok || !res.Through.Equal(testNow.Add(-30*time.Minute)) {
		t.Errorf("sync half an hour later: through %v, new payment stored %v; want through 07:30 without it", res.Through, ok)
	}
	if again, err := c.Sync(context.Background(), st, opts); err != nil || !again.UpToDate {
		t.Errorf("a sync right after: %+v, %v; want up to date", again, err)
	}
	s.Advance(2 * time.Hour)
	if _, err := c.Sync(context.Background(), st, opts); err != nil {
		t.Fatal(err)
	}
	got := charges(t, st)
	if _, ok := got[fresh]; !ok {
		t.Errorf("the new payment is not stored once the lag passed")
	}
	if got[old.ID].AmountRefunded != 500 {
		t.Errorf("payment %s synced before its refund: refunded %d, want 500", old.ID, got[old.ID].AmountRefunded)
	}
	checkStored(t, st, expected(s, since, s.Now().Add(-time.Hour)))
}

func refundNow(t *testing.T, c *Client, capture string, amount int64) {
	t.Helper()
	g := c.RefundGateway("test")
	it := reconcile.RefundIntent{RefundRequest: reconcile.RefundRequest{ChargeID: capture, Amount: amount, Currency: "usd",
		Key: reconcile.RefundKey(capture, 0, amount)}}
	if _, err := g.Send(context.Background(), it); err != nil {
		t.Fatal(err)
	}
}

func TestClientCredentials(t *testing.T) {
	_, rec, _ := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: -1})
	_ = rec
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no environment", Config{ClientID: "a", Secret: "b"}, "--paypal-env sandbox or --paypal-env live"},
		{"no secret", Config{ClientID: "a", Env: Live}, EnvSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestWrongSecretIsRefusedWithoutEchoingIt(t *testing.T) {
	s, _, good := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: -1})
	c, err := New(Config{ClientID: sandbox.PayPalClientID, Secret: "wrong-secret-value", Env: Sandbox, BaseURL: good.BaseURL()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Sync(context.Background(), openStore(t), SyncOptions{Now: s.Now})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("sync with a wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("the error shows the secret: %v", err)
	}
}

// TestTokenPayPalStoppedAcceptingIsRenewed: PayPal's token lapses on its own
// clock (9 h); the next calls, a sync and a refund at once as the dashboard
// makes them, get a new one instead of failing.
func TestTokenPayPalStoppedAcceptingIsRenewed(t *testing.T) {
	s, _, c := startSandbox(t, sandbox.Options{PayPalLag: -1})
	st := openStore(t)
	opts := SyncOptions{Since: testNow.Add(-10 * 24 * time.Hour), Now: s.Now}
	if _, err := c.Sync(context.Background(), st, opts); err != nil {
		t.Fatal(err)
	}
	capture := s.AddPayPalCapture(5000, "usd", "buyer@example.com", "INV-T")
	s.Advance(sandbox.PayPalTokenLifetime + time.Minute)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); _, errs[0] = c.Sync(context.Background(), st, opts) }()
	go func() {
		defer wg.Done()
		_, errs[1] = c.RefundGateway("test").Send(context.Background(), intent(capture, 0, 100, "usd", s.Now()))
	}()
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("after the token lapsed: sync %v, refund %v", errs[0], errs[1])
	}
}

// TestSyncStartsWithinThreeYears: a --since older than PayPal's three years
// starts at them (PayPal would refuse the first window) and says so.
func TestSyncStartsWithinThreeYears(t *testing.T) {
	s, rec, c := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: 5})
	res, err := c.Sync(context.Background(), openStore(t), SyncOptions{Since: testNow.AddDate(-4, 0, 0), Now: s.Now})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := time.Parse(time.RFC3339, rec.queries[0].Get("start_date"))
	if !res.Clamped || first.Before(testNow.Add(-History)) || res.Windows < 35 {
		t.Fatalf("clamped %v, first window from %v over %d windows", res.Clamped, first, res.Windows)
	}
}

// TestAbsorbKeysOnTransactionID: a page holding two rows of one
// transaction_id stores one payment; a refund row updates its capture.
func TestAbsorbKeysOnTransactionID(t *testing.T) {
	row := func(id, code, amount, ref string) paypal.SearchTransactionDetails {
		return paypal.SearchTransactionDetails{TransactionInfo: paypal.SearchTransactionInfo{TransactionID: id,
			TransactionEventCode: code, TransactionStatus: "S", PayPalReferenceID: ref,
			TransactionInitiationDate: paypal.JSONTime(testNow), TransactionUpdatedDate: paypal.JSONTime(testNow),
			TransactionAmount: paypal.Money{Currency: "USD", Value: amount}}}
	}
	rows := []paypal.SearchTransactionDetails{
		row("1AB23456CD7890123", "T0006", "20.00", ""),
		row("1AB23456CD7890123", "T0006", "20.00", ""), // its non-balance-affecting twin
		row("9ZY87654XW3210987", "T1107", "-5.00", "1AB23456CD7890123"),
		row("5FEE0000000000000", "T0400", "-100.00", ""), // a withdrawal: no payment
	}
	c := &Client{env: Sandbox}
	var res SyncResult
	got, err := c.absorb(context.Background(), openStore(t), rows, &checkpoint{}, testNow, &res)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Amount != 2000 || got[0].AmountRefunded != 500 || res.Twins != 1 || res.Refunds != 1 || res.Other != 1 {
		t.Fatalf("charges %+v, result %+v", got, res)
	}
}

// TestSyncStopsWherePayPalsDataEnds: PayPal's reporting refreshed only up to
// two days ago: the sync keeps what it listed, says where it stopped, and
// the next one, once the data caught up, continues from there.
func TestSyncStopsWherePayPalsDataEnds(t *testing.T) {
	s, _, c := startSandbox(t, sandbox.Options{PayPalStale: 48 * time.Hour})
	st := openStore(t)
	since := testNow.Add(-60 * 24 * time.Hour)
	opts := SyncOptions{Since: since, Now: s.Now, PageSize: 50}
	res, err := c.Sync(context.Background(), st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.NotRefreshed || !res.Through.Equal(testNow.Add(-48*time.Hour)) || len(charges(t, st)) == 0 {
		t.Fatalf("first sync: %+v, %d charges", res, len(charges(t, st)))
	}
	s.SetPayPalStale(0) // the data caught up
	res, err = c.Sync(context.Background(), st, opts)
	if err != nil || !res.Resumed || res.NotRefreshed || !res.Through.Equal(testNow.Add(-DefaultLag)) {
		t.Fatalf("second sync: %+v, %v", res, err)
	}
	checkStored(t, st, expected(s, since, testNow.Add(-DefaultLag)))
	// Three hours on, PayPal's data lags ten: the next window's start is
	// refused as not available; nothing is lost, nothing is skipped.
	s.Advance(3 * time.Hour)
	s.SetPayPalStale(10 * time.Hour)
	res, err = c.Sync(context.Background(), st, opts)
	if err != nil || !res.NotRefreshed || !res.Through.Equal(testNow.Add(-DefaultLag)) {
		t.Fatalf("third sync: %+v, %v", res, err)
	}
}

// TestSyncRefusesAChargeNoAccountCanHold: a row PayPal sends that
// reconcile.ValidateCharge refuses (here an amount over doublecheck's
// maximum) stops the sync, as a Stripe sync stops on such a charge: nothing of
// its page is saved, the error names the transaction, and the next sync asks
// for that page again instead of skipping it.
func TestSyncRefusesAChargeNoAccountCanHold(t *testing.T) {
	s, rec, c := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: 3, PayPalLag: -1})
	st := openStore(t)
	opts := SyncOptions{Since: testNow.Add(-10 * 24 * time.Hour), Now: s.Now}
	if _, err := c.Sync(context.Background(), st, opts); err != nil {
		t.Fatal(err)
	}
	good := s.AddPayPalCapture(2500, "usd", "a@example.com", "INV-GOOD")
	bad := s.AddPayPalCapture(reconcile.MaxAmount+1, "usd", "b@example.com", "INV-BAD")
	s.Advance(DefaultLag + time.Minute)
	for attempt := 1; attempt <= 2; attempt++ {
		before := len(rec.queries)
		_, err := c.Sync(context.Background(), st, opts)
		if err == nil || !strings.Contains(err.Error(), "PayPal charge "+bad) || !strings.Contains(err.Error(), "doublecheck's maximum for a PayPal charge") {
			t.Fatalf("sync %d: error %v; want one naming PayPal charge %s and the maximum", attempt, err, bad)
		}
		if len(rec.queries) == before {
			t.Fatalf("sync %d asked PayPal nothing", attempt)
		}
		got := charges(t, st)
		if _, ok := got[bad]; ok {
			t.Errorf("sync %d stored the impossible charge", attempt)
		}
		if _, ok := got[good]; ok {
			t.Errorf("sync %d stored %s, of the refused page", attempt, good)
		}
	}
}

// TestDisputeHoldIsNoRefund: PayPal's event codes (developer.paypal.com/docs/
// transaction-search/transaction-event-codes): T1106 "Payment reversal,
// initiated by PayPal" and T1107 "Payment refund, initiated by merchant" give
// the payer money back; T1110 "Hold for dispute investigation" only holds it
// while a dispute is open, and T1111 "Cancellation of hold for dispute
// resolution" ends that hold.
func TestDisputeHoldIsNoRefund(t *testing.T) {
	const capture = "1AB23456CD7890123"
	row := func(id, code, amount, ref string) paypal.SearchTransactionDetails {
		return paypal.SearchTransactionDetails{TransactionInfo: paypal.SearchTransactionInfo{TransactionID: id,
			TransactionEventCode: code, TransactionStatus: "S", PayPalReferenceID: ref,
			TransactionInitiationDate: paypal.JSONTime(testNow), TransactionUpdatedDate: paypal.JSONTime(testNow),
			TransactionAmount: paypal.Money{Currency: "USD", Value: amount}}}
	}
	payment := row(capture, "T0006", "20.00", "")
	hold := row("HOLD0000000000001", "T1110", "-20.00", capture)
	release := row("RELEASE0000000001", "T1111", "20.00", capture)
	tests := []struct {
		name         string
		rows         []paypal.SearchTransactionDetails
		wantRefunded int64
		wantDisputed bool
	}{
		{"a hold", []paypal.SearchTransactionDetails{payment, hold}, 0, true},
		{"a hold, then its cancellation", []paypal.SearchTransactionDetails{payment, hold, release}, 0, false},
		{"a merchant's refund", []paypal.SearchTransactionDetails{payment, row("REFUND00000000001", "T1107", "-5.00", capture)}, 500, false},
		{"PayPal's reversal", []paypal.SearchTransactionDetails{payment, row("REVERSAL000000001", "T1106", "-20.00", capture)}, 2000, false},
		{"a fee refund", []paypal.SearchTransactionDetails{payment, row("FEEREFUND00000001", "T1109", "-0.88", capture)}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{env: Sandbox}
			var res SyncResult
			got, err := c.absorb(context.Background(), openStore(t), tt.rows, &checkpoint{}, testNow, &res)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].AmountRefunded != tt.wantRefunded || got[0].Disputed != tt.wantDisputed {
				t.Fatalf("%d charges, the first refunded %d, disputed %v; want refunded %d, disputed %v",
					len(got), got[0].AmountRefunded, got[0].Disputed, tt.wantRefunded, tt.wantDisputed)
			}
		})
	}
	// The hold's cancellation in a later sync, over the stored charge.
	st := openStore(t)
	c := &Client{env: Sandbox}
	for i, rows := range [][]paypal.SearchTransactionDetails{{payment, hold}, {release}} {
		var res SyncResult
		got, err := c.absorb(context.Background(), st, rows, &checkpoint{}, testNow, &res)
		if err == nil {
			err = st.SaveSyncBatch(context.Background(), got, nil, reconcile.Observations{}, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		if ch := charges(t, st)[capture]; ch.Disputed != (i == 0) || ch.AmountRefunded != 0 {
			t.Fatalf("after page %d: disputed %v, refunded %d", i+1, ch.Disputed, ch.AmountRefunded)
		}
	}
}

// TestSyncReadsTheSandboxsDisputeHolds: the sandbox's disputed double
// submits sync as disputed (hold open) or not (hold cancelled), refunded in
// neither case.
func TestSyncReadsTheSandboxsDisputeHolds(t *testing.T) {
	s, _, c := startSandbox(t, sandbox.Options{PayPalOrdinary: -1})
	st := openStore(t)
	if _, err := c.Sync(context.Background(), st, SyncOptions{Now: s.Now}); err != nil {
		t.Fatal(err)
	}
	got := charges(t, st)
	seen := 0
	for _, tx := range s.PayPalTransactions() {
		if tx.EventCode != sandbox.PayPalEventDisputeHold {
			continue
		}
		seen++
		ch := got[tx.ReferenceID]
		open := strings.HasSuffix(tx.Scenario, "/1")
		if ch.ID == "" || ch.Disputed != open || ch.AmountRefunded != 0 {
			t.Errorf("%s (%s): stored %q disputed %v, refunded %d; want disputed %v, nothing refunded", tx.ReferenceID, tx.Scenario, ch.ID, ch.Disputed, ch.AmountRefunded, open)
		}
	}
	if seen != 2 {
		t.Fatalf("%d dispute holds seeded, want 2", seen)
	}
}

// TestOnlyPaymentAndRefundAmountsAreRead: a fee, transfer or withdrawal row
// is counted whatever its amount says; a payment or refund row whose amount
// cannot be read refuses the page (it would change money at risk).
func TestOnlyPaymentAndRefundAmountsAreRead(t *testing.T) {
	const capture = "1AB23456CD7890123"
	row := func(id, code, amount, ref string) paypal.SearchTransactionDetails {
		return paypal.SearchTransactionDetails{TransactionInfo: paypal.SearchTransactionInfo{TransactionID: id,
			TransactionEventCode: code, TransactionStatus: "S", PayPalReferenceID: ref,
			TransactionInitiationDate: paypal.JSONTime(testNow), TransactionUpdatedDate: paypal.JSONTime(testNow),
			TransactionAmount: paypal.Money{Currency: "USD", Value: amount}}}
	}
	payment := row(capture, "T0006", "20.00", "")
	tests := []struct {
		name    string
		odd     paypal.SearchTransactionDetails
		refused bool
	}{
		{"a withdrawal of -1.5", row("WITHDRAWAL0000001", "T0400", "-1.5", ""), false},
		{"a withdrawal of -0.00", row("WITHDRAWAL0000002", "T0400", "-0.00", ""), false},
		{"a fee without a currency", row("FEE00000000000001", "T0100", "", ""), false},
		{"a fee reversal of a payment, unreadable", row("FEEREVERSAL000001", "T1108", "x", capture), false},
		{"a transfer", row("TRANSFER000000001", "T2000", "1,000.00", ""), false},
		{"a refund, unreadable", row("REFUND00000000001", "T1107", "-1,50", capture), true},
		{"a payment, unreadable", row("PAYMENT0000000001", "T0006", "20,00", ""), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{env: Sandbox}
			var res SyncResult
			got, err := c.absorb(context.Background(), openStore(t), []paypal.SearchTransactionDetails{payment, tt.odd}, &checkpoint{}, testNow, &res)
			if tt.refused {
				if err == nil || !strings.Contains(err.Error(), tt.odd.TransactionInfo.TransactionID) {
					t.Fatalf("error %v; want one naming %s", err, tt.odd.TransactionInfo.TransactionID)
				}
				return
			}
			if err != nil || len(got) != 1 || got[0].AmountRefunded != 0 || res.Other != 1 {
				t.Fatalf("error %v, %d charges, %d other rows; want the payment stored and one other row", err, len(got), res.Other)
			}
		})
	}
}

// TestAccountWhileReportingIsBehind: PayPal refuses a start_date its
// reporting has not reached; the account lookup steps back to older windows
// rather than fail every command while the data is a day or more behind.
func TestAccountWhileReportingIsBehind(t *testing.T) {
	tests := []struct {
		stale   time.Duration
		wantErr string
	}{
		{0, ""},
		{48 * time.Hour, ""},
		{10 * 24 * time.Hour, ""},
		{40 * 24 * time.Hour, "more than 31 days behind"},
	}
	for _, tt := range tests {
		t.Run(tt.stale.String(), func(t *testing.T) {
			s, _, c := startSandbox(t, sandbox.Options{PayPalStale: tt.stale, NoScenarios: true, PayPalOrdinary: -1})
			got, err := c.Account(context.Background(), s.Now())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Account = %q, %v; want an error saying %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != sandbox.PayPalAccountNumber {
				t.Fatalf("Account = %q, %v; want %s", got, err, sandbox.PayPalAccountNumber)
			}
		})
	}
}

// TestAbsorbRefundStatuses: a refund row counts as refunded while pending (P)
// or completed (S), never once denied (D) or reversed (V), also when an
// earlier page linked it while pending.
func TestAbsorbRefundStatuses(t *testing.T) {
	const payment, refund = "1AB23456CD7890123", "9ZY87654XW3210987"
	row := func(id, code, amount, ref, status string) paypal.SearchTransactionDetails {
		return paypal.SearchTransactionDetails{TransactionInfo: paypal.SearchTransactionInfo{TransactionID: id,
			TransactionEventCode: code, TransactionStatus: status, PayPalReferenceID: ref,
			TransactionInitiationDate: paypal.JSONTime(testNow), TransactionUpdatedDate: paypal.JSONTime(testNow),
			TransactionAmount: paypal.Money{Currency: "USD", Value: amount}}}
	}
	for _, tt := range []struct {
		statuses []string // the refund row's status, page after page
		refunded int64
	}{
		{[]string{"S"}, 500},
		{[]string{"P"}, 500},
		{[]string{"D"}, 0},
		{[]string{"V"}, 0},
		{[]string{"P", "S"}, 500},
		{[]string{"P", "D"}, 0},
		{[]string{"D", "P"}, 0}, // an older listing arriving late does not undo the denial
	} {
		t.Run(strings.Join(tt.statuses, "-"), func(t *testing.T) {
			ctx := context.Background()
			c, st := &Client{env: Sandbox}, openStore(t)
			rows := []paypal.SearchTransactionDetails{row(payment, "T0006", "20.00", "", "S")}
			var got []reconcile.Charge
			for _, status := range tt.statuses {
				var err error
				got, err = c.absorb(ctx, st, append(rows, row(refund, "T1107", "-5.00", payment, status)), &checkpoint{}, testNow, &SyncResult{})
				if err != nil {
					t.Fatal(err)
				}
				if err := st.SaveSyncBatch(ctx, got, nil, reconcile.Observations{}, nil); err != nil {
					t.Fatal(err)
				}
				rows = nil
			}
			if len(got) != 1 || got[0].AmountRefunded != tt.refunded {
				t.Fatalf("charges %+v, want %d refunded", got, tt.refunded)
			}
		})
	}
}
