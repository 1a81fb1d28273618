package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
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
	// ambiguousKeys counts the application keys that are bare UUIDs, which a
	// Stripe library may have made (AmbiguousKey).
	ambiguousKeys int
	anyKey        bool
	keyless       int              // charges known to have been sent without an application key
	notKnown      []string         // charges nothing recorded the creating request of
	checkoutMade  int              // charges Stripe Checkout made
	sessions      []string         // their distinct Checkout Sessions
	intentBare    []int            // indices of the charges whose PaymentIntent is known to have been created without an application key
	firstKeyed    int              // index of the first charge with an application key, -1 if none
	firstBare     int              // index of the first charge known to be without one, -1 if none
	keyUses       map[string][]int // key → indices of the charges carrying it
	strongTie     bool             // all charges share a customer id or a card
}

// factsOf reads the evidence off ms, charges in created order, and keys[i], all
// distinct keys of ms[i].
func factsOf(ms []Member, keys [][]string) groupFacts {
	f := groupFacts{
		n:          len(ms),
		span:       ms[len(ms)-1].Created.Sub(ms[0].Created),
		firstKeyed: -1,
		firstBare:  -1,
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
		for _, k := range keys[i] {
			f.anyKey = true
			f.keyUses[k] = append(f.keyUses[k], i)
			if !m.Provider.libraryKey(k) {
				if _, seen := f.appKeys[k]; !seen && AmbiguousKey(k) {
					f.ambiguousKeys++
				}
				f.appKeys[k] = struct{}{}
			}
		}
		switch m.KeyEvidence {
		case EvidenceNoAppKey:
			if m.keyFromIntent {
				f.intentBare = append(f.intentBare, i)
			}
			f.keyless++
			if f.firstBare < 0 {
				f.firstBare = i
			}
		case EvidenceAppKey:
			if f.firstKeyed < 0 {
				f.firstKeyed = i
			}
		case EvidenceCheckout:
			f.checkoutMade++
			if !slices.Contains(f.sessions, m.CheckoutSession) {
				f.sessions = append(f.sessions, m.CheckoutSession)
			}
		default:
			f.notKnown = append(f.notKnown, m.ID)
		}
	}
	f.strongTie = sameCustomer || sameCard
	return f
}

// sessionsOf counts the distinct completed Checkout Sessions among the
// charges of order.
func sessionsOf(ms []Member, order string) int {
	seen := map[string]struct{}{}
	for i := range ms {
		if ms[i].OrderRef == order && ms[i].CheckoutSession != "" {
			seen[ms[i].CheckoutSession] = struct{}{}
		}
	}
	return len(seen)
}

// orderCounts counts the charges carrying each non-empty order ref (nil when
// none has one) and says whether any order ref is carried by two or more.
func orderCounts(ms []Member) (count map[string]int, shared bool) {
	for i := range ms {
		if o := ms[i].OrderRef; o != "" {
			if count == nil {
				count = map[string]int{}
			}
			count[o]++
			shared = shared || count[o] > 1
		}
	}
	return count, shared
}

// assignRoles marks the charges to keep; the rest are suspects. The earliest is
// always kept. When an order ref is carried by two or more charges the group is
// about that order, so the first charge of every order ref is kept too: the first
// of a duplicated order is the payment the customer meant, and a charge of an
// order no other charge carries is a separate purchase. Without a shared order
// ref only the earliest is kept (different orders make the group low confidence
// instead, for the operator to judge).
func assignRoles(ms []Member) {
	count, shared := orderCounts(ms)
	var seen map[string]bool
	if shared {
		seen = make(map[string]bool, len(count))
	}
	for i := range ms {
		m := &ms[i]
		m.Role = Duplicate
		first := shared && m.OrderRef != "" && !seen[m.OrderRef]
		if first {
			seen[m.OrderRef] = true
		}
		if i == 0 || first {
			m.Role = Keep
		}
	}
}

