package reconcile

import (
	"hash/fnv"
	"io"
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
	h := fnv.New32a()
	io.WriteString(h, s)
	return max(h.Sum32(), 1)
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

// Narrow picks, from the facts of every charge of a store, the charges
// Detect must read in full: those that may share an identity within the
// window, a key or an order ref with another charge, and those that a key
// record, request or Checkout Session names (in gives them; its Charges are
// not read). Detect over the picked charges, with the rest tallied into
// Input.Unloaded, reports exactly what it reports over all of them: every
// group and finding is made of charges that share a value, and hashes that
// collide only pick more. pick is ascending.
func Narrow(facts []ChargeFacts, in Input, opts Options) (pick []int32, rest ChargeTally) {
	picked := make([]bool, len(facts))
	named, keys, orders := in.factSets(opts)
	for i := range facts {
		f := &facts[i]
		if named[f.ID] || f.Intent != 0 && named[f.Intent] ||
			f.Flags&FactCounts != 0 && (f.Key != 0 && keys[f.Key] || f.Order != 0 && orders[f.Order]) {
			picked[i] = true
		}
	}
	window := max(int64(opts.Window), 0)
	kinds := []struct {
		value    func(f *ChargeFacts) uint32
		classed  bool
		windowed bool
	}{
		{func(f *ChargeFacts) uint32 { return f.Customer }, true, true},
		{func(f *ChargeFacts) uint32 { return f.Card }, true, true},
		{func(f *ChargeFacts) uint32 { return f.Email }, true, true},
		{func(f *ChargeFacts) uint32 { return f.Key }, true, false},
		// Orders with several charges are findings whatever their amounts.
		{func(f *ChargeFacts) uint32 { return f.Order }, false, false},
	}
	// Each worker marks what it finds in picked; two workers may mark the same
	// charge, which is the same write.
	var marks sync.Mutex
	var next atomic.Int32
	work := func() {
		var sorter evidenceSorter
		var found []int32
		byCreated := func(a, b evidence) int {
			return cmpCreated(facts, a.i, b.i)
		}
		for {
			k := int(next.Add(1)) - 1
			if k >= len(kinds) {
				break
			}
			kind := kinds[k]
			buf := sorter.buffer(len(facts))
			for i := range facts {
				f := &facts[i]
				v := kind.value(f)
				if v == 0 || f.Flags&FactCounts == 0 {
					continue
				}
				key := uint64(v)
				if kind.classed {
					key |= uint64(f.Class) << 32
				}
				buf = append(buf, evidence{h: mix64(key), i: int32(i)})
			}
			forEachRun(sorter.sort(buf, byCreated), func(run []evidence) {
				for j, e := range run {
					if !kind.windowed ||
						j > 0 && facts[e.i].Created-facts[run[j-1].i].Created <= window ||
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
	if len(facts) >= parallelMin && runtime.GOMAXPROCS(0) > 1 {
		var wg sync.WaitGroup
		wg.Go(work)
		work()
		wg.Wait()
	} else {
		work()
	}
	counts := map[Provider]*ProviderCharges{}
	var first, last int64
	for i := range facts {
		if picked[i] {
			pick = append(pick, int32(i))
			continue
		}
		f := &facts[i]
		if rest.Charges == 0 || f.Created < first {
			first = f.Created
		}
		if rest.Charges == 0 || f.Created > last {
			last = f.Created
		}
		rest.Charges++
		if f.Flags&FactCounts != 0 && f.Key == 0 {
			rest.WithoutKey++
		}
		countMode(counts, Providers[f.Flags>>factProviderShift], f.Flags&FactLivemode != 0)
	}
	if rest.Charges > 0 {
		rest.First, rest.Last = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
	}
	rest.Providers = inProviderOrder(counts)
	return pick, rest
}

// factSets are the hashes of what in's records name: charges and
// PaymentIntents (a key record's charge, a request's object, a Checkout
// Session's PaymentIntent), and the keys and order refs they carry.
func (in *Input) factSets(opts Options) (named, keys, orders map[uint32]bool) {
	named, keys, orders = map[uint32]bool{}, map[uint32]bool{}, map[uint32]bool{}
	add := func(set map[uint32]bool, s string) {
		if s != "" {
			set[factHash(s)] = true
		}
	}
	for i := range in.Keys {
		k := &in.Keys[i]
		add(named, k.ChargeID)
		add(keys, k.Key)
		add(orders, k.OrderRef)
	}
	for i := range in.Requests {
		add(named, in.Requests[i].Object)
		add(keys, in.Requests[i].Key)
	}
	for i := range in.Checkouts {
		add(named, in.Checkouts[i].PaymentIntent)
		add(orders, in.Checkouts[i].orderRef(opts.OrderField))
	}
	return named, keys, orders
}

func cmpCreated(facts []ChargeFacts, a, b int32) int {
	if ta, tb := facts[a].Created, facts[b].Created; ta != tb {
		if ta < tb {
			return -1
		}
		return 1
	}
	return int(a) - int(b)
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
