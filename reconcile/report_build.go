package reconcile

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ParseConfidence reads a confidence level as the command line gives it.
func ParseConfidence(s string) (Confidence, error) {
	switch c := Confidence(strings.ToLower(strings.TrimSpace(s))); c {
	case High, Medium, Low:
		return c, nil
	case "":
		return "", nil
	}
	return "", fmt.Errorf("confidence %q is not one of high, medium, low", s)
}

// Rank orders confidence levels: High 3, Medium 2, Low 1, none 0. Filters
// (--min-confidence, the dashboard's f) keep groups ranked at least as high.
func (c Confidence) Rank() int {
	switch c {
	case High:
		return 3
	case Medium:
		return 2
	case Low:
		return 1
	}
	return 0
}

// sortGroups orders pending groups first, then open ones, then the most
// certain, then the newest (amounts in different currencies cannot be ranked
// against each other).
func sortGroups(groups []Group) {
	rank := func(g *Group) int {
		switch g.Status {
		case Pending:
			return 0
		case Open:
			return 1
		}
		return 2
	}
	slices.SortFunc(groups, func(a, b Group) int {
		return cmp.Or(
			cmp.Compare(rank(&a), rank(&b)),
			cmp.Compare(b.Confidence.Rank(), a.Confidence.Rank()),
			b.Charges[len(b.Charges)-1].Created.Compare(a.Charges[len(a.Charges)-1].Created),
			strings.Compare(a.ID, b.ID))
	})
}

// keysWithoutCharge maps order refs to the application keys logged for them
// whose charge is unknown.
func (x *index) keysWithoutCharge() map[string][]string {
	logged := map[string][]string{}
	for _, r := range x.keyless {
		rec := &x.in.Keys[r]
		if rec.OrderRef != "" && !LibraryGeneratedKey(rec.Key) {
			logged[rec.OrderRef] = append(logged[rec.OrderRef], rec.Key)
		}
	}
	return logged
}

// chargeRefunds is what the refund ledger says about one charge.
type chargeRefunds struct {
	latest       RefundIntent
	latestAt     time.Time
	succeeded    RefundIntent // the latest succeeded or received intent, if hasSucceeded
	succeededAt  time.Time
	refunded     int64 // amount of succeeded and received intents
	received     int64 // amount of received intents, awaiting the provider's confirmation
	inFlight     []RefundRequest
	endedKeys    []string // of intents that ended without moving money
	hasLatest    bool
	hasSucceeded bool
}

// state is the refund state the report shows: the latest intent, except that a
// refused attempt after a refund that happened shows that refund, so the
// report never says "refund_failed" for money that was given back.
func (cr *chargeRefunds) state() (RefundIntent, time.Time) {
	if cr.hasSucceeded && cr.latest.Status == RefundFailed {
		return cr.succeeded, cr.succeededAt
	}
	return cr.latest, cr.latestAt
}

// ledger indexes decisions and refund intents for lookups per group and charge.
type ledger struct {
	groupDismissal map[string]Decision // latest dismissed/undismissed per group
	groupWide      map[string]Decision // latest decision about a whole group
	byCharge       map[string]Decision // latest decision about one charge
	// coveredBy are the decisions about a whole group that list the charges
	// they cover, by each of those charges: a group's id follows its earliest
	// charge, so a charge older than the one kept when the operator decided
	// gives the group another id, and the decision must still find it.
	coveredBy map[string][]Decision
	refunds   map[string]*chargeRefunds
}

// groupDecision is the latest of the decisions in byGroup recorded under g's
// id and of the whole-group decisions covering any charge of g.
func (l *ledger) groupDecision(g *Group, byGroup map[string]Decision) (Decision, bool) {
	d, ok := byGroup[g.ID]
	for i := range g.Charges {
		for _, c := range l.coveredBy[g.Charges[i].ID] {
			if !ok || c.At.After(d.At) {
				d, ok = c, true
			}
		}
	}
	return d, ok
}

