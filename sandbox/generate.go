package sandbox

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

var firstNames = []string{"Maria", "James", "Aiko", "Liam", "Sofia", "Noah", "Priya", "Lucas", "Emma", "Mateo",
	"Olivia", "Kenji", "Amara", "Ethan", "Chloe", "Diego", "Hannah", "Omar", "Isla", "Mei", "Daniel", "Zoe",
	"Tariq", "Grace", "Felix", "Nora", "Samuel", "Leah", "Jonas", "Ava", "Ravi", "Elena", "Hugo", "Ines",
	"Marcus", "Yara", "Theo", "Freya", "Kofi", "Lena"}

var lastNames = []string{"Garcia", "Smith", "Tanaka", "Okafor", "Rossi", "Nguyen", "Patel", "Müller", "Johnson",
	"Silva", "Kim", "Dubois", "Novak", "Andersen", "Brown", "Haddad", "Kowalski", "Moreau", "Lopez", "Chen",
	"Williams", "Ibrahim", "Fischer", "Costa", "Walsh", "Schmidt", "Yamamoto", "Mensah", "Bianchi", "Ortiz",
	"Larsen", "Cohen", "Murphy", "Sato", "Alvarez", "Weber", "Clarke", "Popescu", "Reyes", "Ahmed"}

var emailDomains = []string{"gmail.com", "outlook.com", "icloud.com", "yahoo.com", "fastmail.com", "proton.me", "hey.com"}

type product struct {
	name  string
	price int64 // usd cents
}

var products = []product{
	{"Ethiopia Yirgacheffe 250g", 1850}, {"Colombia Huila 1kg", 4600}, {"House Espresso Blend 500g", 2400},
	{"Decaf Swiss Water 250g", 1700}, {"Kenya Nyeri AA 250g", 2150}, {"Cold Brew Pack x6", 2900},
	{"Pour-over Starter Kit", 5400}, {"Burr Grinder", 12900}, {"Guatemala Huehuetenango 500g", 2800},
	{"Sumatra Mandheling 250g", 1950}, {"Ceramic Dripper", 3200}, {"Gooseneck Kettle", 6900},
}

var plans = []product{{"Coffee Club: 1 bag monthly", 1800}, {"Coffee Club: 2 bags monthly", 3400},
	{"Office Plan: 2kg monthly", 7900}}

var cafes = []string{"Café Lumen", "Northside Bakery", "The Daily Grind", "Harbor Books & Coffee", "Bluebird Diner",
	"Studio 9 Coworking"}

var declineCodes = []string{"card_declined", "insufficient_funds", "expired_card", "incorrect_cvc"}

const day = int64(24 * 60 * 60)

// gen builds the seeded data set. It runs under s.mu with the store in bulk mode.
type gen struct {
	s          *Server
	rng        *rand.Rand
	now        int64
	span       int64 // seconds
	emailsUsed map[string]bool
}

func generate(s *Server, now time.Time) {
	g := &gen{s: s, rng: s.idRNG, now: now.Unix(), span: int64(s.opts.Span / time.Second), emailsUsed: map[string]bool{}}
	s.data.bulk = true
	if !s.opts.NoScenarios {
		g.scenarios()
	}
	g.ordinary(s.opts.Ordinary)
	sortNewestFirst(s.data.charges)
	sortNewestFirst(s.data.events)
	sortNewestFirst(s.data.refunds)
	sortKeyLog(s.data.keyLog)
	s.data.bulk = false
	s.gen = g
}

func sortKeyLog(log []KeyLogEntry) {
	slices.SortStableFunc(log, func(a, b KeyLogEntry) int { return a.CreatedAt.Compare(b.CreatedAt) })
}

func (s *Server) newCard(country string) card {
	r := s.idRNG
	brands := []string{"visa", "visa", "visa", "visa", "visa", "mastercard", "mastercard", "mastercard", "amex", "discover"}
	funding := "credit"
	if r.IntN(3) == 0 {
		funding = "debit"
	}
	return card{
		Brand:       brands[r.IntN(len(brands))],
		Last4:       fmt.Sprintf("%04d", r.IntN(10000)),
		Fingerprint: prefixed(r, "", 16),
		ExpMonth:    1 + r.IntN(12),
		ExpYear:     2027 + r.IntN(5),
		Country:     country,
		Funding:     funding,
	}
}

