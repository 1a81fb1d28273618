package reconcile

import (
	"cmp"
	"hash/maphash"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Detect finds the groups of charges that look like one payment taken more than
// once, explains each, and adds the reconciliation findings and the summary.
func Detect(in Input, opts Options) Report {
	x := newIndex(in, opts)
	uf := newUnionFind(len(in.Charges))
	x.link(uf)
	led := newLedger(in)
	x.loggedKeys = x.keysWithoutCharge()

	var groups []Group
	slot := map[int32]int{} // union-find root → position in members
	var members [][]int32
	for i := range in.Charges {
		if !x.eligible[i] {
			continue
		}
		r := uf.find(int32(i))
		if uf[r] >= -1 {
			continue // a component of one charge
		}
		s, ok := slot[r]
		if !ok {
			s = len(members)
			slot[r] = s
			members = append(members, nil)
		}
		members[s] = append(members[s], int32(i))
	}
	for _, m := range members {
		g := x.group(m, led)
		if opts.MinConfidence == "" || g.Confidence.Rank() >= opts.MinConfidence.Rank() {
			groups = append(groups, g)
		}
	}
	sortGroups(groups)
	return Report{
		Groups:   groups,
		Findings: x.findings(),
		Summary:  summarize(in, groups, led, x.countChargesWithoutKey()),
	}
}

// DefaultOptions are the detection settings used when the command line says nothing.
func DefaultOptions() Options {
	return Options{
		Window:     10 * time.Minute,
		OrderField: "order_id",
		KeyFields:  []string{"idempotency_key"},
	}
}

// keyOcc is one idempotency key seen on a charge: from a key record (rec >= 0, an
// index into Input.Keys) or from a metadata field (rec < 0).
type keyOcc struct {
	key string
	rec int32
}

// index is what detection precomputes about every charge, in slices indexed like
// Input.Charges so the hot path touches no maps and allocates nothing per charge.
type index struct {
	in        Input
	opts      Options
	eligible  []bool
	created   []int64  // unix nanoseconds
	classSeed []uint64 // hash of the charge's provider, currency and amount
	// idHash is the hash of each charge's id, for joining key records (nil
	// when there are none).
	idHash []uint64
	// identity holds, for eligible charges, the hash of the customer, the card
	// fingerprint and the normalised email; bit k of hasIdentity says whether
	// the charge has identity k at all.
	identity    [identityKinds][]uint64
	hasIdentity []uint8
	// metaKeys are the keys in the charges' metadata key fields (rec holds the
	// charge index), in charge order.
	metaKeys []keyOcc
	// order is the metadata order ref; attachKeys completes it.
	order     []string
	orderHash []uint64 // hash of order, for eligible charges
	keyStart  []int32  // keys of charge i are keys[keyStart[i]:keyStart[i+1]]
	keys      []keyOcc
	keyless   []int32 // key records whose charge is unknown (findings)
	// loggedKeys maps an order ref to the application keys logged for it with no
	// charge we know (filled after attachKeys): a retry whose first attempt
	// charged but timed out for the client leaves only its key and order.
	loggedKeys map[string][]string
	// multiOrders are the charges (oldest first) of each order ref that more
	// than one eligible charge carries; link collects them.
	multiOrders [][]int32
	sorter      evidenceSorter
	// requests are Input.Requests by object id, checkouts Input.Checkouts by
	// PaymentIntent; nil when there are none.
	requests  map[string]*RequestRecord
	checkouts map[string]*CheckoutRecord
}

// newIndex reads off the charges, in one pass (two goroutines from parallelMin
// charges on), every value detection compares, hashed into columns: the linking
// that follows sorts and sweeps those columns and reads a Charge again only to
// check a run of equal hashes. attachKeys does the rest, in parallel with the
// linking by identity.
func newIndex(in Input, opts Options) *index {
	n := len(in.Charges)
	x := &index{
		in:          in,
		opts:        opts,
		eligible:    make([]bool, n),
		created:     make([]int64, n),
		classSeed:   make([]uint64, n),
		hasIdentity: make([]uint8, n),
		order:       make([]string, n),
		orderHash:   make([]uint64, n),
		keyStart:    make([]int32, n+1),
	}
	for k := range x.identity {
		x.identity[k] = make([]uint64, n)
	}
	if len(in.Keys) > 0 || len(in.Requests) > 0 { // attachIntents adds key records from requests
		x.idHash = make([]uint64, n)
	}
	if n >= parallelMin && runtime.GOMAXPROCS(0) > 1 {
		var wg sync.WaitGroup
		var second []keyOcc
		wg.Go(func() { second = x.readCharges(n/2, n) })
		first := x.readCharges(0, n/2)
		wg.Wait()
		x.metaKeys = append(first, second...)
	} else {
		x.metaKeys = x.readCharges(0, n)
	}
	x.attachIntents()
	return x
}

// identityKinds are the identities charges are linked by within the window:
// customer, card fingerprint, email.
const identityKinds = 3

// readCharges fills the columns of charges [from, to) and returns the keys
// their metadata holds.
func (x *index) readCharges(from, to int) (metaKeys []keyOcc) {
	var lastCurrency string
	var lastProvider Provider
	var currencyHash, providerHash uint64
	for i := from; i < to; i++ {
		c := &x.in.Charges[i]
		x.eligible[i] = c.Counts()
		x.created[i] = unixNano(c.Created)
		if i == from || c.Currency != lastCurrency {
			lastCurrency, currencyHash = c.Currency, hashString(c.Currency)
		}
		if i == from || c.Provider != lastProvider {
			// Stripe's hash is 0, so a Stripe charge's class is what it was
			// before charges had providers.
			lastProvider, providerHash = c.Provider, 0
			if p := c.Provider.Resolved(); p != ProviderStripe {
				providerHash = hashString(string(p))
			}
		}
		x.classSeed[i] = (currencyHash*0x9E3779B97F4A7C15 ^ uint64(c.Amount)*0xC2B2AE3D27D4EB4F) ^ providerHash*0xD6E8FEB86659FD93
		if x.idHash != nil {
			x.idHash[i] = hashString(c.ID)
		}
		if c.Metadata != nil || c.MetadataJSON != "" {
			for _, f := range x.opts.KeyFields {
				if k := c.MetadataField(f); k != "" {
					metaKeys = append(metaKeys, keyOcc{key: k, rec: int32(i)})
				}
			}
			x.order[i] = c.MetadataField(x.opts.OrderField)
		}
		if !x.eligible[i] {
			continue
		}
		for k, value := range identities {
			if v := value(c); v != "" {
				x.identity[k][i] = hashString(v)
				x.hasIdentity[i] |= 1 << k
			}
		}
	}
	return metaKeys
}

// identities are how charges' identities are compared, in the order of
// index.identity.
var identities = [identityKinds]func(c *Charge) string{
	func(c *Charge) string { return c.Customer },
	func(c *Charge) string { return c.CardFingerprint },
	func(c *Charge) string { return NormalizeEmail(c.Email) },
}

// attachIntents indexes what events said about creating requests and
// Checkout Sessions, and gives every charge of a PaymentIntent created with a
// key that key, as a record from SourcePaymentIntent: the server's create call
// is the request whose key says whether it retried correctly.
func (x *index) attachIntents() {
	if len(x.in.Requests) > 0 {
		x.requests = make(map[string]*RequestRecord, len(x.in.Requests))
		for i := range x.in.Requests {
			x.requests[x.in.Requests[i].Object] = &x.in.Requests[i]
		}
	}
	if len(x.in.Checkouts) > 0 {
		x.checkouts = make(map[string]*CheckoutRecord, len(x.in.Checkouts))
		for i := range x.in.Checkouts {
			// Of several sessions of one PaymentIntent, the one whose id
			// sorts last, whatever order a store lists them in.
			co := &x.in.Checkouts[i]
			if prev := x.checkouts[co.PaymentIntent]; co.PaymentIntent != "" && (prev == nil || co.Session >= prev.Session) {
				x.checkouts[co.PaymentIntent] = co
			}
		}
	}
	if x.requests == nil {
		return
	}
	var extra []KeyRecord
	intentKey := map[string]string{} // charge → its PaymentIntent's create key, for charges whose PaymentIntent was seen
	for i := range x.in.Charges {
		c := &x.in.Charges[i]
		r := x.requests[c.PaymentIntent]
		if c.PaymentIntent == "" || r == nil {
			continue
		}
		intentKey[c.ID] = r.Key
		if r.Key != "" {
			extra = append(extra, KeyRecord{Key: r.Key, ChargeID: c.ID, Sources: []string{SourcePaymentIntent}, SeenAt: r.SeenAt})
		}
	}
	if len(intentKey) == 0 {
		return
	}
	// A charge event's other key is the confirmation's (whether Stripe.js in
	// the browser sends one of its own is not verified; a server confirm may):
	// the PaymentIntent's create request decides. Without that request, see
	// withoutConfirmationKeys.
	keys := make([]KeyRecord, 0, len(x.in.Keys)+len(extra))
	for _, k := range x.in.Keys {
		if pk, seen := intentKey[k.ChargeID]; seen && k.ChargeID != "" && k.confirmationOnly(pk) {
			continue
		}
		keys = append(keys, k)
	}
	x.in.Keys = append(keys, extra...)
}

// confirmationOnly reports whether k, a key record of a charge whose
// PaymentIntent was created with createKey, is only its charge event's other
// key (the confirmation's), which the create request overrides.
func (k *KeyRecord) confirmationOnly(createKey string) bool {
	return k.Key != createKey && k.eventOnly()
}

// eventOnly reports whether k's only source is an event.
func (k *KeyRecord) eventOnly() bool { return slices.Equal(k.Sources, []string{SourceEvent}) }

// keyEvidence is what is known about the request that created charge c, given
// keys, all its distinct keys; fromIntent says the evidence is its
// PaymentIntent's create request. A charge's own event counts only without a
// PaymentIntent: with one, that event may be the browser's confirmation.
func (x *index) keyEvidence(c *Charge, keys []string) (e KeyEvidence, fromIntent bool) {
	if x.checkoutOf(c) != nil {
		return EvidenceCheckout, false
	}
	piSeen := c.PaymentIntent != "" && x.requests[c.PaymentIntent] != nil
	for _, k := range keys {
		if !c.Provider.libraryKey(k) {
			return EvidenceAppKey, false
		}
	}
	switch {
	case len(keys) > 0:
		return EvidenceNoAppKey, piSeen
	case piSeen:
		return EvidenceNoAppKey, true
	case c.PaymentIntent == "" && x.requests[c.ID] != nil:
		return EvidenceNoAppKey, false
	}
	return EvidenceUnknown, false
}

// checkoutOf is the completed Checkout Session of charge c, if known.
func (x *index) checkoutOf(c *Charge) *CheckoutRecord {
	if c.PaymentIntent == "" {
		return nil
	}
	return x.checkouts[c.PaymentIntent]
}

// attachKeys gives every charge its keys, with a counting sort so that each
// charge's keys sit together (records in the order of their keys, then
// metadata keys), and
// its order ref (metadata, else a key record's).
func (x *index) attachKeys() {
	in, n := x.in, len(x.in.Charges)
	for _, m := range x.metaKeys {
		x.keyStart[m.rec+1]++
	}
	if x.checkouts != nil {
		for i := range in.Charges {
			if co := x.checkoutOf(&in.Charges[i]); co != nil && x.order[i] == "" {
				x.order[i] = co.orderRef(x.opts.OrderField)
			}
		}
	}
	recCharge := x.joinKeys()
	for r, ci := range recCharge {
		if ci < 0 {
			x.keyless = append(x.keyless, int32(r))
		} else {
			x.keyStart[ci+1]++
		}
	}
	for i := 1; i <= n; i++ {
		x.keyStart[i] += x.keyStart[i-1]
	}
	x.keys = make([]keyOcc, x.keyStart[n])
	fill := slices.Clone(x.keyStart[:n])
	for r, ci := range recCharge {
		if ci >= 0 {
			x.keys[fill[ci]] = keyOcc{key: in.Keys[r].Key, rec: int32(r)}
			fill[ci]++
		}
	}
	// A charge's records in the order of their keys, whatever order a store
	// read them in: the first with an order ref gives the charge's, and
	// displayKey breaks ties by position.
	for i := range n {
		if recs := x.keys[x.keyStart[i]:fill[i]]; len(recs) > 1 {
			slices.SortStableFunc(recs, func(a, b keyOcc) int { return strings.Compare(a.key, b.key) })
		}
	}
	for _, m := range x.metaKeys {
		x.keys[fill[m.rec]] = keyOcc{key: m.key, rec: -1}
		fill[m.rec]++
	}
	for i := range x.order {
		if x.order[i] == "" {
			for _, k := range x.chargeKeys(i) {
				if k.rec >= 0 && in.Keys[k.rec].OrderRef != "" {
					x.order[i] = in.Keys[k.rec].OrderRef
					break
				}
			}
		}
		if x.order[i] != "" && x.eligible[i] {
			x.orderHash[i] = hashString(x.order[i])
		}
	}
}

// joinKeys finds the charge of every key record (-1 for none) by sorting hashes of
// charge ids and of record charge ids together, instead of building a map of
// every charge id. When two charges have the same id, the last one wins.
func (x *index) joinKeys() []int32 {
	ch, keys := x.in.Charges, x.in.Keys
	recCharge := make([]int32, len(keys))
	for r := range recCharge {
		recCharge[r] = -1
	}
	if len(keys) == 0 {
		return recCharge
	}
	join := x.sorter.buffer(len(ch) + len(keys))
	for i := range ch {
		join = append(join, evidence{h: x.idHash[i], i: int32(i), occ: -1})
	}
	for r := range keys {
		if keys[r].ChargeID != "" {
			join = append(join, evidence{h: hashString(keys[r].ChargeID), i: -1, occ: int32(r)})
		}
	}
	// A run is usually one charge and its records: note the charge now and check
	// the ids afterwards in record order, which touches memory far less randomly.
	forEachRun(x.sorter.sort(join, byOcc), func(run []evidence) {
		charges := 0
		for _, c := range run {
			if c.occ < 0 {
				charges++
			}
		}
		for _, rec := range run {
			if rec.occ < 0 {
				continue
			}
			for _, c := range run {
				if c.occ < 0 && (charges == 1 || ch[c.i].ID == keys[rec.occ].ChargeID) {
					recCharge[rec.occ] = c.i
				}
			}
		}
	})
	for r, ci := range recCharge {
		if ci >= 0 && ch[ci].ID != keys[r].ChargeID {
			recCharge[r] = -1 // a hash collision
		}
	}
	return recCharge
}

// The range unixNano clamps to.
var (
	minTime = time.Unix(0, math.MinInt64/2)
	maxTime = time.Unix(0, math.MaxInt64/2)
)

// unixNano is t in nanoseconds, clamped to a range in which differences of two
// times never overflow (years 1824 to 2116).
func unixNano(t time.Time) int64 {
	if t.Before(minTime) {
		return minTime.UnixNano()
	}
	if t.After(maxTime) {
		return maxTime.UnixNano()
	}
	return t.UnixNano()
}

// chargeKeys are the keys seen on charge i, records first, in input order.
func (x *index) chargeKeys(i int) []keyOcc { return x.keys[x.keyStart[i]:x.keyStart[i+1]] }

// NormalizeEmail is how emails are compared: trimmed, lower case.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// unionFind is a disjoint-set forest over charge indices: parent[i] < 0 marks a
// root whose set has -parent[i] members.
type unionFind []int32

func newUnionFind(n int) unionFind {
	u := make(unionFind, n)
	for i := range u {
		u[i] = -1
	}
	return u
}

func (u unionFind) find(i int32) int32 {
	for u[i] >= 0 {
		if p := u[i]; u[p] >= 0 {
			u[i] = u[p] // path halving
		}
		i = u[i]
	}
	return i
}

func (u unionFind) union(a, b int32) {
	a, b = u.find(a), u.find(b)
	if a == b {
		return
	}
	if u[a] > u[b] { // a is smaller: hang it under b
		a, b = b, a
	}
	u[a] += u[b]
	u[b] = a
}

// evidence is one charge's value for one kind of evidence (a customer, a card, an
// email, a key or an order ref), hashed together with its currency and amount so a
// sort brings the charges that could match next to each other.
type evidence struct {
	h   uint64
	i   int32 // charge index
	occ int32 // index into index.keys for key evidence
}

// evidenceKind reads the compared value of one kind of evidence.
type evidenceKind struct {
	value    func(e evidence) string
	windowed bool // identities match only within the window; keys and orders always
	perKey   bool // one piece of evidence per distinct key of the charge
	// valueHash: the value's hash per charge, for the charges whose hasIdentity
	// has the bit has (identities, read by newIndex).
	valueHash []uint64
	has       uint8
	// byValue: the value's hash per charge, when already computed. Such evidence
	// is sorted by value alone (runs mix currencies and amounts and are split
	// exactly), so onRun sees every charge with one value together.
	byValue []uint64
	onRun   func(run []evidence)
}

var hashSeed = maphash.MakeSeed()

// hashString is a variable so that a test can make every hash collide and check
// that collisions are split exactly.
var hashString = func(s string) uint64 { return maphash.String(hashSeed, s) }

func (x *index) classHash(i int, value string) uint64 {
	return hashString(value) ^ x.classSeed[i]
}

// link adds to uf every edge of DESIGN's detection rules. Each kind of evidence
// is sorted into runs of charges with the same (currency, amount, value) and swept
// in created order; see sweep. From parallelMin charges on, two goroutines share
// the work, each with its own sort buffers and edges: one attaches the keys and
// links by key; both then take the other kinds (customer, card, email, and
// last the order ref, which needs the keys attached) from one queue, so that
// neither idles while the other has kinds left (a store without key records
// leaves the first with almost nothing to do). Sweeps only record edges; the
// unions happen afterwards in this goroutine, and the components do not depend
// on their order.
func (x *index) link(uf unionFind) {
	ch := x.in.Charges
	var kinds []evidenceKind
	for k, value := range identities {
		kinds = append(kinds, evidenceKind{
			value:    func(e evidence) string { return value(&ch[e.i]) },
			windowed: true, valueHash: x.identity[k], has: 1 << k,
		})
	}
	byOrder := evidenceKind{value: func(e evidence) string { return x.order[e.i] }, byValue: x.orderHash, onRun: x.collectOrders}
	kinds = append(kinds, byOrder)
	byKey := evidenceKind{value: func(e evidence) string { return x.keys[e.occ].key }, perKey: true}

	type edge struct{ a, b int32 }
	keysAttached := make(chan struct{})
	var taken atomic.Int32 // kinds[:taken] are being linked or done
	linkQueued := func(sorter *evidenceSorter, edges *[]edge) {
		join := func(a, b int32) { *edges = append(*edges, edge{a, b}) }
		for {
			k := int(taken.Add(1)) - 1
			if k >= len(kinds) {
				return
			}
			if kinds[k].byValue != nil { // the order ref: complete once the keys are attached
				<-keysAttached
			}
			x.linkKind(kinds[k], sorter, join)
		}
	}
	var keyEdges, otherEdges []edge
	keysFirst := func() {
		x.attachKeys()
		close(keysAttached)
		x.linkKind(byKey, &x.sorter, func(a, b int32) { keyEdges = append(keyEdges, edge{a, b}) })
		linkQueued(&x.sorter, &keyEdges)
	}
	if len(ch) >= parallelMin && runtime.GOMAXPROCS(0) > 1 {
		var wg sync.WaitGroup
		wg.Go(keysFirst)
		linkQueued(&evidenceSorter{}, &otherEdges)
		wg.Wait()
	} else {
		keysFirst()
	}
	for _, e := range keyEdges {
		uf.union(e.a, e.b)
	}
	for _, e := range otherEdges {
		uf.union(e.a, e.b)
	}
}

// parallelMin is the number of charges from which link uses two workers (a
// variable so that tests cover both paths on small inputs).
var parallelMin = 1 << 14

// linkKind reports through join the edges that one kind of evidence makes.
func (x *index) linkKind(kind evidenceKind, sorter *evidenceSorter, join func(a, b int32)) {
	ch := x.in.Charges
	buf := sorter.buffer(len(ch))
	for i := range ch {
		if !x.eligible[i] {
			continue
		}
		if kind.perKey {
			for o := x.keyStart[i]; o < x.keyStart[i+1]; o++ {
				if !x.seenEarlier(i, o) {
					e := evidence{i: int32(i), occ: o}
					e.h = x.classHash(i, x.keys[o].key)
					buf = append(buf, e)
				}
			}
			continue
		}
		e := evidence{i: int32(i)}
		switch {
		case kind.valueHash != nil:
			if x.hasIdentity[i]&kind.has != 0 {
				e.h = kind.valueHash[i] ^ x.classSeed[i]
				buf = append(buf, e)
			}
		case kind.value(e) == "":
		default: // byValue
			e.h = kind.byValue[i]
			buf = append(buf, e)
		}
	}
	window := int64(math.MaxInt64)
	if kind.windowed {
		window = max(int64(x.opts.Window), 0)
	}
	forEachRun(sorter.sort(buf, x.byCreated), func(run []evidence) {
		if kind.onRun != nil {
			kind.onRun(run)
		}
		x.sweepHashRun(run, kind, window, join)
	})
}

// evidenceSorter sorts evidence by hash, then a tie-break, in about linear time:
// two stable counting passes (a radix sort) on the top bits of the hash leave
// about one element per distinct prefix, and only the few prefixes shared by
// several elements are sorted. Its buffers are reused across kinds of evidence.
type evidenceSorter struct {
	a, b []evidence
}

// buffer is an empty slice with room for n elements, for the caller to fill.
func (s *evidenceSorter) buffer(n int) []evidence {
	if cap(s.a) < n {
		s.a = make([]evidence, 0, n)
	}
	return s.a[:0]
}

// sort returns buf's elements ordered by hash, then by tie; buf must come from
// buffer.
func (s *evidenceSorter) sort(buf []evidence, tie func(a, b evidence) int) []evidence {
	n := len(buf)
	if cap(s.b) < n {
		s.b = make([]evidence, 0, cap(buf))
	}
	tmp := s.b[:n]
	s.a = buf
	width := min(max(bits.Len(uint(n)), 2), 24)
	low := width / 2
	shift := uint(64 - width)
	radixPass(buf, tmp, shift, low)
	radixPass(tmp, buf, shift+uint(low), width-low)
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && buf[hi].h>>shift == buf[lo].h>>shift {
			hi++
		}
		switch {
		case hi-lo > smallBucket:
			slices.SortFunc(buf[lo:hi], func(a, b evidence) int {
				if a.h != b.h {
					return cmp.Compare(a.h, b.h)
				}
				return tie(a, b)
			})
		case hi-lo > 1:
			// Most prefixes hold a few elements of different hashes: an
			// insertion sort that asks tie only of equal hashes.
			b := buf[lo:hi]
			for i := 1; i < len(b); i++ {
				for j := i; j > 0 && (b[j].h < b[j-1].h || b[j].h == b[j-1].h && tie(b[j], b[j-1]) < 0); j-- {
					b[j], b[j-1] = b[j-1], b[j]
				}
			}
		}
		lo = hi
	}
	return buf
}

