package paypalapi

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	paypal "github.com/plutov/paypal/v4"

	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding"
	"github.com/doublecheck-dev/doublecheck/refunding/refundtest"
	"github.com/doublecheck-dev/doublecheck/sandbox"
)

func intent(capture string, before, amount int64, currency string, created time.Time) reconcile.RefundIntent {
	return reconcile.RefundIntent{RefundRequest: reconcile.RefundRequest{ChargeID: capture, Amount: amount, Currency: currency,
		Key: reconcile.RefundKey(capture, before, amount)}, CreatedAt: created}
}

func TestSendWithTheSameKeyRefundsOnce(t *testing.T) {
	s, _, c := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: -1, PayPalLag: -1})
	capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
	g := c.RefundGateway("test")
	ctx := context.Background()
	first, err := g.Send(ctx, intent(capture, 0, 2500, "usd", testNow))
	if err != nil {
		t.Fatal(err)
	}
	again, err := g.Send(ctx, intent(capture, 0, 2500, "usd", testNow))
	if err != nil || again.RefundID != first.RefundID {
		t.Fatalf("resend: %+v, %v; want refund %s again", again, err, first.RefundID)
	}
	// The next part has a key of its own (refundedBefore grew).
	second, err := g.Send(ctx, intent(capture, 2500, 2500, "usd", testNow))
	if err != nil || second.RefundID == first.RefundID {
		t.Fatalf("second part: %+v, %v", second, err)
	}
	var refunded int64
	for _, r := range s.PayPalRefundsOf(capture) {
		refunded -= r.Amount
	}
	if n := len(s.PayPalRefundsOf(capture)); n != 2 || refunded != 5000 {
		t.Fatalf("%d refunds of %d in all, want 2 of 5000", n, refunded)
	}
}

func TestClassify(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		opts    sandbox.Options
		prepare func(s *sandbox.Server, g *Gateway, capture string)
		amount  int64
		unknown bool
		code    string
		explain string
	}{
		{name: "more than is left", amount: 10001, code: "REFUND_AMOUNT_EXCEEDED", explain: "already partly refunded elsewhere"},
		{name: "fully refunded elsewhere", amount: 100, code: "CAPTURE_FULLY_REFUNDED", explain: "already fully refunded elsewhere",
			prepare: func(s *sandbox.Server, g *Gateway, capture string) {
				if _, err := g.Send(ctx, intent(capture, 0, 10000, "usd", testNow)); err != nil {
					panic(err)
				}
			}},
		{name: "past the refund time limit", amount: 100, code: "REFUND_TIME_LIMIT_EXCEEDED", explain: "refund time limit",
			prepare: func(s *sandbox.Server, g *Gateway, capture string) { s.Advance(sandbox.PayPalRefundWindow + time.Hour) }},
		{name: "a 500", opts: sandbox.Options{ErrorRate: 1}, amount: 100, unknown: true, code: "INTERNAL_SERVICE_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.NoScenarios, tt.opts.PayPalOrdinary, tt.opts.PayPalLag = true, -1, -1
			s, _, c := startSandbox(t, tt.opts)
			capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
			g := c.RefundGateway("test")
			if tt.prepare != nil {
				tt.prepare(s, g, capture)
			}
			it := intent(capture, 0, tt.amount, "usd", testNow)
			_, err := g.Send(ctx, it)
			if err == nil {
				t.Fatal("refund accepted")
			}
			f := g.Classify(err)
			if f.Unknown != tt.unknown || f.Code != tt.code || f.KeyConflict {
				t.Fatalf("Classify(%v) = %+v, want unknown %v code %s", err, f, tt.unknown, tt.code)
			}
			if got := g.Explain(it, err); !strings.Contains(got, tt.explain) {
				t.Errorf("Explain: %q, want it to say %q", got, tt.explain)
			}
		})
	}
}

