package sandbox

import (
	"fmt"
	"slices"
	"time"
)

// scenarioKind is one DESIGN.md case; build creates one instance at time t and
// says what happened.
type scenarioKind struct {
	kind      string
	instances int
	duplicate bool
	build     func(g *gen, inst int, t int64) (string, []*charge)
}

var scenarioKinds = []scenarioKind{
	{"double_click", 3, true, (*gen).doubleClick},
	{"retry_new_key", 2, true, (*gen).retryNewKey},
	{"key_reused_after_expiry", 2, true, (*gen).keyReusedAfterExpiry},
	{"guest_same_card", 2, true, (*gen).guestSameCard},
	{"email_only", 2, true, (*gen).emailOnly},
	{"legit_repeat", 2, false, (*gen).legitRepeat},
	{"subscription", 2, false, (*gen).subscription},
	{"declined_then_paid", 2, false, (*gen).declinedThenPaid},
	{"other_currency", 2, true, (*gen).otherCurrency},
	{"uncaptured", 2, false, (*gen).uncaptured},
	{"already_refunded", 2, true, (*gen).alreadyRefunded},
	{"partly_refunded", 2, true, (*gen).partlyRefunded},
	{"disputed", 2, true, (*gen).disputed},
	{"same_payment_intent", 1, false, (*gen).samePaymentIntent},
	{"triple_retry", 2, true, (*gen).tripleRetry},
	{"intent_per_attempt", 2, true, (*gen).intentPerAttempt},
	{"intent_without_key", 1, true, (*gen).intentWithoutKey},
	{"double_checkout", 3, true, (*gen).doubleCheckout},
	{"checkout_without_reference", 1, true, (*gen).checkoutWithoutReference},
}

// scenarios seeds every kind. Odd instances fall within the last 30 days (their
// events still exist), even ones before that (only charges, metadata and the
// merchant's key log tell the story), when the span allows.
func (g *gen) scenarios() {
	for _, k := range scenarioKinds {
		for inst := 1; inst <= k.instances; inst++ {
			days := 4 + g.rng.Float64()*23
			if inst%2 == 0 && g.span > 40*day {
				days = 32 + g.rng.Float64()*(float64(g.span/day)-36)
			}
			g.addScenario(k, inst, g.now-int64(days*float64(day)))
		}
	}
}

func (g *gen) addScenario(k scenarioKind, inst int, t int64) {
	note, charges := k.build(g, inst, t)
	ids := make([]string, len(charges))
	for i, c := range charges {
		ids[i] = c.ID
	}
	g.s.data.scenarios = append(g.s.data.scenarios, Scenario{Name: fmt.Sprintf("%s/%d", k.kind, inst),
		Kind: k.kind, Charges: ids, Duplicate: k.duplicate, Note: note})
}

// arrivalKinds are the duplicates that keep happening while the server runs.
var arrivalKinds = []string{"double_click", "retry_new_key", "triple_retry", "guest_same_card"}

// arrive creates what has arrived by now at one per Options.ArrivalEvery: new web
// orders, every fourth a fresh duplicate scenario (numbered after the seeded
// instances of its kind). Charges dated after now stay hidden from lists until
// the clock reaches them. After a long idle time only the latest 1000 arrivals
// are made. Callers hold s.mu.
func (s *Server) arrive(now time.Time) {
	if s.opts.ArrivalEvery <= 0 {
		return
	}
	step := max(1, int64(s.opts.ArrivalEvery/time.Second))
	t := now.Unix()
	s.nextArrival = max(s.nextArrival, t-1000*step)
	for ; s.nextArrival <= t; s.nextArrival += step {
		s.arrivals++
		g := s.gen
		if s.arrivals%4 != 0 {
			pc := g.planWeb(g.person(g.rng.IntN(5) == 0), s.nextArrival)
			g.create(&pc)
			continue
		}
		kind := arrivalKinds[(s.arrivals/4-1)%len(arrivalKinds)]
		k := scenarioKinds[slices.IndexFunc(scenarioKinds, func(k scenarioKind) bool { return k.kind == kind })]
		inst := 1
		for _, sc := range s.data.scenarios {
			if sc.Kind == kind {
				inst++
			}
		}
		g.addScenario(k, inst, s.nextArrival)
	}
}

