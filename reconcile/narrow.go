package reconcile

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ChargeFacts are the few values of a charge that decide whether detection can
// put it in a group or a finding, as fixed-width numbers: a store keeps them
// beside each charge (computed with DefaultOptions' order and key fields), so
// that a large store is read in full only for the charges Narrow picks. Text
// values are 32-bit hashes, 0 for none: a collision can only make Narrow pick
// more charges, never fewer, and Detect then compares the values themselves.
type ChargeFacts struct {
	Created int64 // unix nanoseconds, as detection compares them
	// Class is the hash of the provider, currency and amount: only charges of
	// one class are grouped.
	Class                             uint32
	Customer, Card, Email, Order, Key uint32 // metadata order and key fields
	ID, Intent                        uint32 // the charge's id and PaymentIntent
	Flags                             FactFlags
}

// FactFlags are a charge's yes/no facts and its provider.
type FactFlags uint8

const (
	FactCounts   FactFlags = 1 << iota // money taken: Charge.Counts
	FactLivemode                       // a live-mode charge
	// factProviderShift: the provider's position in Providers, in the
	// remaining bits.
	factProviderShift = iota
)

// Valid reports whether the flags name a provider doublecheck knows.
func (f FactFlags) Valid() bool { return int(f>>factProviderShift) < len(Providers) }

// FactsOf computes the facts of c.
func FactsOf(c *Charge) ChargeFacts {
	p := c.Provider.Resolved()
	f := ChargeFacts{
		Created:  unixNano(c.Created),
		Class:    factHash(string(p) + "\x00" + c.Currency + "\x00" + strconv.FormatInt(c.Amount, 10)),
		Customer: factHash(c.Customer),
		Card:     factHash(c.CardFingerprint),
		Email:    factHash(NormalizeEmail(c.Email)),
		ID:       factHash(c.ID),
		Intent:   factHash(c.PaymentIntent),
		Flags:    FactFlags(max(slices.Index(Providers, p), 0)) << factProviderShift,
	}
	if c.Metadata != nil || c.MetadataJSON != "" {
		f.Order = factHash(c.MetadataField(factOrderField))
		f.Key = factHash(c.MetadataField(factKeyField))
	}
	if c.Counts() {
		f.Flags |= FactCounts
	}
	if c.Livemode {
		f.Flags |= FactLivemode
	}
	return f
}

// The metadata fields facts read: DefaultOptions'.
const (
	factOrderField = "order_id"
	factKeyField   = "idempotency_key"
)

// FactsServe reports whether facts, computed with the default order and key
// fields, can narrow a detection with opts; listing every charge without a
// key needs them all.
func FactsServe(opts Options) bool {
	return opts.OrderField == factOrderField && len(opts.KeyFields) == 1 && opts.KeyFields[0] == factKeyField &&
		!opts.ListChargesWithoutKey
}

// factHash is the stable hash of facts (stores keep it, so it must never
// change without recomputing them), 0 only for the empty string. A variable
// so that a test can make every hash collide.
var factHash = func(s string) uint32 {
	if s == "" {
		return 0
	}
	// FNV-1a, 32 bits (hash/fnv's New32a, without its allocations).
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return max(h, 1)
}

// ChargeTally sums up the charges a narrowed Input leaves out, for the
// summary: how many, their range, providers and modes, and how many of them
// were taken without any key.
type ChargeTally struct {
	Charges     int
	WithoutKey  int
	First, Last time.Time
	Providers   []ProviderCharges
}

// RecordFacts are what Narrow needs of a key record: the charge it names, as
// the index of that charge's facts (-1 when it names none of the store's
// charges), and hashes of its key and order ref (factHash: 0 only for empty).
type RecordFacts struct {
	Charge     int32
	Key, Order uint32
	// EventOnly: its only source is an event, which may be the browser's
	// confirmation rather than the charge's create request.
	EventOnly bool
}