func (g *gen) email(first, last string) string {
	local := strings.ToLower(first) + []string{".", "", "_"}[g.rng.IntN(3)] + strings.ToLower(strings.ReplaceAll(last, "ü", "ue"))
	domain := emailDomains[g.rng.IntN(len(emailDomains))]
	e := local + "@" + domain
	for n := 2; g.emailsUsed[e]; n++ {
		e = fmt.Sprintf("%s%d@%s", local, n, domain)
	}
	g.emailsUsed[e] = true
	return e
}

func (g *gen) person(guest bool) person {
	first, last := firstNames[g.rng.IntN(len(firstNames))], lastNames[g.rng.IntN(len(lastNames))]
	p := person{name: first + " " + last, email: g.email(first, last), card: g.s.newCard("US")}
	if !guest {
		p.customer = g.s.newID("cus_", 14)
	}
	return p
}

// inCurrency converts a usd cart total to a plausible price in currency.
func inCurrency(usdCents int64, currency string) int64 {
	switch currency {
	case "eur":
		return (usdCents*92/100 + 49) / 50 * 50
	case "gbp":
		return (usdCents*79/100 + 49) / 50 * 50
	case "jpy":
		return (usdCents*3/2 + 99) / 100 * 100
	}
	return usdCents
}

// cart draws one to three products and returns the total and a description.
func (g *gen) cart(currency string) (int64, string) {
	var total int64
	var names []string
	first := g.rng.IntN(len(products))
	for i := range 1 + g.rng.IntN(3) {
		p := products[(first+i*5)%len(products)] // distinct products
		qty := int64(1 + g.rng.IntN(2))
		total += p.price * qty
		name := p.name
		if qty > 1 {
			name = fmt.Sprintf("%s ×%d", p.name, qty)
		}
		names = append(names, name)
	}
	total += 495 // shipping
	return inCurrency(total, currency), strings.Join(names, ", ")
}

func (g *gen) order() string {
	g.s.data.nextOrder++
	return fmt.Sprintf("o-%d", g.s.data.nextOrder)
}

// web creates a checkout charge for an order.
func (g *gen) web(p person, at, amount int64, currency, order, desc, key string) *charge {
	return g.s.createCharge(p, at, amount, currency, chargeOpts{
		description: "Order " + order + ": " + desc,
		metadata:    map[string]string{"order_id": order},
		key:         key,
		request:     true,
	})
}

func (g *gen) log(key, order, chargeID string, at int64) {
	g.s.data.keyLog = append(g.s.data.keyLog, KeyLogEntry{IdempotencyKey: key, OrderRef: order, ChargeID: chargeID,
		CreatedAt: time.Unix(at, 0).UTC()})
}

// before keeps follow-up events (refunds, disputes) in the past.
func (g *gen) before(at int64) int64 { return min(at, g.now-60) }

func (g *gen) refund(c *charge, at, amount int64, reason string) {
	g.s.applyRefund(c, amount, reason, nil, g.before(at), g.s.newID("req_", 14), "")
}

func (g *gen) secs(lo, hi int) int64 { return int64(lo + g.rng.IntN(hi-lo+1)) }

// ordinary mixes n everyday charges over the span: web orders (most with an
// application idempotency key), guest checkouts, subscription invoices and a
// few wholesale charges made in the Dashboard; mostly succeeded, some declined,
// a few refunded or disputed. No two of them look like duplicates.
func (g *gen) ordinary(n int) {
	if n <= 0 {
		return
	}
	planned := make([]plannedCharge, 0, n)
	// Subscriptions: monthly invoices, about 2% of customers.
	for range max(1, n/60) {
		p, plan := g.person(false), plans[g.rng.IntN(len(plans))]
		first := g.now - g.rng.Int64N(30*day)
		for at := first; at > g.now-g.span && len(planned) < n; at -= 30*day + g.rng.Int64N(3600) {
			planned = append(planned, plannedCharge{p: p, at: at, amount: plan.price, currency: "usd",
				opts: chargeOpts{description: "Subscription update: " + plan.name, invoice: g.s.newID("in_1", 23)}})
		}
	}
	pool := make([]person, max(40, n/8))
	for i := range pool {
		pool[i] = g.person(i%5 == 0) // every fifth regular shopper checks out as a guest
	}
	for i := 0; len(planned) < n; i++ {
		p := pool[g.rng.IntN(len(pool))]
		at := g.now - 60 - g.rng.Int64N(max(1, g.span-60))
		if i%33 == 0 { // wholesale charges keyed in the Dashboard: no order, no key
			cafe := cafes[g.rng.IntN(len(cafes))]
			planned = append(planned, plannedCharge{p: p, at: at, amount: 12000 + 500*g.rng.Int64N(72), currency: "usd",
				opts: chargeOpts{description: "Wholesale: " + cafe + ", " + products[2].name + " ×10", request: true}})
			continue
		}
		planned = append(planned, g.planWeb(p, at))
	}
	// Sort by time, ties in planning order, without moving the big structs around.
	order := make([]int, len(planned))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Or(cmp.Compare(planned[a].at, planned[b].at), cmp.Compare(a, b)) })
	separateLookalikes(planned, order)
	for _, i := range order {
		c := g.create(&planned[i])
		if c.Failed {
			continue
		}
		switch r := g.rng.IntN(1000); {
		case r < 20:
			g.refund(c, c.Created+g.secs(3600, 5*86400), c.Amount, "requested_by_customer")
		case r < 30:
			g.refund(c, c.Created+g.secs(3600, 5*86400), c.Amount/2, "requested_by_customer")
		case r < 33:
			g.s.dispute(c, g.before(c.Created+g.secs(3*86400, 20*86400)), "fraudulent")
		}
	}
	// A few keys the application logged whose request never reached Stripe.
	for range 3 {
		at := g.now - g.rng.Int64N(max(1, g.span))
		g.log(g.s.appKey(), g.order(), "", at)
	}
}

