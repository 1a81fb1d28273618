package reconcile

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// oracleGroups is DESIGN's matching rule applied to every pair: O(n²), obviously
// right, and independent of Detect's sort-and-sweep.
func oracleGroups(in Input, opts Options) [][]string {
	ch := in.Charges
	n := len(ch)
	keys := make([]map[string]bool, n)
	orders := make([]string, n)
	for i := range ch {
		keys[i] = map[string]bool{}
		for _, f := range opts.KeyFields {
			if k := ch[i].MetadataField(f); k != "" {
				keys[i][k] = true
			}
		}
		orders[i] = ch[i].MetadataField(opts.OrderField)
		// The charge's records in the order of their keys: the first with
		// an order ref gives it, whatever order the input lists them in.
		records := slices.Clone(in.Keys)
		slices.SortStableFunc(records, func(a, b KeyRecord) int { return strings.Compare(a.Key, b.Key) })
		for _, r := range records {
			if r.ChargeID == "" || r.ChargeID != ch[i].ID {
				continue
			}
			keys[i][r.Key] = true
			if orders[i] == "" {
				orders[i] = r.OrderRef
			}
		}
	}
	shared := func(a, b string) bool { return a != "" && a == b }
	edge := func(a, b int) bool {
		x, y := &ch[a], &ch[b]
		if !x.Counts() || !y.Counts() || x.Currency != y.Currency || x.Amount != y.Amount || shared(x.PaymentIntent, y.PaymentIntent) {
			return false
		}
		d := x.Created.Sub(y.Created)
		if d < 0 {
			d = -d
		}
		identity := shared(x.Customer, y.Customer) || shared(x.CardFingerprint, y.CardFingerprint) ||
			shared(NormalizeEmail(x.Email), NormalizeEmail(y.Email))
		if identity && d <= opts.Window {
			return true
		}
		for k := range keys[a] {
			if keys[b][k] {
				return true
			}
		}
		return shared(orders[a], orders[b])
	}
	seen := make([]bool, n)
	var out [][]string
	for s := range ch {
		if seen[s] {
			continue
		}
		seen[s] = true
		comp, queue := []string{ch[s].ID}, []int{s}
		for len(queue) > 0 {
			a := queue[0]
			queue = queue[1:]
			for b := range ch {
				if !seen[b] && edge(a, b) {
					seen[b] = true
					comp = append(comp, ch[b].ID)
					queue = append(queue, b)
				}
			}
		}
		if len(comp) > 1 {
			slices.Sort(comp)
			out = append(out, comp)
		}
	}
	slices.SortFunc(out, func(a, b []string) int { return slices.Compare(a, b) })
	return out
}

// randomInput draws n charges from small pools so that identities, amounts,
// intents, keys and order refs collide often; bytes come from next.
func randomInput(n int, next func(k int) int) (Input, Options) {
	pick := func(pool ...string) string { return pool[next(len(pool))] }
	in := Input{}
	for i := range n {
		c := Charge{
			ID:              fmt.Sprintf("ch_%03d", i),
			Created:         t0.Add(time.Duration(next(40*60)) * time.Second / time.Duration(1+next(4))),
			Amount:          int64(100 * (1 + next(2))),
			Currency:        pick("usd", "usd", "eur"),
			Status:          pick("succeeded", "succeeded", "succeeded", "succeeded", "failed"),
			Captured:        next(8) > 0,
			Customer:        pick("", "", "cus_1", "cus_2", "cus_3"),
			Email:           pick("", "", "a@x.io", " A@X.io", "b@x.io"),
			CardFingerprint: pick("", "", "fp1", "fp2"),
			PaymentIntent:   pick("", "pi_1", "pi_2", "pi_3", fmt.Sprintf("pi_u%d", i)),
			Metadata:        map[string]string{},
		}
		if o := pick("", "", "", "o-1", "o-2"); o != "" {
			c.Metadata["order_id"] = o
		}
		if k := pick("", "", "", "", "k1", "k2"); k != "" {
			c.Metadata["idempotency_key"] = k
		}
		in.Charges = append(in.Charges, c)
	}
	for range next(n + 1) {
		id := ""
		if n > 0 && next(5) > 0 {
			id = in.Charges[next(n)].ID
		} else if next(2) == 0 {
			id = "ch_unknown"
		}
		in.Keys = append(in.Keys, KeyRecord{
			Key: pick("k1", "k2", "k3", "k4", "1234567890123456789_abcdef"), ChargeID: id,
			OrderRef: pick("", "", "o-1", "o-3"), Sources: []string{pick(SourceEvent, SourceLog)},
		})
	}
	opts := DefaultOptions()
	opts.Window = []time.Duration{0, time.Minute, 5 * time.Minute, 10 * time.Minute, time.Hour}[next(5)]
	return in, opts
}