// RecordFactsOf computes the facts of k, which names charge.
func RecordFactsOf(k *KeyRecord, charge int32) RecordFacts {
	return RecordFacts{Charge: charge, Key: factHash(k.Key), Order: factHash(k.OrderRef), EventOnly: k.eventOnly()}
}

// RequestFacts are what Narrow needs of a request record: hashes of its
// object and of its key (factHash: 0 only for none).
type RequestFacts struct{ Object, Key uint32 }

// RequestFactsOf computes the facts of r.
func RequestFactsOf(r *RequestRecord) RequestFacts {
	return RequestFacts{Object: factHash(r.Object), Key: factHash(r.Key)}
}

// CheckoutFacts are what Narrow needs of a Checkout Session: hashes of its
// PaymentIntent and of its order ref (DefaultOptions' order field).
type CheckoutFacts struct{ Intent, Order uint32 }

// CheckoutFactsOf computes the facts of c.
func CheckoutFactsOf(c *CheckoutRecord) CheckoutFacts {
	return CheckoutFacts{Intent: factHash(c.PaymentIntent), Order: factHash(c.orderRef(factOrderField))}
}

// StoreFacts are the facts of everything a store holds that detection reads.
type StoreFacts struct {
	Charges   []ChargeFacts
	Records   []RecordFacts
	Requests  []RequestFacts
	Checkouts []CheckoutFacts
}

// RecordJoin joins key records to the charges they name, both taken in
// ascending byte order of charge id, as a store reads them, in one pass over
// both.
type RecordJoin struct {
	n          int32
	chargeID   func(i int32) string // the id of charge i < n
	i          int32                // the first charge whose id is not below the last record's
	id         string               // its id
	lastRecord string
}

// NewRecordJoin joins records to n charges, chargeID(i) being charge i's id.
func NewRecordJoin(n int, chargeID func(i int32) string) *RecordJoin {
	j := &RecordJoin{n: int32(n), chargeID: chargeID}
	if n > 0 {
		j.id = chargeID(0)
	}
	return j
}

// Charge returns the index of the charge the next record names, given its
// charge id, or -1 when none of them has that id (or it names none). Input
// out of order is an error, never a wrong join.
func (j *RecordJoin) Charge(recordCharge string) (int32, error) {
	if recordCharge < j.lastRecord {
		return 0, fmt.Errorf("a key record names charge %q after %q: not in charge id order", recordCharge, j.lastRecord)
	}
	j.lastRecord = recordCharge
	for j.i < j.n && j.id < recordCharge {
		if j.i++; j.i < j.n {
			next := j.chargeID(j.i)
			if next <= j.id {
				return 0, fmt.Errorf("charge %q comes after %q: not in ascending id order", next, j.id)
			}
			j.id = next
		}
	}
	if recordCharge != "" && j.i < j.n && j.id == recordCharge {
		return j.i, nil
	}
	return -1, nil
}

// CreateRequest is what is known of the request that created a charge's
// PaymentIntent: whether events recorded it (Input.Requests), and whether it
// carried an idempotency key.
type CreateRequest struct{ Seen, Keyed bool }

// CreateRequests gives the create request of the PaymentIntent of each of
// charges (indices of their facts), in their order.
type CreateRequests func(charges []int32) ([]CreateRequest, error)

// Narrowed is what detection needs of a store, as Narrow finds it.
type Narrowed struct {
	// Pick are the charges Detect must read in full, ascending.
	Pick []int32
	// Records are the key records Detect needs, ascending: those of picked
	// charges, and those naming no charge of the store (findings).
	Records []int32
	// Unloaded tallies the charges not picked (Input.Unloaded).
	Unloaded ChargeTally
}