func TestClassifyNoAnswer(t *testing.T) {
	s, _, c := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: -1, PayPalLag: -1, TimeoutRate: 1})
	capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
	g := c.RefundGateway("test")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := g.Send(ctx, intent(capture, 0, 100, "usd", testNow))
	if f := g.Classify(err); !f.Unknown || f.Code != "" {
		t.Fatalf("Classify(%v) = %+v, want unknown without a code", err, f)
	}
}

func TestClassifyMasksTheSecret(t *testing.T) {
	_, _, good := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: -1})
	c, err := New(Config{ClientID: sandbox.PayPalClientID, Secret: "wrong-secret-value", Env: Sandbox, BaseURL: good.BaseURL()})
	if err != nil {
		t.Fatal(err)
	}
	g := c.RefundGateway("test")
	_, err = g.Send(context.Background(), intent("0000000000000000X", 0, 100, "usd", testNow))
	f := g.Classify(err)
	if f.Unknown || f.Code != "AUTHENTICATION_FAILURE" || strings.Contains(f.Message, "wrong-secret-value") {
		t.Fatalf("Classify = %+v", f)
	}
}

// TestFindAfterTheKeyExpired: which refund row of a capture an intent past
// PayPal's 45 days adopts. A refund doublecheck sends names its intent's key
// (custom_id, the row's custom_field): only that intent takes it. A refund an
// older version sent names none: it is taken unless the ledger records it
// for another intent.
func TestFindAfterTheKeyExpired(t *testing.T) {
	s, _, c := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: -1})
	capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
	other := s.AddPayPalCapture(10000, "usd", "other@example.com", "INV-2")
	g := c.RefundGateway("test")
	g.Now = s.Now
	ctx := context.Background()
	s.Advance(time.Hour)
	made := intent(capture, 0, 3000, "usd", s.Now())
	sent, err := g.Send(ctx, made)
	if err != nil {
		t.Fatal(err)
	}
	// A refund of another capture, and one of another amount, are not it.
	if _, err := g.Send(ctx, intent(other, 0, 3000, "usd", s.Now())); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Send(ctx, intent(capture, 3000, 1000, "usd", s.Now())); err != nil {
		t.Fatal(err)
	}
	legacy := intent(capture, 4000, 1500, "usd", s.Now())
	legacyID := sendWithoutCustomID(t, c, legacy)
	s.Advance(keyTrust + time.Hour) // 44 days: over a window of 31
	tests := []struct {
		name   string
		it     reconcile.RefundIntent
		others []string // refund ids the ledger records for the capture's other intents
		want   string   // the refund found, "" for none
	}{
		{"the intent's refund", made, nil, sent.RefundID},
		{"the intent's refund, whatever the ledger says of others", made, []string{legacyID}, sent.RefundID},
		{"an amount never refunded", intent(capture, 5500, 2000, "usd", made.CreatedAt), nil, ""},
		// Find searches from a day before the intent (a fast local clock).
		{"an intent recorded over a day after the refund", intent(capture, 0, 3000, "usd", made.CreatedAt.Add(25*time.Hour)), nil, ""},
		// Two equal partial refunds of one capture: the second intent never
		// takes the first's.
		{"the same amount, another intent's key", intent(capture, 5500, 3000, "usd", made.CreatedAt), nil, ""},
		{"an older version's refund: taken", legacy, nil, legacyID},
		{"an older version's refund the ledger records for another intent", intent(capture, 5500, 1500, "usd", made.CreatedAt), []string{legacyID}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, found, err := g.Find(ctx, tt.it, refunding.NewRecorded(tt.it, tt.others...))
			if err != nil {
				t.Fatal(err)
			}
			if found != (tt.want != "") || r.RefundID != tt.want {
				t.Fatalf("Find = %+v, %v; want %q", r, found, tt.want)
			}
		})
	}
}