// smallBucket is the largest prefix bucket evidenceSorter.sort sorts by
// insertion.
const smallBucket = 12

// radixPass is one stable counting sort of src into dst by the width bits of the
// hash starting at bit shift.
func radixPass(src, dst []evidence, shift uint, width int) {
	var counts [1 << 12]int32
	mask := uint64(1)<<width - 1
	for _, e := range src {
		counts[e.h>>shift&mask]++
	}
	sum := int32(0)
	for d, c := range counts[:1<<width] {
		counts[d] = sum
		sum += c
	}
	for _, e := range src {
		d := e.h >> shift & mask
		dst[counts[d]] = e
		counts[d]++
	}
}

// byCreated orders evidence of one hash by the charges' created time, then index.
func (x *index) byCreated(a, b evidence) int {
	if ta, tb := x.created[a.i], x.created[b.i]; ta != tb {
		return cmp.Compare(ta, tb)
	}
	return cmp.Compare(a.i, b.i)
}

// forEachRun calls fn for every run of two or more pieces of sorted evidence with
// the same hash.
func forEachRun(buf []evidence, fn func(run []evidence)) {
	for lo := 0; lo < len(buf); {
		hi := lo + 1
		for hi < len(buf) && buf[hi].h == buf[lo].h {
			hi++
		}
		if hi-lo > 1 {
			fn(buf[lo:hi])
		}
		lo = hi
	}
}