func (g *gen) doubleClick(inst int, t int64) (string, []*charge) {
	p := g.person(false)
	amount, desc := g.cart("usd")
	t2 := t + g.secs(2, 6)
	switch inst {
	case 1:
		order := g.order()
		return "pay button clicked twice; stripe-go generated a new key for each request",
			[]*charge{g.web(p, t, amount, "usd", order, desc, g.s.libraryKey(t)), g.web(p, t2, amount, "usd", order, desc, g.s.libraryKey(t2))}
	case 3:
		order := g.order()
		return "pay button clicked twice; the integration sends no idempotency key at all",
			[]*charge{g.web(p, t, amount, "usd", order, desc, ""), g.web(p, t2, amount, "usd", order, desc, "")}
	default:
		k1, k2 := g.s.appKey(), g.s.appKey()
		opts := func(key string) chargeOpts {
			return chargeOpts{description: "Gift card: " + desc, key: key, request: true}
		}
		c1 := g.s.createCharge(p, t, amount, "usd", opts(k1))
		c2 := g.s.createCharge(p, t2, amount, "usd", opts(k2))
		g.log(k1, "", c1.ID, t)
		g.log(k2, "", c2.ID, t2)
		return "gift-card form submitted twice a few seconds apart, a fresh key per submit and no order reference",
			[]*charge{c1, c2}
	}
}

func (g *gen) retryNewKey(inst int, t int64) (string, []*charge) {
	p := g.person(false)
	amount, desc := g.cart("usd")
	order := g.order()
	k1, k2 := g.s.appKey(), g.s.appKey()
	t2 := t + g.secs(30, 90)
	c1 := g.web(p, t, amount, "usd", order, desc, k1)
	c2 := g.web(p, t2, amount, "usd", order, desc, k2)
	g.log(k1, order, "", t) // the first attempt timed out on the client: it never learned the charge id
	g.log(k2, order, c2.ID, t2)
	return fmt.Sprintf("checkout timed out and retried order %s with a new idempotency key", order), []*charge{c1, c2}
}

func (g *gen) keyReusedAfterExpiry(inst int, t int64) (string, []*charge) {
	p := g.person(false)
	amount, desc := g.cart("usd")
	order := g.order()
	key := "checkout-" + order
	t2 := t + 26*3600 + g.secs(0, 1800)
	mk := func(at int64) *charge {
		md := map[string]string{"order_id": order}
		if inst%2 == 0 { // this integration also copies its key into the metadata
			md["idempotency_key"] = key
		}
		return g.s.createCharge(p, at, amount, "usd", chargeOpts{description: "Order " + order + ": " + desc,
			metadata: md, key: key, request: true})
	}
	c1 := mk(t)
	c2 := mk(t2)
	g.log(key, order, c1.ID, t)
	return fmt.Sprintf("a retry job re-sent order %s with the same key 26 h later, after Stripe had pruned it", order),
		[]*charge{c1, c2}
}

func (g *gen) guestSameCard(inst int, t int64) (string, []*charge) {
	p := g.person(true)
	p2 := p
	p2.email = g.email("guest", fmt.Sprintf("checkout%d", inst))
	amount, desc := g.cart("usd")
	order := g.order()
	t2 := t + g.secs(40, 200)
	return "guest checkout paid twice with one card, the second time under a corrected email",
		[]*charge{g.web(p, t, amount, "usd", order, desc, g.s.libraryKey(t)), g.web(p2, t2, amount, "usd", order, desc, g.s.libraryKey(t2))}
}

func (g *gen) emailOnly(inst int, t int64) (string, []*charge) {
	p := g.person(true)
	p2 := p
	p2.card = g.s.newCard("US")
	amount, desc := g.cart("usd")
	opts := chargeOpts{description: "Payment link: " + desc, request: true}
	t2 := t + g.secs(60, 240)
	return "guest paid a payment link twice, with two different cards, under one email",
		[]*charge{g.s.createCharge(p, t, amount, "usd", opts), g.s.createCharge(p2, t2, amount, "usd", opts)}
}

func (g *gen) legitRepeat(inst int, t int64) (string, []*charge) {
	p := g.person(false)
	amount, desc := g.cart("usd")
	o1, o2 := g.order(), g.order()
	k1, k2 := g.s.appKey(), g.s.appKey()
	t2 := t + g.secs(180, 480)
	c1 := g.web(p, t, amount, "usd", o1, desc, k1)
	c2 := g.web(p, t2, amount, "usd", o2, desc, k2)
	g.log(k1, o1, c1.ID, t)
	g.log(k2, o2, c2.ID, t2)
	return fmt.Sprintf("customer bought the same cart again (orders %s and %s): legitimate", o1, o2), []*charge{c1, c2}
}