// Narrow finds, from the facts of everything a store holds that detection
// reads, the charges Detect must read in full: those that may share an
// identity within the window, a key or an order ref with another charge
// (from their metadata, their key records, their PaymentIntent's create
// request or Checkout Session). Detect over the picked charges and the
// returned key records, with the rest tallied in Input.Unloaded, reports
// exactly what it reports over all of them, for any input a store holds
// (unique charge ids, known providers, times in UTC between 1824 and 2116):
// every group and finding is made of charges that share a value, and hashes
// that collide only pick more. Detect needs only the requests whose object
// is a picked charge or its PaymentIntent, and the Checkout Sessions of the
// picked charges' PaymentIntents. createRequests answers, exactly, for the
// charges whose count as taken without a key the facts cannot settle.
func Narrow(of StoreFacts, opts Options, createRequests CreateRequests) (Narrowed, error) {
	facts, records, requests, checkouts := of.Charges, of.Records, of.Requests, of.Checkouts
	n := len(facts)
	picked := make([]bool, n)
	// Requests and Checkout Sessions join every charge whose PaymentIntent
	// hashes alike (facts do not hold the PaymentIntent itself), while the
	// other worker links by identity, which needs none of them.
	var recs, reqs, sessions links
	joined := make(chan struct{})
	join := func(sorter *evidenceSorter) {
		defer close(joined)
		var reqPairs, checkoutPairs []link
		recPairs := make([]link, 0, len(records))
		for r := range records {
			if c := records[r].Charge; c >= 0 {
				recPairs = append(recPairs, link{c, int32(r)})
			}
		}
		if len(requests)+len(checkouts) > 0 {
			buf := sorter.buffer(n + len(requests) + len(checkouts))
			for i := range facts {
				if facts[i].Intent != 0 {
					buf = append(buf, evidence{h: mix64(uint64(facts[i].Intent)), i: int32(i), occ: -1})
				}
			}
			// occ numbers requests, then Checkout Sessions after them.
			for r := range requests {
				buf = append(buf, evidence{h: mix64(uint64(requests[r].Object)), i: -1, occ: int32(r)})
			}
			for k := range checkouts {
				if pi := checkouts[k].Intent; pi != 0 {
					buf = append(buf, evidence{h: mix64(uint64(pi)), i: -1, occ: int32(len(requests) + k)})
				}
			}
			forEachRun(sorter.sort(buf, byOcc), func(run []evidence) {
				for _, rec := range run {
					for _, c := range run {
						switch {
						case rec.occ < 0 || c.occ >= 0:
						case int(rec.occ) < len(requests):
							reqPairs = append(reqPairs, link{c.i, rec.occ})
						default:
							checkoutPairs = append(checkoutPairs, link{c.i, rec.occ - int32(len(requests))})
						}
					}
				}
			})
		}
		recs, reqs, sessions = newLinks(n, recPairs), newLinks(n, reqPairs), newLinks(n, checkoutPairs)
	}

	window := max(int64(opts.Window), 0)
	type kind struct {
		fill     func(buf []evidence) []evidence
		windowed bool
	}
	// put adds value v of charge i, with its class unless unclassed.
	put := func(buf []evidence, i int, v uint32, unclassed bool) []evidence {
		if v == 0 {
			return buf
		}
		key := uint64(v)
		if !unclassed {
			key |= uint64(facts[i].Class) << 32
		}
		return append(buf, evidence{h: mix64(key), i: int32(i)})
	}
	identity := func(value func(f *ChargeFacts) uint32) func([]evidence) []evidence {
		return func(buf []evidence) []evidence {
			for i := range facts {
				if facts[i].Flags&FactCounts != 0 {
					buf = put(buf, i, value(&facts[i]), false)
				}
			}
			return buf
		}
	}
	// linked fills a kind with a value of each charge that counts: its own
	// (own), its key records' (ofRecord; events often repeat the
	// metadata's, which is then put once) and that of another kind of
	// record joined to it (more, read once the join is done, and ofMore).
	linked := func(own func(*ChargeFacts) uint32, ofRecord func(*RecordFacts) uint32, more *links, ofMore func(int32) uint32, unclassed bool) func([]evidence) []evidence {
		return func(buf []evidence) []evidence {
			<-joined
			for i := range facts {
				if facts[i].Flags&FactCounts == 0 {
					continue
				}
				v := own(&facts[i])
				buf = put(buf, i, v, unclassed)
				for _, r := range recs.of(i) {
					if w := ofRecord(&records[r]); w != v {
						buf = put(buf, i, w, unclassed)
					}
				}
				for _, m := range more.of(i) {
					buf = put(buf, i, ofMore(m), unclassed)
				}
			}
			return buf
		}
	}
	kinds := []kind{
		{identity(func(f *ChargeFacts) uint32 { return f.Customer }), true},
		{identity(func(f *ChargeFacts) uint32 { return f.Card }), true},
		{identity(func(f *ChargeFacts) uint32 { return f.Email }), true},
		// A record's key is a key even when empty, as Detect reads it.
		{linked(func(f *ChargeFacts) uint32 { return f.Key }, func(r *RecordFacts) uint32 { return max(r.Key, 1) },
			&reqs, func(q int32) uint32 { return requests[q].Key }, false), false},
		// Orders with several charges are findings whatever their amounts.
		{linked(func(f *ChargeFacts) uint32 { return f.Order }, func(r *RecordFacts) uint32 { return r.Order },
			&sessions, func(k int32) uint32 { return checkouts[k].Order }, true), false},
	}
	var sorter evidenceSorter
	var marks sync.Mutex
	var next atomic.Int32
	work := func(sorter *evidenceSorter) {
		var found []int32
		byCreated := func(a, b evidence) int { return cmpCreated(facts, a.i, b.i) }
		for {
			k := int(next.Add(1)) - 1
			if k >= len(kinds) {
				break
			}
			kind := kinds[k]
			forEachRun(sorter.sort(kind.fill(sorter.buffer(n)), byCreated), func(run []evidence) {
				if !kind.windowed {
					// A charge may carry a value twice (a key in metadata and
					// in a record): it takes two charges.
					if slices.ContainsFunc(run, func(e evidence) bool { return e.i != run[0].i }) {
						for _, e := range run {
							found = append(found, e.i)
						}
					}
					return
				}
				for j, e := range run {
					if j > 0 && facts[e.i].Created-facts[run[j-1].i].Created <= window ||
						j+1 < len(run) && facts[run[j+1].i].Created-facts[e.i].Created <= window {
						found = append(found, e.i)
					}
				}
			})
		}
		marks.Lock()
		for _, i := range found {
			picked[i] = true
		}
		marks.Unlock()
	}
	if n >= parallelMin && runtime.GOMAXPROCS(0) > 1 {
		var wg sync.WaitGroup
		wg.Go(func() { work(&evidenceSorter{}) })
		join(&sorter)
		work(&sorter)
		wg.Wait()
	} else {
		join(&sorter)
		work(&sorter)
	}

	// Whether each charge left out counts as taken without a key. For some
	// that turns on which request is its PaymentIntent's create request,
	// which its facts (a hash of the PaymentIntent) cannot tell:
	// createRequests says.
	keyless := make([]bool, n)
	var unsettled []int32
	for i := range facts {
		if f := &facts[i]; picked[i] || f.Flags&FactCounts == 0 || f.Key != 0 {
			continue
		}
		if hasKey, known := keyedWithoutMetadata(records, requests, recs.of(i), reqs.of(i)); known {
			keyless[i] = !hasKey
		} else {
			unsettled = append(unsettled, int32(i))
		}
	}
	if len(unsettled) > 0 {
		created, err := createRequests(unsettled)
		if err != nil {
			return Narrowed{}, fmt.Errorf("the create requests of %d charges' PaymentIntents: %w", len(unsettled), err)
		}
		if len(created) != len(unsettled) {
			return Narrowed{}, fmt.Errorf("%d create requests for %d charges' PaymentIntents", len(created), len(unsettled))
		}
		for k, i := range unsettled {
			keyless[i] = !keyedBy(records, recs.of(int(i)), created[k].Seen, created[k].Keyed)
		}
	}

	var out Narrowed
	counts := map[Provider]*ProviderCharges{}
	var first, last int64
	rest := &out.Unloaded
	for i := range facts {
		f := &facts[i]
		if keyless[i] {
			rest.WithoutKey++
		}
		if picked[i] {
			out.Pick = append(out.Pick, int32(i))
			continue
		}
		if rest.Charges == 0 || f.Created < first {
			first = f.Created
		}
		if rest.Charges == 0 || f.Created > last {
			last = f.Created
		}
		rest.Charges++
		countMode(counts, Providers[f.Flags>>factProviderShift], f.Flags&FactLivemode != 0)
	}
	if rest.Charges > 0 {
		rest.First, rest.Last = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
	}
	rest.Providers = inProviderOrder(counts)
	// A record is needed with its charge, or when it names none (named
	// records of charges left out are not).
	for r := range records {
		if c := records[r].Charge; c < 0 || picked[c] {
			out.Records = append(out.Records, int32(r))
		}
	}
	return out, nil
}