func newLedger(in Input) *ledger {
	l := &ledger{
		groupDismissal: map[string]Decision{},
		groupWide:      map[string]Decision{},
		byCharge:       map[string]Decision{},
		coveredBy:      map[string][]Decision{},
		refunds:        map[string]*chargeRefunds{},
	}
	later := func(m map[string]Decision, k string, d Decision) {
		if old, ok := m[k]; !ok || !d.At.Before(old.At) {
			m[k] = d
		}
	}
	for _, d := range in.Decisions {
		if d.GroupID != "" && (d.Kind == DecisionDismissed || d.Kind == DecisionUndismissed) {
			later(l.groupDismissal, d.GroupID, d)
		}
		if d.ChargeID == "" {
			later(l.groupWide, d.GroupID, d)
			for _, id := range d.Charges {
				l.coveredBy[id] = append(l.coveredBy[id], d)
			}
		} else {
			later(l.byCharge, d.ChargeID, d)
		}
	}
	for _, ri := range in.Refunds {
		if ri.Rehearsal() {
			continue // a dry run decided nothing and moved nothing
		}
		cr := l.refunds[ri.ChargeID]
		if cr == nil {
			cr = &chargeRefunds{}
			l.refunds[ri.ChargeID] = cr
		}
		if ri.Status.EndedWithoutRefund() {
			cr.endedKeys = append(cr.endedKeys, ri.Key)
		}
		switch ri.Status {
		case RefundPending:
			cr.inFlight = append(cr.inFlight, ri.RefundRequest)
		case RefundSucceeded, RefundReceived:
			// A received refund counts until its confirmation says otherwise:
			// the provider has it, and planning it again could refund twice.
			cr.refunded += ri.Amount
			if ri.Status == RefundReceived {
				cr.received += ri.Amount
			}
		}
		at := ri.FinishedAt
		if at.IsZero() {
			at = ri.CreatedAt
		}
		if !cr.hasLatest || !at.Before(cr.latestAt) {
			cr.latest, cr.latestAt, cr.hasLatest = ri, at, true
		}
		// A received refund has the provider's reference too: the report names it.
		if (ri.Status == RefundSucceeded || ri.Status == RefundReceived) && (!cr.hasSucceeded || !at.Before(cr.succeededAt)) {
			cr.succeeded, cr.succeededAt, cr.hasSucceeded = ri, at, true
		}
	}
	return l
}

// NotRefundableDisputed is why a disputed suspect of provider p is not
// refunded.
func NotRefundableDisputed(p Provider) string {
	if p.Resolved() == ProviderStripe {
		return notRefundableDisputed
	}
	return "disputed: doublecheck does not refund a charge under dispute; answer the dispute in " + p.Title() + " instead"
}

// providerName names the provider of the charges, loaded or tallied, "the
// provider" when they are of several or none.
func (x *index) providerName() string {
	if ps := providerCharges(x.in.Charges, x.in.Unloaded.Providers); len(ps) == 1 {
		return ps[0].Provider.Title()
	}
	return "the provider"
}

// Sentences for a suspect that cannot be refunded.
const (
	notRefundableDisputed = "disputed: Stripe won't refund a charge under dispute; answer the dispute instead"
	notRefundablePending  = "a refund is already in progress: resuming it (doublecheck refund --resume, see the next step) finishes it with the same key"
	notRefundableDone     = "already fully refunded"
)