func (g *gen) subscription(inst int, t int64) (string, []*charge) {
	p := g.person(false)
	plan := plans[inst%len(plans)]
	var out []*charge
	for at := t - 30*day; at <= t; at += 30 * day {
		out = append(out, g.s.createCharge(p, at, plan.price, "usd", chargeOpts{
			description: "Subscription update: " + plan.name, invoice: g.s.newID("in_1", 23)}))
	}
	return "monthly subscription invoices of the same amount: legitimate", out
}

func (g *gen) declinedThenPaid(inst int, t int64) (string, []*charge) {
	p := g.person(false)
	amount, desc := g.cart("usd")
	order := g.order()
	k1, k2 := g.s.appKey(), g.s.appKey()
	c1 := g.s.createCharge(p, t, amount, "usd", chargeOpts{description: "Order " + order + ": " + desc,
		metadata: map[string]string{"order_id": order}, key: k1, request: true, failed: true,
		failureCode: declineCodes[inst%2]})
	if inst == 1 {
		p.card = g.s.newCard("US") // paid with another card
	}
	t2 := t + g.secs(60, 180)
	c2 := g.web(p, t2, amount, "usd", order, desc, k2)
	g.log(k1, order, c1.ID, t)
	g.log(k2, order, c2.ID, t2)
	return fmt.Sprintf("order %s was declined, then paid: only one charge took money", order), []*charge{c1, c2}
}

func (g *gen) otherCurrency(inst int, t int64) (string, []*charge) {
	currency, country := "eur", "DE"
	if inst%2 == 0 {
		currency, country = "jpy", "JP"
	}
	p := g.person(false)
	p.card = g.s.newCard(country)
	amount, desc := g.cart(currency)
	order := g.order()
	t2 := t + g.secs(3, 50)
	return fmt.Sprintf("double charge in %s", currency),
		[]*charge{g.web(p, t, amount, currency, order, desc, g.s.libraryKey(t)), g.web(p, t2, amount, currency, order, desc, g.s.libraryKey(t2))}
}

func (g *gen) uncaptured(inst int, t int64) (string, []*charge) {
	p := g.person(false)
	amount, desc := g.cart("usd")
	order := g.order()
	c1 := g.web(p, t, amount, "usd", order, desc, g.s.libraryKey(t))
	t2 := t + g.secs(10, 30)
	c2 := g.s.createCharge(p, t2, amount, "usd", chargeOpts{description: "Order " + order + ": " + desc,
		metadata: map[string]string{"order_id": order}, key: g.s.libraryKey(t2), request: true, uncaptured: true})
	return "a second authorisation was never captured: no money taken twice", []*charge{c1, c2}
}

// pair is a duplicate of a double-click kind, the base for the refund scenarios.
func (g *gen) pair(t int64) (*charge, *charge) {
	p := g.person(false)
	amount, desc := g.cart("usd")
	order := g.order()
	t2 := t + g.secs(3, 20)
	return g.web(p, t, amount, "usd", order, desc, g.s.libraryKey(t)), g.web(p, t2, amount, "usd", order, desc, g.s.libraryKey(t2))
}

func (g *gen) alreadyRefunded(inst int, t int64) (string, []*charge) {
	c1, c2 := g.pair(t)
	g.refund(c2, c2.Created+g.secs(2*3600, 20*3600), c2.Amount, "duplicate")
	return "duplicate already refunded in full by support", []*charge{c1, c2}
}

func (g *gen) partlyRefunded(inst int, t int64) (string, []*charge) {
	c1, c2 := g.pair(t)
	g.refund(c2, c2.Created+g.secs(2*3600, 20*3600), c2.Amount/4, "requested_by_customer")
	return "duplicate partly refunded (shipping only); the rest is still at risk", []*charge{c1, c2}
}

func (g *gen) disputed(inst int, t int64) (string, []*charge) {
	c1, c2 := g.pair(t)
	g.s.dispute(c2, g.before(c2.Created+g.secs(2*86400, 4*86400)), "duplicate")
	return "customer disputed the duplicate: it cannot be refunded", []*charge{c1, c2}
}

func (g *gen) samePaymentIntent(inst int, t int64) (string, []*charge) {
	p := g.person(false)
	amount, desc := g.cart("usd")
	order := g.order()
	c1 := g.web(p, t, amount, "usd", order, desc, g.s.libraryKey(t))
	t2 := t + g.secs(60, 180)
	c2 := g.s.createCharge(p, t2, amount, "usd", chargeOpts{description: c1.Description, metadata: c1.Metadata,
		key: g.s.libraryKey(t2), request: true, pi: c1.PaymentIntent})
	return "two succeeded charges on one PaymentIntent: retries of one intent, not duplicates", []*charge{c1, c2}
}

