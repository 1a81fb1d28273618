package reconcile

import (
	"fmt"
	"strings"
	"time"
)

const (
	// keyLifetime is how long Stripe keeps an idempotency key.
	keyLifetime = 24 * time.Hour
	// tightGap: charges on one customer or card closer than this are almost
	// certainly one payment taken twice.
	tightGap = 2 * time.Minute
	// doubleSubmitGap: closer than this with different keys is a double submit.
	doubleSubmitGap = 10 * time.Second
)

// groupFacts is the evidence classify reads off a group.
type groupFacts struct {
	n          int
	span       time.Duration
	maxGap     time.Duration // the longest gap between consecutive charges
	orders     []string      // distinct non-empty order refs, first seen first
	orderCount map[string]int
	allOrdered bool                // every charge has an order ref
	appKeys    map[string]struct{} // distinct application keys
	anyKey     bool
	keyless    int              // charges without an application key
	keyUses    map[string][]int // key → indices of the charges carrying it
	strongTie  bool             // all charges share a customer id or a card
}

func factsOf(g *Group, keys [][]string) groupFacts {
	ms := g.Charges
	f := groupFacts{
		n:          len(ms),
		span:       g.Span(),
		orderCount: map[string]int{},
		allOrdered: true,
		appKeys:    map[string]struct{}{},
		keyUses:    map[string][]int{},
	}
	sameCustomer, sameCard := ms[0].Customer != "", ms[0].CardFingerprint != ""
	for i := range ms {
		m := &ms[i]
		if i > 0 {
			f.maxGap = max(f.maxGap, m.Created.Sub(ms[i-1].Created))
			sameCustomer = sameCustomer && m.Customer == ms[0].Customer
			sameCard = sameCard && m.CardFingerprint == ms[0].CardFingerprint
		}
		if m.OrderRef == "" {
			f.allOrdered = false
		} else {
			if f.orderCount[m.OrderRef] == 0 {
				f.orders = append(f.orders, m.OrderRef)
			}
			f.orderCount[m.OrderRef]++
		}
		appKey := false
		for _, k := range keys[i] {
			f.anyKey = true
			f.keyUses[k] = append(f.keyUses[k], i)
			if !LibraryGeneratedKey(k) {
				f.appKeys[k] = struct{}{}
				appKey = true
			}
		}
		if !appKey {
			f.keyless++
		}
	}
	f.strongTie = sameCustomer || sameCard
	return f
}

// sharedOrder is the first order ref carried by two or more charges.
func (f *groupFacts) sharedOrder() string {
	for _, o := range f.orders {
		if f.orderCount[o] > 1 {
			return o
		}
	}
	return ""
}

// sharedKey is the key carried by two or more charges with the longest time
// between its first and last use, and that time.
func (f *groupFacts) sharedKey(ms []Member) (key string, gap time.Duration) {
	found := false
	for k, uses := range f.keyUses {
		if len(uses) < 2 {
			continue
		}
		d := ms[uses[len(uses)-1]].Created.Sub(ms[uses[0]].Created)
		if !found || d > gap || d == gap && k < key {
			key, gap, found = k, d, true
		}
	}
	return key, gap
}

// appKeysOf counts the distinct application keys used for order: those on its
// charges and those logged for it without a charge.
func appKeysOf(ms []Member, keys [][]string, order string, logged []string) int {
	seen := map[string]struct{}{}
	for _, k := range logged {
		seen[k] = struct{}{}
	}
	for i := range ms {
		if ms[i].OrderRef != order {
			continue
		}
		for _, k := range keys[i] {
			if !LibraryGeneratedKey(k) {
				seen[k] = struct{}{}
			}
		}
	}
	return len(seen)
}