// sendWithoutCustomID refunds it as versions before custom_id did, with the
// library's own request (amount and PayPal-Request-Id, no custom_id), and
// returns the refund id.
func sendWithoutCustomID(t *testing.T, c *Client, it reconcile.RefundIntent) string {
	t.Helper()
	req := paypal.RefundCaptureRequest{Amount: &paypal.Money{Currency: strings.ToUpper(it.Currency), Value: reconcile.FormatAmount(it.Amount, it.Currency)}}
	var resp *paypal.RefundResponse
	err := c.once(context.Background(), func(api *paypal.Client) (err error) {
		resp, err = api.RefundCaptureWithPaypalRequestId(context.Background(), it.ChargeID, req, it.Key)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp.ID
}

// TestResumeAdoptsARefundPayPalForgot: a refund PayPal made whose outcome the
// ledger never got (a crash after the call), resumed after PayPal forgot its
// PayPal-Request-Id (45 days): resending would refund twice, so the protocol
// finds the refund in Transaction Search and adopts it.
func TestResumeAdoptsARefundPayPalForgot(t *testing.T) {
	tests := []struct {
		name     string
		age      time.Duration
		adopted  bool
		wantSent int // refunds on the capture after the resume
	}{
		{"within the key's 45 days: resent, PayPal returns the first", 10 * 24 * time.Hour, false, 1},
		{"after 46 days: found and adopted, not resent", 46 * 24 * time.Hour, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, c := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: -1})
			capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
			g, ledger, r := sandboxRefunder(s, c)
			ctx := context.Background()
			s.Advance(time.Hour)
			it := intent(capture, 0, 2500, "usd", s.Now())
			it.Provider, it.Status = reconcile.ProviderPayPal, reconcile.RefundPending
			if _, _, err := ledger.BeginRefund(ctx, it); err != nil {
				t.Fatal(err)
			}
			sent, err := g.Send(ctx, it) // PayPal refunds; the process dies before recording it
			if err != nil {
				t.Fatal(err)
			}
			s.Advance(tt.age)
			outcomes, err := r.Resume(ctx)
			if err != nil || len(outcomes) != 1 {
				t.Fatalf("Resume: %+v, %v", outcomes, err)
			}
			o := outcomes[0]
			if o.Err != nil || o.Adopted != tt.adopted || o.Intent.RefundID != sent.RefundID {
				t.Fatalf("outcome %+v (err %v), want refund %s adopted=%v", o.Intent, o.Err, sent.RefundID, tt.adopted)
			}
			if n := len(s.PayPalRefundsOf(capture)); n != tt.wantSent {
				t.Fatalf("%d refunds on the capture, want %d", n, tt.wantSent)
			}
		})
	}
}

// TestResumeNeverTakesAnotherIntentsRefund: two partial refunds of the same
// amount of one capture. The second intent is recorded, then the process
// dies before sending it; resumed after PayPal forgot its PayPal-Request-Id,
// it is looked for in Transaction Search, where the first intent's refund is
// a row of the same amount: the ledger records that refund for the first
// intent, so the second is sent and the capture ends with two refunds.
func TestResumeNeverTakesAnotherIntentsRefund(t *testing.T) {
	s, _, c := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: -1})
	capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
	_, ledger, r := sandboxRefunder(s, c)
	ctx := context.Background()
	s.Advance(time.Hour)
	first, second := intent(capture, 0, 2500, "usd", s.Now()), intent(capture, 2500, 2500, "usd", s.Now())
	first.Provider, second.Provider = reconcile.ProviderPayPal, reconcile.ProviderPayPal
	if out, err := r.Refund(ctx, []reconcile.RefundRequest{first.RefundRequest}, nil); err != nil || out[0].Err != nil {
		t.Fatalf("first refund: %+v, %v", out, err)
	}
	if _, _, err := ledger.BeginRefund(ctx, second); err != nil { // then the process dies
		t.Fatal(err)
	}
	s.Advance(46 * 24 * time.Hour)
	outcomes, err := r.Resume(ctx)
	if err != nil || len(outcomes) != 1 || outcomes[0].Err != nil {
		t.Fatalf("Resume: %+v, %v", outcomes, err)
	}
	firstID, secondID := ledger.Intent(first.Key).RefundID, outcomes[0].Intent.RefundID
	if outcomes[0].Adopted || secondID == firstID {
		t.Errorf("the second intent records refund %s (adopted %v; the first's is %s), want its own refund sent", secondID, outcomes[0].Adopted, firstID)
	}
	if n := len(s.PayPalRefundsOf(capture)); n != 2 {
		t.Errorf("%d refunds on the capture, want 2", n)
	}
}