func (g *gen) tripleRetry(inst int, t int64) (string, []*charge) {
	p := g.person(false)
	amount, desc := g.cart("usd")
	order := g.order()
	times := []int64{t, t + g.secs(8, 15), t + g.secs(25, 50)}
	var out []*charge
	for _, at := range times {
		key := g.s.libraryKey(at)
		if inst%2 == 0 {
			key = g.s.appKey()
		}
		c := g.web(p, at, amount, "usd", order, desc, key)
		if inst%2 == 0 {
			g.log(key, order, c.ID, at)
		}
		out = append(out, c)
	}
	how := "no stable key (library keys)"
	if inst%2 == 0 {
		how = "a new application key per attempt"
	}
	return fmt.Sprintf("retry loop charged order %s three times in under a minute, %s", order, how), out
}

// browserOrder pays order with a PaymentIntent the server creates with key
// ("" for none) and Stripe.js confirms: the PaymentIntent's metadata (the order)
// is copied to the charge, whose own event carries no key.
func (g *gen) browserOrder(p person, at, amount int64, order, desc, key string) *charge {
	return g.s.createCharge(p, at, amount, "usd", chargeOpts{
		description: "Order " + order + ": " + desc, metadata: map[string]string{"order_id": order},
		key: key, request: true, confirm: byBrowser,
	})
}

func (g *gen) intentPerAttempt(inst int, t int64) (string, []*charge) {
	p := g.person(false)
	amount, desc := g.cart("usd")
	order := g.order()
	t2 := t + g.secs(60, 240)
	k1, k2 := fmt.Sprintf("pi-%s-%d", order, t), fmt.Sprintf("pi-%s-%d", order, t2)
	c1, c2 := g.browserOrder(p, t, amount, order, desc, k1), g.browserOrder(p, t2, amount, order, desc, k2)
	return fmt.Sprintf("the payment page reloaded and the server created a second PaymentIntent for order %s, each with its own key; Stripe.js confirmed both", order),
		[]*charge{c1, c2}
}

func (g *gen) intentWithoutKey(inst int, t int64) (string, []*charge) {
	p := g.person(false)
	amount, desc := g.cart("usd")
	order := g.order()
	t2 := t + g.secs(20, 90)
	return fmt.Sprintf("the server created two PaymentIntents for order %s without an idempotency key; Stripe.js confirmed both", order),
		[]*charge{g.browserOrder(p, t, amount, order, desc, ""), g.browserOrder(p, t2, amount, order, desc, "")}
}

// doubleCheckout: two Checkout Sessions for one cart, both completed. The cart
// is the sessions' client_reference_id (or, in the third instance, their own
// metadata, which Stripe does not copy to the charge): the charges carry no
// order at all.
func (g *gen) doubleCheckout(inst int, t int64) (string, []*charge) {
	p := g.person(false)
	amount, desc := g.cart("usd")
	cart := fmt.Sprintf("cart-%d", 5000+g.rng.IntN(5000))
	opts := chargeOpts{description: "Checkout: " + desc, request: true, confirm: byCheckout, clientRef: cart}
	if inst == 3 {
		opts.clientRef, opts.sessionMeta = "", map[string]string{"order_id": cart}
	}
	t2 := t + g.secs(30, 300)
	return fmt.Sprintf("the customer completed two Checkout Sessions for %s (a second tab)", cart),
		[]*charge{g.s.createCharge(p, t, amount, "usd", opts), g.s.createCharge(p, t2, amount, "usd", opts)}
}

// checkoutWithoutReference: a customer pays one Payment Link twice. Its
// sessions carry no client_reference_id (a link has none unless its URL adds
// one), so whether the two were one cart is not known.
func (g *gen) checkoutWithoutReference(inst int, t int64) (string, []*charge) {
	p := g.person(false)
	amount, desc := g.cart("usd")
	link := g.s.newID("plink_1", 23)
	opts := chargeOpts{description: "Payment Link: " + desc, request: true, confirm: byCheckout, paymentLink: link}
	t2 := t + g.secs(60, 600)
	return fmt.Sprintf("the customer paid Payment Link %s twice; its sessions carry no client_reference_id", link),
		[]*charge{g.s.createCharge(p, t, amount, "usd", opts), g.s.createCharge(p, t2, amount, "usd", opts)}
}