// planWeb plans a web order by p at a random cart, mostly in usd, with an
// application key (logged by the merchant) or, on a legacy path, a library key;
// one in twenty is declined.
func (g *gen) planWeb(p person, at int64) plannedCharge {
	currency := "usd"
	switch r := g.rng.IntN(100); {
	case r >= 99:
		currency = "jpy"
	case r >= 97:
		currency = "gbp"
	case r >= 94:
		currency = "eur"
	}
	amount, desc := g.cart(currency)
	pc := plannedCharge{p: p, at: at, amount: amount, currency: currency, desc: desc, web: true,
		opts: chargeOpts{request: true}}
	if g.rng.IntN(5) == 0 {
		pc.opts.key = g.s.libraryKey(at) // a legacy checkout path that sends no key of its own
	} else {
		pc.opts.key = g.s.appKey()
		pc.logged = true
	}
	if g.rng.IntN(100) < 5 {
		pc.opts.failed, pc.opts.failureCode = true, declineCodes[g.rng.IntN(len(declineCodes))]
	}
	return pc
}

// create makes a planned charge; a web order gets its order number now, so
// order numbers rise with time.
func (g *gen) create(pc *plannedCharge) *charge {
	if !pc.web {
		return g.s.createCharge(pc.p, pc.at, pc.amount, pc.currency, pc.opts)
	}
	order := g.order()
	pc.opts.description = "Order " + order + ": " + pc.desc
	pc.opts.metadata = map[string]string{"order_id": order}
	c := g.s.createCharge(pc.p, pc.at, pc.amount, pc.currency, pc.opts)
	if pc.logged {
		g.log(pc.opts.key, order, c.ID, pc.at)
	}
	return c
}

type plannedCharge struct {
	p        person
	at       int64
	amount   int64
	currency string
	desc     string
	web      bool
	logged   bool
	opts     chargeOpts
}

// separateLookalikes nudges amounts so that no two ordinary charges share an
// identity (customer, card or email), currency and amount within 30 minutes:
// ordinary data must not contain accidental duplicates. order lists planned's
// indexes by time.
func separateLookalikes(planned []plannedCharge, order []int) {
	const near = 30 * 60
	type lookalike struct {
		identity string
		currency string
		amount   int64
	}
	last := make(map[lookalike]int64, 3*len(order))
	for _, i := range order {
		pc := &planned[i]
		if pc.opts.failed {
			continue
		}
		// Fingerprints, emails ("@") and customer ids ("cus_") cannot be mistaken
		// for one another; a guest has no customer identity.
		ids := [3]string{pc.p.card.Fingerprint, pc.p.email, pc.p.customer}
		if pc.p.customer == "" {
			ids[2] = ids[0]
		}
		for clash := true; clash; {
			clash = false
			for _, id := range ids {
				if at, ok := last[lookalike{id, pc.currency, pc.amount}]; ok && pc.at-at < near {
					clash = true
				}
			}
			if clash {
				pc.amount += 100
			}
		}
		for _, id := range ids {
			last[lookalike{id, pc.currency, pc.amount}] = pc.at
		}
	}
}