// keyedWithoutMetadata says whether a charge with no key in its metadata has
// any key after detection attaches its key records (recs) and its
// PaymentIntent's create request, and whether that is known: reqs are the
// requests whose object hashes like its PaymentIntent, and the answer is
// known when it is the same whichever of them (or none) is the charge's.
func keyedWithoutMetadata(records []RecordFacts, requests []RequestFacts, recs, reqs []int32) (hasKey, known bool) {
	hasKey = keyedBy(records, recs, false, false)
	for _, q := range reqs {
		if keyedBy(records, recs, true, requests[q].Key != 0) != hasKey {
			return false, false
		}
	}
	return hasKey, true
}

// keyedBy says whether a charge with no key in its metadata has any key
// after detection attaches its key records (recs) and its PaymentIntent's
// create request, when that was seen, with a key or without.
func keyedBy(records []RecordFacts, recs []int32, requestSeen, requestKeyed bool) bool {
	if !requestSeen {
		return len(recs) > 0
	}
	// With a create request without a key, a record counts unless it is
	// only the confirmation's (KeyRecord.confirmationOnly of "").
	return requestKeyed || slices.ContainsFunc(recs, func(r int32) bool { return records[r].Key == 0 || !records[r].EventOnly })
}

// link joins charge c to record r of some kind.
type link struct{ c, r int32 }