// classify works out a group's confidence, cause and reasons. The rules are
// documented in doc.go.
func classify(g *Group, keys [][]string, logged map[string][]string, opts Options) Verdict {
	ms := g.Charges
	f := factsOf(g, keys)
	field := opts.OrderField
	order := f.sharedOrder()
	key, keyGap := f.sharedKey(ms)
	orderKeys := 0 // application keys on the charges of the shared order
	if order != "" {
		orderKeys = appKeysOf(ms, keys, order, logged[order])
	}
	timing := fmt.Sprintf("%d charges in %s", f.n, HumanDuration(f.span))

	var v Verdict
	var headline, fix string
	switch {
	case len(f.orders) >= 2:
		v.Confidence, v.Cause = Low, CauseUnknown
		if f.allOrdered && len(f.orders) == f.n {
			headline = fmt.Sprintf("likely legitimate: different %s on each charge", field)
		} else {
			headline = fmt.Sprintf("likely legitimate: %d different %s values (%s)", len(f.orders), field, strings.Join(f.orders, ", "))
		}
		fix = "different orders usually mean separate purchases; dismiss the group if the customer meant to pay more than once"
	case key != "" && keyGap > keyLifetime:
		v.Cause = CauseKeyReusedExpiry
		headline = fmt.Sprintf("idempotency key reused %s later — key had expired (Stripe keeps keys 24 h)", HumanDuration(keyGap))
		fix = fmt.Sprintf("the client retried with idempotency key %s after Stripe had pruned it; stop retrying after 24 h and look the payment up instead", key)
	case orderKeys >= 2:
		v.Cause = CauseNewKeyPerRetry
		headline = fmt.Sprintf("same %s %s with %d different idempotency keys", field, order, orderKeys)
		fix = fmt.Sprintf("the client generated a new Idempotency-Key for each retry of %s %s; reuse one key per order", field, order)
	case f.keyless > 0:
		v.Cause = CauseNoKey
		noKey := "no idempotency key"
		switch {
		case f.keyless < f.n:
			noKey = fmt.Sprintf("%d of %d charges without an idempotency key", f.keyless, f.n)
		case f.anyKey:
			noKey = "no idempotency key from the application (only keys generated by the Stripe library)"
		}
		if order != "" {
			headline = fmt.Sprintf("same %s %s on %d charges, %s", field, order, f.orderCount[order], noKey)
		} else {
			headline = timing + ", " + noKey
		}
		fix = "the application sent no Idempotency-Key of its own, so a retry charged again; send one key per order on every charge request"
	case f.maxGap < doubleSubmitGap && len(f.orders) == 0 && len(f.appKeys) >= 2:
		v.Cause = CauseDoubleSubmit
		headline = fmt.Sprintf("%s with %d different idempotency keys and no %s", timing, len(f.appKeys), field)
		fix = "the checkout was submitted twice (a double click or a second tab); disable the pay button after the first click and derive the key from the checkout session"
	default:
		v.Cause = CauseUnknown
		switch {
		case key != "":
			headline = fmt.Sprintf("same idempotency key %s on charges %s apart", key, HumanDuration(keyGap))
			fix = "Stripe should have replayed the first charge for a repeated key; check that retries send identical parameters to the same account"
		case order != "":
			headline = fmt.Sprintf("same %s %s on %d charges", field, order, f.orderCount[order])
			fix = "nothing in the keys explains it; compare the requests in the Stripe Dashboard's logs"
		default:
			headline = timing
			fix = "nothing in the keys or orders explains it; compare the requests in the Stripe Dashboard's logs"
		}
	}
	if v.Confidence == "" {
		switch {
		case key != "" || order != "":
			v.Confidence = High
		case f.strongTie && f.maxGap <= tightGap:
			v.Confidence = High
		default:
			v.Confidence = Medium
		}
	}

	v.Reasons = append(v.Reasons, headline)
	if !strings.HasPrefix(headline, timing) {
		v.Reasons = append(v.Reasons, timing)
	}
	if tie := tieReason(ms); tie != "" {
		v.Reasons = append(v.Reasons, tie)
	}
	v.Reasons = append(v.Reasons, string(v.Cause)+": "+fix)
	for _, m := range ms[1:] {
		if m.Disputed {
			v.Reasons = append(v.Reasons, m.ID+" is disputed: Stripe won't refund a charge under dispute; answer the dispute instead")
		}
	}
	return v
}

// tieReason says which identity all the charges share, if one does, in the
// order identityLabel prefers.
func tieReason(ms []Member) string {
	if s := sharedValue(ms, memberCustomer); s != "" {
		return "same customer " + s
	}
	if s := sharedValue(ms, memberEmail); s != "" {
		return "same email " + s
	}
	if sharedValue(ms, memberCard) != "" {
		return "same card " + cardLabel(&ms[0].Charge)
	}
	return ""
}

func memberCustomer(m *Member) string { return m.Customer }
func memberCard(m *Member) string     { return m.CardFingerprint }
func memberEmail(m *Member) string    { return NormalizeEmail(m.Email) }

// sharedValue is the non-empty value every member has, else "".
func sharedValue(ms []Member, v func(*Member) string) string {
	first := v(&ms[0])
	for i := range ms[1:] {
		if v(&ms[i+1]) != first {
			return ""
		}
	}
	return first
}