// TestFindNeverAdoptsADisputeHold: a T1110 hold of the intent's amount on
// its capture is no refund, so Find does not take it for the intent's.
func TestFindNeverAdoptsADisputeHold(t *testing.T) {
	s, _, c := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: -1})
	capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
	g := c.RefundGateway("test")
	g.Now = s.Now
	s.Advance(time.Hour)
	it := intent(capture, 0, 10000, "usd", s.Now())
	s.AddPayPalDisputeHold(capture, false)
	s.Advance(keyTrust + time.Hour)
	r, found, err := g.Find(context.Background(), it, refunding.NewRecorded(it))
	if err != nil || found {
		t.Fatalf("Find = %+v, %v, %v; want nothing found", r, found, err)
	}
}

// TestWholeUnitCurrencies: PayPal takes HUF, JPY and TWD without decimals
// ("This currency does not support decimals", PayPal's currency codes), while
// doublecheck counts HUF and TWD in hundredths as Stripe does: a sync reads
// "1000" HUF as 1000.00 HUF, and a refund sends whole units ("1000", not
// "1000.00", which PayPal refuses); an amount with a fraction of a forint is
// refused before anything is sent.
func TestWholeUnitCurrencies(t *testing.T) {
	tests := []struct {
		currency string
		paypal   int64 // the capture in PayPal's units
		stored   int64 // doublecheck's minor units
		refund   int64 // doublecheck's minor units
		refunded int64 // PayPal's units refunded
		notWhole bool
	}{
		{"huf", 1000, 100000, 40000, 400, false},
		{"twd", 350, 35000, 35000, 350, false},
		{"jpy", 1200, 1200, 200, 200, false},
		{"usd", 1250, 1250, 250, 250, false},
		{"huf", 1000, 100000, 40050, 0, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d", tt.currency, tt.refund), func(t *testing.T) {
			s, _, c := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: -1, PayPalLag: -1})
			st := openStore(t)
			capture := s.AddPayPalCapture(tt.paypal, tt.currency, "buyer@example.com", "INV-1")
			s.Advance(time.Minute)
			if _, err := c.Sync(context.Background(), st, SyncOptions{Now: s.Now, Lag: time.Second}); err != nil {
				t.Fatal(err)
			}
			if ch := charges(t, st)[capture]; ch.Amount != tt.stored || ch.Currency != tt.currency {
				t.Fatalf("stored %d %s, want %d %s", ch.Amount, ch.Currency, tt.stored, tt.currency)
			}
			g := c.RefundGateway("test")
			_, err := g.Send(context.Background(), intent(capture, 0, tt.refund, tt.currency, s.Now()))
			if tt.notWhole {
				f := g.Classify(err)
				if err == nil || f.Unknown || f.Code == "" {
					t.Fatalf("Send: %v, %+v; want a definite refusal", err, f)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			var refunded int64
			for _, r := range s.PayPalRefundsOf(capture) {
				refunded -= r.Amount
			}
			if refunded != tt.refunded {
				t.Fatalf("PayPal refunded %d, want %d", refunded, tt.refunded)
			}
		})
	}
}

// TestFindWithAFastLocalClock: the intent's CreatedAt is this machine's clock,
// PayPal dates its row by its own; a local clock hours ahead must not hide the
// intent's own refund from the search (it starts a day before the intent).
func TestFindWithAFastLocalClock(t *testing.T) {
	for _, skew := range []time.Duration{0, 2 * time.Hour, 20 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			s, _, c := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: -1})
			capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
			g := c.RefundGateway("test")
			g.Now = s.Now
			s.Advance(time.Hour)
			it := intent(capture, 0, 3000, "usd", s.Now().Add(skew))
			sent, err := g.Send(context.Background(), it)
			if err != nil {
				t.Fatal(err)
			}
			s.Advance(keyTrust + time.Hour)
			r, found, err := g.Find(context.Background(), it, refunding.NewRecorded(it))
			if err != nil || !found || r.RefundID != sent.RefundID {
				t.Fatalf("Find = %+v, %v, %v; want %s", r, found, err, sent.RefundID)
			}
		})
	}
}