// seenEarlier reports whether charge i's key at occ already appeared earlier on
// the same charge (a key from an event and the same key in metadata).
func (x *index) seenEarlier(i int, occ int32) bool {
	for o := x.keyStart[i]; o < occ; o++ {
		if x.keys[o].key == x.keys[occ].key {
			return true
		}
	}
	return false
}

// sweepHashRun sweeps a run of equal hashes. A hash collision (different
// provider, currency, amount or value) is split exactly, keeping the created order.
func (x *index) sweepHashRun(run []evidence, kind evidenceKind, window int64, join func(a, b int32)) {
	ch := x.in.Charges
	same := func(a, b evidence) bool {
		ca, cb := &ch[a.i], &ch[b.i]
		return ca.Amount == cb.Amount && ca.Currency == cb.Currency && ca.Provider.Resolved() == cb.Provider.Resolved() && kind.value(a) == kind.value(b)
	}
	collision := false
	for _, e := range run[1:] {
		if !same(run[0], e) {
			collision = true
			break
		}
	}
	if !collision {
		x.sweep(run, window, join)
		return
	}
	slices.SortStableFunc(run, func(a, b evidence) int {
		ca, cb := &ch[a.i], &ch[b.i]
		if c := strings.Compare(string(ca.Provider.Resolved()), string(cb.Provider.Resolved())); c != 0 {
			return c
		}
		if c := strings.Compare(ca.Currency, cb.Currency); c != 0 {
			return c
		}
		if ca.Amount != cb.Amount {
			if ca.Amount < cb.Amount {
				return -1
			}
			return 1
		}
		return strings.Compare(kind.value(a), kind.value(b))
	})
	for lo := 0; lo < len(run); {
		hi := lo + 1
		for hi < len(run) && same(run[lo], run[hi]) {
			hi++
		}
		x.sweep(run[lo:hi], window, join)
		lo = hi
	}
}