// group builds one Group from the charge indices of a component.
func (x *index) group(idx []int32, led *ledger) Group {
	ch := x.in.Charges
	slices.SortFunc(idx, func(a, b int32) int {
		if c := ch[a].Created.Compare(ch[b].Created); c != 0 {
			return c
		}
		return strings.Compare(ch[a].ID, ch[b].ID)
	})
	keep := &ch[idx[0]]
	g := Group{
		ID:       GroupID(keep.ID),
		Amount:   keep.Amount,
		Currency: keep.Currency,
		Charges:  make([]Member, len(idx)),
	}
	keys := make([][]string, len(idx))
	for k, i := range idx {
		m := &g.Charges[k]
		m.Charge = ch[i]
		m.OrderRef = x.order[i]
		m.IdempotencyKey, m.KeySources, keys[k] = x.displayKey(int(i))
		keys[k] = x.withoutConfirmationKeys(int(i), keys[k])
		m.KeyEvidence, m.keyFromIntent = x.keyEvidence(&m.Charge, keys[k])
		if m.KeyEvidence == EvidenceAppKey {
			m.keyFromIntent = slices.Contains(m.KeySources, SourcePaymentIntent)
		}
		if co := x.checkoutOf(&m.Charge); co != nil {
			m.CheckoutSession = co.Session
		}
	}
	assignRoles(g.Charges)
	groupWide, _ := led.groupDecision(&g, led.groupWide)
	for k := range g.Charges {
		x.applyLedger(&g.Charges[k], groupWide, led)
	}
	dismissal, dismissed := led.groupDecision(&g, led.groupDismissal)
	dismissed = dismissed && dismissal.Kind == DecisionDismissed
	var fresh []string // suspects the dismissal did not cover
	if dismissed {
		fresh = g.uncovered(&dismissal)
	}
	g.Status = Open
	switch {
	case g.inFlight():
		g.Status = Pending // before a dismissal: money may have moved either way
	case dismissed && len(fresh) == 0:
		g.Status = Dismissed
	case g.allSuspectsRefunded(led) && g.awaitingConfirmation(led):
		g.Status = Received
	case g.allSuspectsRefunded(led):
		g.Status = Resolved
	}
	g.Identity = identityLabel(g.Charges)
	g.Verdict = classify(&g, keys, x.loggedKeys, x.opts)
	if reversed := g.reversedRefunds(led); len(reversed) > 0 {
		// The headline: money the operator thought given back is not.
		g.Reasons = append(reversed, g.Reasons...)
	}
	if len(fresh) > 0 {
		// The headline: what reopened the group is what the operator must judge.
		g.Reasons = append([]string{fmt.Sprintf("new since dismissed by %s %s: %s",
			cmp.Or(dismissal.Operator, "an operator"), dismissal.At.UTC().Format("2006-01-02 15:04 UTC"), strings.Join(fresh, ", "))},
			g.Reasons...)
	}
	return g
}

// reversedRefunds says, for each suspect of g whose latest refund its
// provider reversed after receiving or confirming it, that the money came
// back and how to ask again.
func (g *Group) reversedRefunds(led *ledger) []string {
	var out []string
	for i := range g.Charges {
		m := &g.Charges[i]
		cr := led.refunds[m.ID]
		if m.Role != Duplicate || cr == nil || !cr.hasLatest || cr.latest.Status != RefundReversed {
			continue
		}
		it := cr.latest
		out = append(out, fmt.Sprintf("refund %s of %s (%s) %s (%s): the money came back and is at risk again; refunding %s asks again, under a new key",
			it.RefundID, m.ID, FormatMoney(it.Amount, it.Currency), RefundReversed.Describe(m.Provider), cmp.Or(it.ErrorMessage, it.ErrorCode), m.ID))
	}
	return out
}

// Reversed is whether a refund of one of g's suspects was reversed by its
// provider (the group's headline says so).
func (g *Group) Reversed() bool {
	for i := range g.Charges {
		if m := &g.Charges[i]; m.Role == Duplicate && m.Decision == string(RefundReversed) {
			return true
		}
	}
	return false
}