// checkAgainstOracle compares Detect's groups with the oracle's and checks the
// shape every group must have.
func checkAgainstOracle(t *testing.T, in Input, opts Options) {
	t.Helper()
	r := Detect(in, opts)
	got, want := membership(r), oracleGroups(in, opts)
	if a, b := reportJSON(t, r), reportJSON(t, Detect(packedMetadata(t, in), opts)); a != b {
		t.Fatalf("the report differs with metadata as JSON, as the store loads it:\n%s\nvs\n%s", a, b)
	}
	if !slices.EqualFunc(got, want, func(a, b []string) bool { return slices.Equal(a, b) }) {
		t.Fatalf("window %v: Detect groups %v\noracle groups %v", opts.Window, got, want)
	}
	checkNarrowed(t, in, opts)
	for _, g := range r.Groups {
		// Kept: the earliest, and when an order ref is on two charges, the
		// first charge of every order ref.
		shared := false
		for i, m := range g.Charges {
			for _, o := range g.Charges[i+1:] {
				shared = shared || m.OrderRef != "" && o.OrderRef == m.OrderRef
			}
		}
		for i, m := range g.Charges {
			firstOfOrder := m.OrderRef != "" && !slices.ContainsFunc(g.Charges[:i], func(o Member) bool { return o.OrderRef == m.OrderRef })
			want := Duplicate
			if i == 0 || shared && firstOfOrder {
				want = Keep
			}
			if i > 0 && m.Created.Before(g.Charges[i-1].Created) || m.Role != want {
				t.Fatalf("group %s: charge %d out of order or role %s, want %s", g.ID, i, m.Role, want)
			}
		}
		if g.Charges[0].Role != Keep || g.ID != GroupID(g.Charges[0].ID) || len(g.Reasons) == 0 {
			t.Fatalf("group %s: bad keep/id/reasons", g.ID)
		}
	}
}

func TestDetectMatchesOracle(t *testing.T) {
	for _, workers := range []struct {
		name string
		min  int
	}{{"one worker", parallelMin}, {"two workers", 0}} {
		t.Run(workers.name, func(t *testing.T) {
			saved := parallelMin
			t.Cleanup(func() { parallelMin = saved })
			parallelMin = workers.min
			rng := rand.New(rand.NewPCG(7, 11))
			next := func(k int) int { return rng.IntN(k) }
			for iter := range 2000 {
				n := rng.IntN(30)
				if iter%100 == 0 {
					n = 150 + rng.IntN(150) // long runs stress the sweep's amortisation
				}
				in, opts := randomInput(n, next)
				checkAgainstOracle(t, in, opts)
			}
		})
	}
}

// TestDetectWithCollidingHashes makes hashes collide all the time, so the exact
// splitting of runs (and of the charge-id join and the order findings) is what
// keeps the groups right.
func TestDetectWithCollidingHashes(t *testing.T) {
	saved := hashString
	t.Cleanup(func() { hashString = saved })
	hashString = func(s string) uint64 { return uint64(len(s)%3) << 62 }
	rng := rand.New(rand.NewPCG(9, 9))
	next := func(k int) int { return rng.IntN(k) }
	for range 500 {
		in, opts := randomInput(rng.IntN(40), next)
		checkAgainstOracle(t, in, opts)
		r := Detect(in, opts)
		hashString = saved
		want := Detect(in, opts)
		hashString = func(s string) uint64 { return uint64(len(s)%3) << 62 }
		if len(r.Findings) != len(want.Findings) || r.Summary.ChargesWithoutKey != want.Summary.ChargesWithoutKey {
			t.Fatalf("findings differ under collisions: %d vs %d", len(r.Findings), len(want.Findings))
		}
		for i := range r.Findings {
			if r.Findings[i].Kind != want.Findings[i].Kind || r.Findings[i].OrderRef != want.Findings[i].OrderRef || r.Findings[i].ChargeID != want.Findings[i].ChargeID {
				t.Fatalf("finding %d: %+v vs %+v", i, r.Findings[i], want.Findings[i])
			}
		}
	}
}