// sweep connects, through join, every pair of run (one currency, amount and
// value, sorted by created) that is within window and not on the same
// PaymentIntent, with amortised O(len(run)) joins.
//
// Any two charges inside the window before charge j are within the window of each
// other. So if that window holds two different PaymentIntents (an empty one is
// unique), all its members are already connected and j needs one union with a
// member on another intent. If it holds a single intent different from j's, j
// joins each member; those members never come back as a single-intent window
// (any later window holding them also holds j), so the total stays linear.
func (x *index) sweep(run []evidence, window int64, join func(a, b int32)) {
	ch := x.in.Charges
	t := func(k int) int64 { return x.created[run[k].i] }
	pi := func(k int) string { return ch[run[k].i].PaymentIntent }
	differ := func(a, b int) bool { pa, pb := pi(a), pi(b); return pa == "" || pb == "" || pa != pb }
	lo, runStart := 0, 0 // runStart: the start of the longest suffix of run[:j] on one non-empty intent
	for j := range run {
		for t(j)-t(lo) > window {
			lo++
		}
		switch {
		case lo == j:
		case lo >= runStart: // the window holds one intent
			if differ(j, j-1) {
				for k := lo; k < j; k++ {
					join(run[j].i, run[k].i)
				}
			}
		case differ(j, j-1):
			join(run[j].i, run[j-1].i)
		default:
			join(run[j].i, run[runStart-1].i)
		}
		if j == 0 || differ(j, j-1) {
			runStart = j
		}
	}
}