// separatePurchase reports whether m is a charge of an order no other charge of
// its group carries, in a group about a duplicated order.
func separatePurchase(m *Member, count map[string]int, shared bool) bool {
	return shared && m.OrderRef != "" && count[m.OrderRef] == 1
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

// intentKeysOf counts the distinct PaymentIntents of order's charges whose
// create request's application key is known, and those keys, and names the
// charges.
func intentKeysOf(ms []Member, order string) (intents, keys int, charges []string) {
	pis, ks := map[string]struct{}{}, map[string]struct{}{}
	for i := range ms {
		m := &ms[i]
		if m.OrderRef == order && m.KeyEvidence == EvidenceAppKey && m.keyFromIntent {
			pis[m.PaymentIntent] = struct{}{}
			ks[m.IdempotencyKey] = struct{}{}
			charges = append(charges, m.ID)
		}
	}
	return len(pis), len(ks), charges
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
			if !ms[i].Provider.libraryKey(k) {
				seen[k] = struct{}{}
			}
		}
	}
	return len(seen)
}

// classify works out a group's confidence, cause and reasons. The rules are
// documented in doc.go.
//
// A separate purchase (see assignRoles) is left out of the evidence: the timing,
// keys and ties describe the duplicated order's charges only.
func classify(g *Group, keys [][]string, logged map[string][]string, opts Options) Verdict {
	count, shared := orderCounts(g.Charges)
	ms, ks := g.Charges, keys
	if shared {
		ms, ks = nil, nil
		for i := range g.Charges {
			if !separatePurchase(&g.Charges[i], count, shared) {
				ms = append(ms, g.Charges[i])
				ks = append(ks, keys[i])
			}
		}
	}
	f := factsOf(ms, ks)
	p := g.Charges[0].Provider // detection groups one provider's charges only
	field := opts.OrderField
	order := f.sharedOrder()
	key, keyGap := f.sharedKey(ms)
	orderKeys := 0 // application keys on the charges of the shared order
	if order != "" {
		orderKeys = appKeysOf(ms, ks, order, logged[order])
	}
	timing := fmt.Sprintf("%d charges in %s", f.n, HumanDuration(f.span))

	var v Verdict
	var headline, fix string
	switch {
	case order == "" && len(f.orders) >= 2:
		v.Confidence, v.Cause = Low, CauseUnknown
		if f.allOrdered && len(f.orders) == f.n {
			headline = fmt.Sprintf("likely legitimate: different %s on each charge", field)
		} else {
			headline = fmt.Sprintf("likely legitimate: %d different %s values (%s)", len(f.orders), field, strings.Join(f.orders, ", "))
		}
		fix = "different orders usually mean separate purchases; dismiss the group if the customer meant to pay more than once"
	case order != "" && sessionsOf(ms, order) >= 2:
		v.Cause = CauseDoubleCheckout
		n := sessionsOf(ms, order)
		headline = fmt.Sprintf("%d Checkout Sessions completed for one cart, %s", n, order)
		fix = fmt.Sprintf("the customer completed %d Checkout Sessions for %s; before creating a session for a cart, reuse its open session, or expire it (POST /v1/checkout/sessions/{id}/expire) when a new one is made", n, order)
	case key != "" && p.KeyLifetime() > 0 && keyGap > p.KeyLifetime():
		v.Cause = CauseKeyReusedExpiry
		headline = fmt.Sprintf("idempotency key reused %s later — key had expired (%s)", HumanDuration(keyGap), p.keysKept())
		fix = fmt.Sprintf("the client retried with idempotency key %s after %s had pruned it; stop retrying after %s and look the payment up instead",
			key, p.Title(), HumanDuration(p.KeyLifetime()))
	case orderKeys >= 2:
		v.Cause = CauseNewKeyPerRetry
		headline = fmt.Sprintf("same %s %s with %d different idempotency keys", field, order, orderKeys)
		fix = fmt.Sprintf("the client generated a new %s for each retry of %s %s; reuse one key per order", p.KeyHeader(), field, order)
		if intents, keys, charges := intentKeysOf(ms, order); intents >= 2 && keys >= 2 {
			headline = fmt.Sprintf("same %s %s on %d PaymentIntents created with %d different idempotency keys (%s)", field, order, intents, keys, strings.Join(charges, ", "))
			fix = fmt.Sprintf("the server created a new PaymentIntent for each attempt at %s %s (%s); reuse the order's PaymentIntent instead of creating one per attempt (store its id with the order, or create it with a key derived from the order)", field, order, strings.Join(charges, ", "))
		}
	case f.checkoutMade == f.n:
		v.Cause = CauseUnknown
		sessions := strings.Join(f.sessions, ", ")
		headline = fmt.Sprintf("%s, made by Stripe Checkout (sessions %s)", timing, sessions)
		fix = fmt.Sprintf("Stripe Checkout created these PaymentIntents (sessions %s), so no request or idempotency key of the application's is involved", sessions)
		var unreferenced []string
		for i := range ms {
			if ms[i].OrderRef == "" && !slices.Contains(unreferenced, ms[i].CheckoutSession) {
				unreferenced = append(unreferenced, ms[i].CheckoutSession)
			}
		}
		if len(unreferenced) > 0 {
			fix += fmt.Sprintf("; %s carry no client_reference_id, so whether they were one cart paid twice (double_checkout) is not known: "+
				"set client_reference_id to the cart id when creating a session (for a Payment Link, add ?client_reference_id=<cart> to its URL)", strings.Join(unreferenced, ", "))
		}
	case f.keyless > 0:
		v.Cause = CauseNoKey
		noKey := "no idempotency key"
		switch {
		case f.keyless < f.n:
			noKey = fmt.Sprintf("%d of %d charges without an idempotency key", f.keyless, f.n)
			if len(f.notKnown) > 0 {
				noKey += fmt.Sprintf(" (not known for %s)", strings.Join(f.notKnown, ", "))
			}
		case f.anyKey:
			noKey = "no idempotency key from the application (only keys generated by the " + p.Title() + " library)"
		}
		if order != "" {
			headline = fmt.Sprintf("same %s %s on %d charges, %s", field, order, f.orderCount[order], noKey)
		} else {
			headline = timing + ", " + noKey
		}
		fix = f.missingKeyFix(ms, p)
	case len(f.notKnown) > 0:
		v.Cause = CauseUnknown
		what := "keys not known"
		if order != "" {
			headline = fmt.Sprintf("same %s %s on %d charges, %s", field, order, f.orderCount[order], what)
		} else {
			headline = timing + ", " + what
		}
		fix = fmt.Sprintf("nothing recorded the requests that created %s, so whether they carried an idempotency key is not known "+
			"(Stripe lists events for 30 days only, and imported files carry none); import the application's key log with `doublecheck keys import`, "+
			"or run `doublecheck sync` within 30 days of the charges", strings.Join(f.notKnown, ", "))
		if p.Resolved() != ProviderStripe {
			// No other provider's records carry the merchant's key.
			fix = fmt.Sprintf("nothing recorded the requests that created %s, so whether they carried %s is not known "+
				"(%s's records do not carry it); import the application's key log with `doublecheck keys import`",
				strings.Join(f.notKnown, ", "), p.aKeyHeader(), p.Title())
		}
	case f.maxGap < doubleSubmitGap && len(f.orders) == 0 && len(f.appKeys) >= 2:
		v.Cause = CauseDoubleSubmit
		headline = fmt.Sprintf("%s with %d different idempotency keys and no %s", timing, len(f.appKeys), field)
		fix = "the checkout was submitted twice (a double click or a second tab); disable the pay button after the first click and derive the key from the checkout session"
	default:
		v.Cause = CauseUnknown
		switch {
		case key != "":
			headline = fmt.Sprintf("same idempotency key %s on charges %s apart", key, HumanDuration(keyGap))
			fix = p.Title() + " should have replayed the first charge for a repeated key; check that retries send identical parameters to the same account"
		case order != "":
			headline = fmt.Sprintf("same %s %s on %d charges", field, order, f.orderCount[order])
			fix = "nothing in the keys explains it; compare the requests in " + requestLogs(p)
		default:
			headline = timing
			fix = "nothing in the keys or orders explains it; compare the requests in " + requestLogs(p)
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
	if (v.Cause == CauseNewKeyPerRetry || v.Cause == CauseDoubleSubmit) && f.ambiguousKeys > 0 && p.Resolved() == ProviderStripe {
		// A library makes its key once per call and reuses it on its own
		// retries, so Stripe replays them: two library UUIDs are two calls.
		v.Reasons = append(v.Reasons, fmt.Sprintf("ambiguous: %d of the keys are bare UUIDs, which stripe-python, -java and -dotnet put on every POST sent without a key "+
			"(stripe-ruby and -php when their retries are on); if these are library keys, the library made one key per call, "+
			"so the application created the charge twice without a key of its own; the cause is then no_key", f.ambiguousKeys))
	}
	for _, o := range f.orders {
		if o != order && f.orderCount[o] > 1 {
			v.Reasons = append(v.Reasons, fmt.Sprintf("same %s %s on %d charges too", field, o, f.orderCount[o]))
		}
	}
	for i := range g.Charges {
		m := &g.Charges[i]
		switch {
		case separatePurchase(m, count, shared):
			v.Reasons = append(v.Reasons, fmt.Sprintf("%s is %s %s, a separate purchase: kept", m.ID, field, m.OrderRef))
		case i > 0 && m.Role == Keep:
			v.Reasons = append(v.Reasons, fmt.Sprintf("%s is the first charge of %s %s: kept", m.ID, field, m.OrderRef))
		case m.Role == Duplicate && m.Disputed:
			v.Reasons = append(v.Reasons, m.ID+" is "+NotRefundableDisputed(p))
		}
	}
	return v
}

// missingKeyFix says what to fix for no_key. When some charges carry an
// application key and others none, the request without one is the bug (a retry
// that dropped the key, or a first attempt sent before the client had one), and
// the sentence names it.
func (f *groupFacts) missingKeyFix(ms []Member, p Provider) string {
	if f.firstKeyed < 0 {
		var intentCharges, intents []string
		for _, i := range f.intentBare {
			intentCharges = append(intentCharges, ms[i].ID)
			if !slices.Contains(intents, ms[i].PaymentIntent) {
				intents = append(intents, ms[i].PaymentIntent)
			}
		}
		named := strings.Join(intentCharges, ", ")
		switch {
		case len(f.intentBare) == f.keyless && len(intents) >= 2:
			return fmt.Sprintf("the server created the PaymentIntents of %s without an Idempotency-Key of its own, so a retry created another; "+
				"create one PaymentIntent per order, with a key derived from the order, and reuse it", named)
		case len(f.intentBare) > 0:
			what := "the PaymentIntent of " + named + " was"
			if len(intents) > 1 {
				what = "the PaymentIntents of " + named + " were"
			}
			return fmt.Sprintf("the application sent no Idempotency-Key of its own, so a retry charged again (%s created without one); "+
				"send one key per order on every request that creates a charge or a PaymentIntent", what)
		}
		return "the application sent no " + p.KeyHeader() + " of its own, so a retry charged again; send one key per order on every charge request"
	}
	keyed, bare := &ms[f.firstKeyed], &ms[f.firstBare]
	if f.firstBare > f.firstKeyed {
		return fmt.Sprintf("the retry %s was sent without the %s %s that the first attempt %s used, so %s charged again; send the same key on every retry",
			bare.ID, p.KeyHeader(), keyed.IdempotencyKey, keyed.ID, p.Title())
	}
	return fmt.Sprintf("the first attempt %s was sent without %s, unlike %s (%s), so the retry could not replay it; send one key per order on every charge request, the first included",
		bare.ID, p.aKeyHeader(), keyed.ID, keyed.IdempotencyKey)
}

// requestLogs is where an operator can compare the requests that made a
// provider's charges.
func requestLogs(p Provider) string {
	if p.Resolved() == ProviderStripe {
		return "the Stripe Dashboard's logs"
	}
	return "the application's request logs"
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