// uncovered are the ids of the charges dismissal d did not cover: new
// suspects, or a charge older than those the operator saw, which is kept now
// and makes them its suspects.
func (g *Group) uncovered(d *Decision) []string {
	var ids []string
	for i := range g.Charges {
		if m := &g.Charges[i]; !d.Covers(m) {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// KeptFor is the kept charge that suspect m duplicates: in a group about a
// duplicated order, the first charge of m's order; otherwise (and for a suspect
// without an order ref) the earliest charge. A refund names it as the original.
func (g *Group) KeptFor(m *Member) *Member {
	if m.OrderRef != "" {
		for i := range g.Charges {
			if k := &g.Charges[i]; k.Role == Keep && k.OrderRef == m.OrderRef {
				return k
			}
		}
	}
	return &g.Charges[0]
}

// GroupID is the stable id of the group whose kept (earliest) charge is chargeID.
func GroupID(chargeID string) string {
	for _, p := range []string{"ch_", "py_"} {
		if s, ok := strings.CutPrefix(chargeID, p); ok {
			return "grp_" + s
		}
	}
	return "grp_" + chargeID
}

// displayKey picks the key that created charge i: an application key before a
// library-generated one, then the one seen from the most sources. It also returns
// all distinct keys of the charge.
func (x *index) displayKey(i int) (key string, sources []string, all []string) {
	best := -1
	var bestSources []string
	for o, occ := range x.chargeKeys(i) {
		if x.seenEarlier(i, x.keyStart[i]+int32(o)) {
			continue
		}
		all = append(all, occ.key)
		var src []string
		for _, other := range x.chargeKeys(i) {
			if other.key != occ.key {
				continue
			}
			if other.rec < 0 {
				src = append(src, SourceMetadata)
			} else {
				src = append(src, x.in.Keys[other.rec].Sources...)
			}
		}
		slices.Sort(src)
		src = slices.Compact(src)
		better := best < 0 ||
			(!LibraryGeneratedKey(occ.key) && LibraryGeneratedKey(key)) ||
			(LibraryGeneratedKey(occ.key) == LibraryGeneratedKey(key) && len(src) > len(bestSources))
		if better {
			best, key, bestSources = o, occ.key, src
		}
	}
	return key, bestSources, all
}

// withoutConfirmationKeys drops from keys, the distinct keys of charge i, those
// only its own events carry when it is on a PaymentIntent whose create request
// is not known: that event's request confirmed the PaymentIntent (Stripe.js in
// the browser, or the server), so its key says nothing about how the
// PaymentIntent was created. A key in the key log or metadata still counts.
func (x *index) withoutConfirmationKeys(i int, keys []string) []string {
	c := &x.in.Charges[i]
	if c.PaymentIntent == "" || x.requests[c.PaymentIntent] != nil {
		return keys
	}
	return slices.DeleteFunc(keys, func(k string) bool {
		for _, occ := range x.chargeKeys(i) {
			if occ.key == k && (occ.rec < 0 || !slices.Equal(x.in.Keys[occ.rec].Sources, []string{SourceEvent})) {
				return false
			}
		}
		return true
	})
}

// effectiveRefunded is the larger of what Stripe last said and what our ledger
// refunded, so a refund recorded before the next sync already counts.
func effectiveRefunded(c *Charge, led *ledger) int64 {
	r := c.AmountRefunded
	if cr := led.refunds[c.ID]; cr != nil && cr.refunded > r {
		r = cr.refunded
	}
	if c.Refunded && r < c.Amount {
		r = c.Amount
	}
	return r
}

func (g *Group) inFlight() bool {
	for i := range g.Charges {
		if len(g.Charges[i].InFlight) > 0 {
			return true
		}
	}
	return false
}

// awaitingConfirmation is whether a suspect of g counts as refunded only by a
// refund its provider received and has not confirmed: neither the ledger nor
// the provider's own figure for the charge says the money went back yet.
func (g *Group) awaitingConfirmation(led *ledger) bool {
	for i := range g.Charges {
		if m := &g.Charges[i]; m.Role == Duplicate && awaitingConfirmation(&m.Charge, led) {
			return true
		}
	}
	return false
}

// awaitingConfirmation is whether charge c has a received refund its provider
// has not confirmed, and the provider's own figure does not cover it.
func awaitingConfirmation(c *Charge, led *ledger) bool {
	cr := led.refunds[c.ID]
	return cr != nil && cr.received > 0 && !c.Refunded && c.AmountRefunded < c.Amount
}

func (g *Group) allSuspectsRefunded(led *ledger) bool {
	for _, m := range g.Charges {
		if m.Role == Duplicate && effectiveRefunded(&m.Charge, led) < m.Amount {
			return false
		}
	}
	return true
}

// applyLedger fills a member's refundability, its latest decision (an
// operator's or the refund ledger's state, whichever is later) and the id of its
// latest succeeded refund.
func (x *index) applyLedger(m *Member, groupWide Decision, led *ledger) {
	cr := led.refunds[m.ID]
	if m.Role == Duplicate {
		left := m.Amount - effectiveRefunded(&m.Charge, led)
		switch {
		case left <= 0 && awaitingConfirmation(&m.Charge, led):
			m.NotRefundable = RefundReceived.Describe(m.Provider)
		case left <= 0:
			m.NotRefundable = notRefundableDone
		case m.Disputed:
			m.NotRefundable = NotRefundableDisputed(m.Provider)
		case cr != nil && len(cr.inFlight) > 0:
			m.NotRefundable = notRefundablePending
		default:
			m.Refundable = left
		}
	}
	if cr != nil && m.Role == Duplicate {
		m.InFlight, m.EndedKeys = cr.inFlight, cr.endedKeys
	}
	var at time.Time
	for _, d := range []Decision{led.byCharge[m.ID], groupWide} {
		if d.Kind == DecisionDismissed && !d.Covers(m) {
			continue // a charge the operator never saw was not judged legitimate
		}
		if d.Kind != "" && (m.Decision == "" || !d.At.Before(at)) {
			m.Decision, m.Operator, m.DecidedAt, m.Note, at = string(d.Kind), d.Operator, d.At, d.Note, d.At
		}
	}
	if cr == nil || !cr.hasLatest {
		return
	}
	if st, stAt := cr.state(); m.Decision == "" || !stAt.Before(at) {
		m.Decision, m.Operator, m.DecidedAt, m.Note = string(st.Status), st.Operator, stAt, ""
	}
	// The refund id names the latest refund that happened, whatever came after it
	// (a pending retry, a dismissal): the report is the audit trail of money out.
	if cr.hasSucceeded {
		m.RefundID = cr.succeeded.RefundID
	}
}

// identityLabel says what ties the charges: a customer id or an email shared by
// all, else a card, else the first charge's customer, email or card.
func identityLabel(ms []Member) string {
	if s := sharedValue(ms, memberCustomer); s != "" {
		return s
	}
	if s := sharedValue(ms, memberEmail); s != "" {
		return s
	}
	if sharedValue(ms, memberCard) != "" {
		return cardLabel(&ms[0].Charge)
	}
	if s := sharedValue(ms, func(m *Member) string { return m.OrderRef }); s != "" {
		return "order " + s
	}
	if s := sharedValue(ms, func(m *Member) string { return m.IdempotencyKey }); s != "" {
		return "key " + s
	}
	k := &ms[0]
	switch {
	case k.Customer != "":
		return k.Customer
	case k.Email != "":
		return NormalizeEmail(k.Email)
	case k.CardFingerprint != "":
		return cardLabel(&k.Charge)
	case k.OrderRef != "":
		return "order " + k.OrderRef
	}
	return "key " + k.IdempotencyKey
}

// cardLabel is "visa …4242", or "card …4242" without a brand.
func cardLabel(c *Charge) string {
	brand := strings.ToLower(c.CardBrand)
	if brand == "" {
		brand = "card"
	}
	if c.CardLast4 == "" {
		return brand + " " + c.CardFingerprint
	}
	return brand + " …" + c.CardLast4
}

func (x *index) countChargesWithoutKey() int {
	n := 0
	for i := range x.in.Charges {
		if x.eligible[i] && x.keyStart[i] == x.keyStart[i+1] {
			n++
		}
	}
	return n
}

// findings lists the reconciliation rows that are not duplicate groups: keys
// without a charge, orders with several succeeded charges and, when asked,
// charges without any key.
func (x *index) findings() []Finding {
	ch := x.in.Charges
	var out []Finding
	provider := "the provider"
	if len(x.keyless) > 0 {
		provider = x.providerName()
	}
	for _, r := range x.keyless {
		k := &x.in.Keys[r]
		f := Finding{Kind: KindKeyWithoutCharge, ChargeID: k.ChargeID, Key: k.Key, OrderRef: k.OrderRef, Created: k.SeenAt}
		if k.ChargeID == "" {
			f.Detail = fmt.Sprintf("idempotency key %s produced no charge: the request failed or never reached %s", k.Key, provider)
		} else {
			f.Detail = fmt.Sprintf("idempotency key %s names charge %s, which is not among the store's charges", k.Key, k.ChargeID)
		}
		out = append(out, f)
	}
	for _, charges := range x.multiOrders {
		out = append(out, x.orderFinding(charges))
	}
	if x.opts.ListChargesWithoutKey {
		for i := range ch {
			if x.eligible[i] && x.keyStart[i] == x.keyStart[i+1] {
				c := &ch[i]
				detail := "no idempotency key on record, and whether it had one is not known: no event (Stripe keeps 30 days) and no key-log entry recorded its request"
				if p := c.Provider; p.Resolved() != ProviderStripe {
					detail = fmt.Sprintf("no %s on record, and whether it had one is not known: %s's records do not carry it and no key-log entry recorded its request", p.KeyHeader(), p.Title())
				}
				switch e, _ := x.keyEvidence(c, nil); e {
				case EvidenceNoAppKey:
					detail = "its event recorded the request without an idempotency key: created outside the application (e.g. in the Dashboard) or by code that sends none"
				case EvidenceCheckout:
					detail = "made by Stripe Checkout (session " + x.checkoutOf(c).Session + "): Stripe created its PaymentIntent, so no request or key of the application's exists"
				}
				out = append(out, Finding{
					Kind: KindChargeWithoutKey, ChargeID: c.ID, OrderRef: x.order[i], Provider: c.Provider.Resolved(),
					Amount: c.Amount, Currency: c.Currency, Created: c.Created, Detail: detail,
				})
			}
		}
	}
	kindRank := map[string]int{KindKeyWithoutCharge: 0, KindOrderMultiCharge: 1, KindChargeWithoutKey: 2}
	slices.SortStableFunc(out, func(a, b Finding) int {
		if c := cmp.Compare(kindRank[a.Kind], kindRank[b.Kind]); c != 0 {
			return c
		}
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(a.ChargeID, b.ChargeID), strings.Compare(a.Key, b.Key))
	})
	return out
}

// collectOrders notes, from a run of charges whose order refs hash alike (in
// created order), each order ref carried by more than one of them.
func (x *index) collectOrders(run []evidence) {
	idx := make([]int32, len(run))
	for k, e := range run {
		idx[k] = e.i
	}
	// Split exactly by order ref (a hash collision), keeping created order.
	slices.SortStableFunc(idx, func(a, b int32) int { return strings.Compare(x.order[a], x.order[b]) })
	for lo := 0; lo < len(idx); {
		hi := lo + 1
		for hi < len(idx) && x.order[idx[hi]] == x.order[idx[lo]] {
			hi++
		}
		if hi-lo > 1 {
			x.multiOrders = append(x.multiOrders, idx[lo:hi])
		}
		lo = hi
	}
}

func (x *index) orderFinding(charges []int32) Finding {
	ch := x.in.Charges
	first := &ch[charges[0]]
	f := Finding{Kind: KindOrderMultiCharge, ChargeID: first.ID, OrderRef: x.order[charges[0]], Currency: first.Currency, Created: first.Created,
		Provider: first.Provider.Resolved()}
	var total int64
	for _, i := range charges {
		c := &ch[i]
		f.ChargeIDs = append(f.ChargeIDs, c.ID)
		total += c.Amount
		if c.Currency != f.Currency {
			f.Currency = ""
		}
	}
	if f.Currency != "" {
		f.Amount = total
		f.Detail = fmt.Sprintf("%s %s has %d succeeded charges totalling %s: %s",
			x.opts.OrderField, f.OrderRef, len(charges), FormatMoney(total, f.Currency), strings.Join(f.ChargeIDs, ", "))
	} else {
		f.Detail = fmt.Sprintf("%s %s has %d succeeded charges in different currencies: %s",
			x.opts.OrderField, f.OrderRef, len(charges), strings.Join(f.ChargeIDs, ", "))
	}
	return f
}

// summarize totals the reported groups per currency and cause.
func summarize(in Input, groups []Group, led *ledger, withoutKey int) Summary {
	u := &in.Unloaded
	s := Summary{Charges: len(in.Charges) + u.Charges, Groups: len(groups), Causes: map[Cause]int{},
		ChargesWithoutKey: withoutKey + u.WithoutKey}
	if u.Charges > 0 {
		s.FirstCharge, s.LastCharge = u.First, u.Last
	}
	for i := range in.Charges {
		if c := in.Charges[i].Created; s.FirstCharge.IsZero() || c.Before(s.FirstCharge) {
			s.FirstCharge = c
		}
		if c := in.Charges[i].Created; c.After(s.LastCharge) {
			s.LastCharge = c
		}
	}
	s.Providers = providerCharges(in.Charges, u.Providers)
	totals := map[string]*CurrencyTotals{}
	cur := func(c string) *CurrencyTotals {
		t := totals[c]
		if t == nil {
			t = &CurrencyTotals{Currency: c}
			totals[c] = t
		}
		return t
	}
	for gi := range groups {
		g := &groups[gi]
		t := cur(g.Currency)
		s.Causes[g.Cause]++
		if g.Reversed() {
			s.Reversed++
		}
		switch g.Status {
		case Open, Pending:
			if g.Status == Open {
				s.Open++
			} else {
				s.Pending++
			}
			t.OpenGroups++
			t.AtRisk += g.AtRisk()
		case Resolved:
			s.Resolved++
			t.ResolvedGroups++
		case Received:
			s.Received++
			t.ReceivedGroups++
		case Dismissed:
			s.Dismissed++
			t.DismissedGroups++
			for _, m := range g.Charges {
				if m.Role == Duplicate {
					t.Dismissed += m.Amount
				}
			}
		}
	}
	for _, ri := range in.Refunds {
		switch {
		case ri.Rehearsal():
		case ri.Status == RefundSucceeded:
			cur(ri.Currency).RefundedByUs += ri.Amount
		case ri.Status == RefundReceived:
			cur(ri.Currency).AwaitingConfirmation += ri.Amount
		}
	}
	for _, t := range totals {
		s.ByCurrency = append(s.ByCurrency, *t)
	}
	slices.SortFunc(s.ByCurrency, func(a, b CurrencyTotals) int { return strings.Compare(a.Currency, b.Currency) })
	return s
}

// providerCharges counts the charges of each provider by mode, those loaded
// and those tallied, in Providers order (stores refuse a provider doublecheck
// does not know).
func providerCharges(charges []Charge, unloaded []ProviderCharges) []ProviderCharges {
	counts := map[Provider]*ProviderCharges{}
	for i := range charges {
		countMode(counts, charges[i].Provider.Resolved(), charges[i].Livemode)
	}
	for _, u := range unloaded {
		pc := providerEntry(counts, u.Provider)
		pc.Live += u.Live
		pc.Test += u.Test
	}
	return inProviderOrder(counts)
}

func providerEntry(counts map[Provider]*ProviderCharges, p Provider) *ProviderCharges {
	pc := counts[p]
	if pc == nil {
		pc = &ProviderCharges{Provider: p}
		counts[p] = pc
	}
	return pc
}

// countMode counts one charge of provider p in counts.
func countMode(counts map[Provider]*ProviderCharges, p Provider, live bool) {
	pc := providerEntry(counts, p)
	if live {
		pc.Live++
	} else {
		pc.Test++
	}
}

func inProviderOrder(counts map[Provider]*ProviderCharges) []ProviderCharges {
	var out []ProviderCharges
	for _, p := range Providers {
		if pc := counts[p]; pc != nil {
			out = append(out, *pc)
		}
	}
	return out
}
