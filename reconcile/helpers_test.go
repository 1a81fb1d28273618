package reconcile

import (
	"slices"
	"strings"
	"time"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// chargeOpt changes one field of a test charge.
type chargeOpt func(*Charge)

// charge is a succeeded, captured 20.00 USD charge of customer cus_1 at t0+at,
// with its own PaymentIntent, changed by opts.
func charge(id string, at time.Duration, opts ...chargeOpt) Charge {
	c := Charge{
		ID: id, Created: t0.Add(at), Amount: 2000, Currency: "usd",
		Status: "succeeded", Captured: true, Customer: "cus_1",
		PaymentIntent: "pi_" + strings.TrimPrefix(id, "ch_"),
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func customer(s string) chargeOpt { return func(c *Charge) { c.Customer = s } }
func email(s string) chargeOpt    { return func(c *Charge) { c.Email = s } }
func card(fp string) chargeOpt {
	return func(c *Charge) { c.CardFingerprint, c.CardBrand, c.CardLast4 = fp, "visa", "4242" }
}
func intent(pi string) chargeOpt  { return func(c *Charge) { c.PaymentIntent = pi } }
func amount(a int64) chargeOpt    { return func(c *Charge) { c.Amount = a } }
func currency(s string) chargeOpt { return func(c *Charge) { c.Currency = s } }
func status(s string) chargeOpt   { return func(c *Charge) { c.Status = s } }
func refunded(a int64) chargeOpt {
	return func(c *Charge) { c.AmountRefunded = a; c.Refunded = a >= c.Amount }
}
func meta(k, v string) chargeOpt {
	return func(c *Charge) {
		if c.Metadata == nil {
			c.Metadata = map[string]string{}
		}
		c.Metadata[k] = v
	}
}
func order(o string) chargeOpt { return meta("order_id", o) }

var (
	uncaptured chargeOpt = func(c *Charge) { c.Captured = false }
	disputed   chargeOpt = func(c *Charge) { c.Disputed = true }
	guest      chargeOpt = func(c *Charge) { c.Customer = "" }
)

// eventKey is a key record from a charge.succeeded event.
func eventKey(key, chargeID string) KeyRecord {
	return KeyRecord{Key: key, ChargeID: chargeID, Sources: []string{SourceEvent}}
}

// membership is the report's groups as sorted lists of charge ids, sorted.
func membership(r Report) [][]string {
	var out [][]string
	for _, g := range r.Groups {
		ids := make([]string, len(g.Charges))
		for i, m := range g.Charges {
			ids[i] = m.ID
		}
		slices.Sort(ids)
		out = append(out, ids)
	}
	slices.SortFunc(out, func(a, b []string) int { return slices.Compare(a, b) })
	return out
}

// onlyGroup returns the report's single group, failing the test otherwise.
func onlyGroup(t interface {
	Helper()
	Fatalf(string, ...any)
}, r Report) Group {
	t.Helper()
	if len(r.Groups) != 1 {
		t.Fatalf("want exactly one group, got %d: %v", len(r.Groups), membership(r))
	}
	return r.Groups[0]
}

// bare records that an event saw the request creating each charge's
// PaymentIntent (pi_ + the charge id's rest, as charge makes it) carry no key.
func bare(chargeIDs ...string) []RequestRecord {
	var out []RequestRecord
	for _, id := range chargeIDs {
		out = append(out, RequestRecord{Object: "pi_" + strings.TrimPrefix(id, "ch_")})
	}
	return out
}