// links are the records of some kind joined to each charge: those of charge
// i are items[start[i]:start[i+1]].
type links struct{ start, items []int32 }

// newLinks groups pairs by charge, with a counting sort.
func newLinks(n int, pairs []link) links {
	if len(pairs) == 0 {
		return links{}
	}
	l := links{start: make([]int32, n+1), items: make([]int32, len(pairs))}
	for _, p := range pairs {
		l.start[p.c+1]++
	}
	for i := 1; i <= n; i++ {
		l.start[i] += l.start[i-1]
	}
	fill := slices.Clone(l.start[:n])
	for _, p := range pairs {
		l.items[fill[p.c]] = p.r
		fill[p.c]++
	}
	return l
}

func (l *links) of(i int) []int32 {
	if l.start == nil {
		return nil
	}
	return l.items[l.start[i]:l.start[i+1]]
}

// byOcc orders evidence of one hash by occ.
func byOcc(a, b evidence) int { return int(a.occ) - int(b.occ) }

// cmpCreated orders charges by created time, then index.
func cmpCreated(facts []ChargeFacts, a, b int32) int {
	return cmp.Or(cmp.Compare(facts[a].Created, facts[b].Created), cmp.Compare(a, b))
}

// mix64 is a bijection of 64-bit values (MurmurHash3's finaliser) that
// spreads keys made of small numbers over the top bits the radix sort reads.
func mix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}
