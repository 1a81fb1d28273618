package sandbox

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// paypalScenarios are the PayPal duplicates PayPal's own docs describe (a
// double submit; a retry without PayPal-Request-Id), the same invoice_id paid
// twice (an account that allows duplicate invoice ids), and look-alikes that
// are not duplicates. Each instance is named "paypal_<kind>/n".
var paypalScenarios = []struct {
	kind      string
	instances int
	build     func(g *ppGen, inst int, at time.Time) []*ppTxn
}{
	{"paypal_double_submit", 2, (*ppGen).doubleSubmit},
	{"paypal_retry_without_request_id", 2, (*ppGen).retryWithoutRequestID},
	{"paypal_same_invoice", 2, (*ppGen).sameInvoice},
	{"paypal_already_refunded", 1, (*ppGen).alreadyRefunded},
	{"paypal_partly_refunded", 1, (*ppGen).partlyRefunded},
	{"paypal_legit_repeat", 1, (*ppGen).legitRepeat},
	{"paypal_dispute_hold", 2, (*ppGen).disputeHold},
}

// ppGen builds the PayPal account's seeded rows. It draws from its own RNG so
// the Stripe data stays byte for byte what it was.
type ppGen struct {
	s      *Server
	rng    *rand.Rand
	now    time.Time
	span   time.Duration
	payers []ppPayer
	orders int
}

func newPayPalState(opts Options) *paypalState {
	lag := opts.PayPalLag
	switch {
	case lag == 0:
		lag = PayPalDefaultLag
	case lag < 0:
		lag = 0
	}
	return &paypalState{byID: map[string]*ppTxn{}, refunds: map[string]*ppRefund{},
		tokens: map[string]time.Time{}, idem: map[string]ppIdem{}, lag: lag, stale: opts.PayPalStale}
}

// generatePayPal seeds the account: ordinary payments over the span, the
// scenarios, and every seventh payment's non-balance-affecting twin row.
// Seeded rows are long visible, except those of the last few hours, which
// wait out the lag like new ones.
func (s *Server) generatePayPal(now time.Time) {
	g := &ppGen{s: s, rng: s.ppRNG, now: now, span: s.opts.Span}
	for range 60 {
		first, last := firstNames[g.rng.IntN(len(firstNames))], lastNames[g.rng.IntN(len(lastNames))]
		g.payers = append(g.payers, ppPayer{AccountID: s.ppPayerID(), Given: first, Surname: last, Country: "US",
			Email: fmt.Sprintf("%s.%s%d@%s", lower(first), lower(last), g.rng.IntN(90)+10, emailDomains[g.rng.IntN(len(emailDomains))])})
	}
	if !s.opts.NoScenarios {
		for _, k := range paypalScenarios {
			for inst := 1; inst <= k.instances; inst++ {
				at := now.Add(-time.Duration((2 + g.rng.Float64()*25) * float64(24*time.Hour)))
				for _, t := range k.build(g, inst, at) {
					t.Scenario = fmt.Sprintf("%s/%d", k.kind, inst)
					g.add(t)
				}
			}
		}
	}
	n := s.opts.PayPalOrdinary
	switch {
	case n == 0:
		n = 300
	case n < 0:
		n = 0
	}
	for i := range n {
		at := now.Add(-time.Duration(g.rng.Float64() * float64(g.span)))
		t := g.capture(g.payers[g.rng.IntN(len(g.payers))], at, g.price(), "USD")
		switch r := g.rng.IntN(40); {
		case r == 0:
			t.Status = "D"
		case r == 1:
			t.Status = "P"
		case r == 2 && at.Before(now.Add(-time.Hour)):
			g.refund(t, at.Add(time.Duration(1+g.rng.IntN(48))*time.Hour), t.Amount/2)
		}
		if i%12 == 5 {
			t.EventCode = PayPalEventPreapproved
		}
		g.add(t)
	}
}

func lower(s string) string {
	b := []rune(s)
	for i, r := range b {
		if r >= 'A' && r <= 'Z' {
			b[i] = r + 32
		}
	}
	return string(b)
}

// add stores a seeded row; a capture, one time in seven, with its
// non-balance-affecting twin.
func (g *ppGen) add(t *ppTxn) {
	if t.Initiated.After(g.now) {
		return // a refund the seed would date in the future has not happened yet
	}
	g.s.pp.add(t)
	if t.payment() && g.rng.IntN(7) == 0 {
		twin := *t
		twin.NonBalance = true
		g.s.pp.add(&twin)
	}
}

func (g *ppGen) price() int64 {
	return products[g.rng.IntN(len(products))].price * int64(1+g.rng.IntN(2))
}

func (g *ppGen) invoice() string {
	g.orders++
	return fmt.Sprintf("INV-%05d", 20000+g.orders)
}