// TestFindNeverAdoptsADeniedRefund: PayPal answered the intent's refund
// PENDING and later denied it; the answer was lost. Find must not take the
// denied row for the intent's refund: no money went back; a row still
// pending is found as received.
func TestFindNeverAdoptsADeniedRefund(t *testing.T) {
	for _, tt := range []struct {
		name            string
		settle          time.Duration
		fail            bool
		found, awaiting bool
	}{
		{"completed", time.Hour, false, true, false},
		{"still pending", keyTrust + 4*time.Hour, false, true, true},
		{"denied", time.Hour, true, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _, c := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: -1})
			s.SetPayPalRefundsPending(tt.settle, tt.fail)
			capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
			g := c.RefundGateway("test")
			g.Now = s.Now
			s.Advance(time.Hour)
			it := intent(capture, 0, 3000, "usd", s.Now())
			sent, err := g.Send(context.Background(), it)
			if err != nil || !sent.AwaitingConfirmation {
				t.Fatalf("Send = %+v, %v; want a receipt awaiting confirmation", sent, err)
			}
			s.Advance(keyTrust + time.Hour)
			r, found, err := g.Find(context.Background(), it, refunding.NewRecorded(it))
			if err != nil || found != tt.found || found && r.RefundID != sent.RefundID || r.AwaitingConfirmation != tt.awaiting {
				t.Fatalf("Find = %+v, %v, %v; want found %v (%s), awaiting confirmation %v", r, found, err, tt.found, sent.RefundID, tt.awaiting)
			}
		})
	}
}

// TestClassifyPreviousRequestInProgress: a resend while PayPal still serves
// the first request with the same PayPal-Request-Id is answered 409
// PREVIOUS_REQUEST_IN_PROGRESS; the outcome is unknown (the first may yet
// refund), so the intent stays pending for a resume.
func TestClassifyPreviousRequestInProgress(t *testing.T) {
	s, _, c := startSandbox(t, sandbox.Options{NoScenarios: true, PayPalOrdinary: -1, PayPalLag: -1, TimeoutRate: 1})
	capture := s.AddPayPalCapture(10000, "usd", "buyer@example.com", "INV-1")
	g := c.RefundGateway("test")
	it := intent(capture, 0, 3000, "usd", testNow)
	first, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := g.Send(first, it); done <- err }()
	// The sandbox holds the first request (TimeoutRate) while serving it.
	for s.PayPalRefundsInFlight() == 0 {
		runtime.Gosched()
	}
	_, err := g.Send(context.Background(), it)
	cancel()
	<-done
	if err == nil {
		t.Fatal("the resend during the first request was answered with a refund")
	}
	if f := g.Classify(err); !f.Unknown || f.Code != "PREVIOUS_REQUEST_IN_PROGRESS" {
		t.Fatalf("Classify(%v) = %+v, want unknown PREVIOUS_REQUEST_IN_PROGRESS", err, f)
	}
	if n := len(s.PayPalRefundsOf(capture)); n != 0 {
		t.Fatalf("%d refunds, want none", n)
	}
}

// sandboxRefunder is the PayPal gateway of c, an in-memory ledger and the
// Refunder over them, all on the sandbox s's clock.
func sandboxRefunder(s *sandbox.Server, c *Client) (*Gateway, *refundtest.Ledger, *refunding.Refunder) {
	g := c.RefundGateway("test")
	g.Now = s.Now
	ledger := refundtest.NewLedger(nil)
	ledger.Now = s.Now
	r := &refunding.Refunder{Gateways: map[reconcile.Provider]refunding.Gateway{reconcile.ProviderPayPal: g},
		Ledger: ledger, Operator: "tester", Now: s.Now}
	return g, ledger, r
}