// TestSweepSameIntentRuns targets the sweep's subtle case: long runs on one
// PaymentIntent interleaved with other intents, all inside or across windows.
func TestSweepSameIntentRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for range 500 {
		var in Input
		for i := range 2 + rng.IntN(60) {
			in.Charges = append(in.Charges, charge(fmt.Sprintf("ch_%02d", i), time.Duration(rng.IntN(1800))*time.Second,
				intent([]string{"pi_1", "pi_1", "pi_1", "pi_2", ""}[rng.IntN(5)])))
		}
		checkAgainstOracle(t, in, DefaultOptions())
	}
}

func FuzzDetect(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte("two charges one customer within the window, the same intent"))
	f.Add([]byte{30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 1, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		pos := 0
		var next func(k int) int
		next = func(k int) int { // deterministic choices from the fuzzer's bytes, then zeros
			if pos >= len(data) {
				return 0
			}
			v := int(data[pos])
			pos++
			if k > 256 {
				v = v<<8 | next(256)
			}
			return v % k
		}
		in, opts := randomInput(next(40), next)
		checkAgainstOracle(t, in, opts)
	})
}

// packedMetadata is in with every charge's metadata as JSON instead of a map,
// as loads from the store give it.
func packedMetadata(t *testing.T, in Input) Input {
	t.Helper()
	in.Charges = slices.Clone(in.Charges)
	for i := range in.Charges {
		c := &in.Charges[i]
		if len(c.Metadata) == 0 {
			c.Metadata = nil
			continue
		}
		b, err := json.Marshal(c.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		c.Metadata, c.MetadataJSON = nil, string(b)
	}
	return in
}

func reportJSON(t *testing.T, r Report) string {
	t.Helper()
	var b strings.Builder
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestDetectIgnoresRecordOrder: stores list key records, requests and
// Checkout Sessions in no fixed order (PostgreSQL returns a table's rows as
// they lie, an index's in its order), so the report must not depend on it,
// for the records a store can hold (one per key and charge, per request
// object, per session id).
func TestDetectIgnoresRecordOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 4))
	next := func(k int) int { return rng.IntN(k) }
	for range 1000 {
		in, opts := randomInput(rng.IntN(40), next)
		in = withRecords(in, next)
		in.Keys = uniqueBy(in.Keys, func(k KeyRecord) [2]string { return [2]string{k.Key, k.ChargeID} })
		in.Requests = uniqueBy(in.Requests, func(r RequestRecord) [2]string { return [2]string{r.Object} })
		in.Checkouts = uniqueBy(in.Checkouts, func(c CheckoutRecord) [2]string { return [2]string{c.Session} })
		// Sessions sharing a PaymentIntent, as a store may hold.
		for k := range in.Checkouts {
			if next(3) == 0 && len(in.Charges) > 0 {
				in.Checkouts[k].PaymentIntent = in.Charges[next(len(in.Charges))].PaymentIntent
			}
		}
		want := Detect(in, opts)
		shuffled := in
		shuffled.Keys, shuffled.Requests, shuffled.Checkouts = shuffle(rng, in.Keys), shuffle(rng, in.Requests), shuffle(rng, in.Checkouts)
		if got := Detect(shuffled, opts); !reflect.DeepEqual(want, got) {
			t.Fatalf("the report changed with the order of the records:\n%s\nwant\n%s", reportJSON(t, got), reportJSON(t, want))
		}
	}
}

// uniqueBy keeps the first of the items with each id.
func uniqueBy[T any](items []T, id func(T) [2]string) []T {
	seen := map[[2]string]bool{}
	return slices.DeleteFunc(items, func(item T) bool {
		k := id(item)
		defer func() { seen[k] = true }()
		return seen[k]
	})
}

// shuffle is a shuffled copy of items.
func shuffle[T any](rng *rand.Rand, items []T) []T {
	out := slices.Clone(items)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