// capture is a completed checkout payment at at, with an invoice_id and a
// custom_field (the cart) as a shop integration sets them.
func (g *ppGen) capture(p ppPayer, at time.Time, amount int64, currency string) *ppTxn {
	inv := g.invoice()
	return &ppTxn{ID: g.s.ppTxnID(), EventCode: PayPalEventCheckout, Initiated: at, Updated: at, Visible: g.visible(at),
		Amount: amount, Fee: amount*349/10000 + 49, Currency: currency, Status: "S", InvoiceID: inv,
		Custom: "cart-" + inv[4:], Payer: p}
}

// visible is when search lists a row made at at: at most the lag later.
func (g *ppGen) visible(at time.Time) time.Time {
	if g.s.pp.lag <= 0 {
		return at
	}
	return at.Add(time.Duration(1 + g.rng.Int64N(int64(g.s.pp.lag))))
}

// refund seeds a merchant refund of amount on c at at.
func (g *ppGen) refund(c *ppTxn, at time.Time, amount int64) {
	if at.After(g.now) {
		return
	}
	r := &ppTxn{ID: g.s.ppTxnID(), EventCode: PayPalEventRefund, Initiated: at, Updated: at, Visible: g.visible(at),
		Amount: -amount, Currency: c.Currency, Status: "S", InvoiceID: c.InvoiceID, Custom: c.Custom,
		RefID: c.ID, RefIDType: "TXN", Payer: c.Payer}
	c.Refunded += amount
	if c.Refunded >= c.Amount {
		c.Status, c.Updated = "V", at
	}
	g.add(r)
}

func (g *ppGen) payer() ppPayer { return g.payers[g.rng.IntN(len(g.payers))] }

// second is the same payment again d later: same payer, amount, invoice and cart
// unless the caller changes them.
func (g *ppGen) second(first *ppTxn, d time.Duration) *ppTxn {
	t := *first
	t.ID, t.Initiated, t.Updated, t.Visible, t.Refunded = g.s.ppTxnID(), first.Initiated.Add(d), first.Initiated.Add(d), g.visible(first.Initiated.Add(d)), 0
	return &t
}

// doubleSubmit: the buyer pressed Pay twice on a shop that puts its cart in
// custom_field and sets no invoice_id: two payments of one cart, seconds apart.
func (g *ppGen) doubleSubmit(_ int, at time.Time) []*ppTxn {
	a := g.capture(g.payer(), at, g.price(), "USD")
	a.InvoiceID = ""
	return []*ppTxn{a, g.second(a, time.Duration(2+g.rng.IntN(6))*time.Second)}
}

// retryWithoutRequestID: the shop's server timed out capturing and retried
// without a PayPal-Request-Id: one invoice, two captures 30–90 s apart. /2 is
// in EUR.
func (g *ppGen) retryWithoutRequestID(inst int, at time.Time) []*ppTxn {
	currency := "USD"
	if inst == 2 {
		currency = "EUR"
	}
	a := g.capture(g.payer(), at, g.price(), currency)
	return []*ppTxn{a, g.second(a, time.Duration(30+g.rng.IntN(61))*time.Second)}
}

// sameInvoice: one invoice_id paid twice minutes apart, with no cart in
// custom_field (an invoice paid from two emails' links).
func (g *ppGen) sameInvoice(_ int, at time.Time) []*ppTxn {
	a := g.capture(g.payer(), at, g.price(), "USD")
	a.Custom = ""
	return []*ppTxn{a, g.second(a, time.Duration(3+g.rng.IntN(20))*time.Minute)}
}

// alreadyRefunded: a double submit whose second payment the merchant refunded
// in full in PayPal's own site.
func (g *ppGen) alreadyRefunded(inst int, at time.Time) []*ppTxn {
	ts := g.doubleSubmit(inst, at)
	g.refund(ts[1], ts[1].Initiated.Add(4*time.Hour), ts[1].Amount)
	return ts
}

// partlyRefunded: a retry whose second payment is a quarter refunded.
func (g *ppGen) partlyRefunded(inst int, at time.Time) []*ppTxn {
	ts := g.retryWithoutRequestID(1, at)
	g.refund(ts[1], ts[1].Initiated.Add(2*time.Hour), ts[1].Amount/4)
	return ts
}

// legitRepeat: one payer buys the same thing twice, hours apart, two orders.
func (g *ppGen) legitRepeat(_ int, at time.Time) []*ppTxn {
	a := g.capture(g.payer(), at, g.price(), "USD")
	b := g.capture(a.Payer, at.Add(time.Duration(3+g.rng.IntN(5))*time.Hour), a.Amount, "USD")
	return []*ppTxn{a, b}
}

// disputeHold: a double submit whose second payment the payer disputed:
// PayPal holds its amount (T1110, no refund); in /2 the hold was cancelled
// (T1111) in the merchant's favour.
func (g *ppGen) disputeHold(inst int, at time.Time) []*ppTxn {
	ts := g.doubleSubmit(inst, at)
	return append(ts, ppDisputeRows(ts[1], ts[1].Initiated.Add(20*time.Hour), inst == 2, g.s.ppTxnID, g.visible)...)
}
