package reconcile

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// narrowed is in as a store narrows it: charges in id order and key records
// in charge id order, as a store reads them, joined by a RecordJoin; Narrow
// over their facts; the picked charges, the needed key records, and the
// requests and Checkout Sessions of the picked charges and their
// PaymentIntents kept in their order, the rest tallied.
func narrowed(t *testing.T, in Input, opts Options) (out Input, pick []int32) {
	t.Helper()
	ordered := storeOrdered(in)
	of, err := storeFactsOf(ordered)
	if err != nil {
		t.Fatal(err)
	}
	nw, err := Narrow(of, opts, createRequestsOf(ordered))
	if err != nil {
		t.Fatal(err)
	}
	out = in
	out.Charges = make([]Charge, 0, len(nw.Pick))
	ids, intents := map[string]bool{}, map[string]bool{} // of the picked charges
	for _, i := range nw.Pick {
		c := ordered.Charges[i]
		out.Charges = append(out.Charges, c)
		pick = append(pick, int32(slices.IndexFunc(in.Charges, func(d Charge) bool { return d.ID == c.ID })))
		ids[c.ID], intents[c.PaymentIntent] = true, c.PaymentIntent != ""
	}
	slices.Sort(pick)
	out.Requests = slices.DeleteFunc(slices.Clone(in.Requests), func(r RequestRecord) bool { return !ids[r.Object] && !intents[r.Object] })
	out.Checkouts = slices.DeleteFunc(slices.Clone(in.Checkouts), func(c CheckoutRecord) bool { return !intents[c.PaymentIntent] })
	out.Keys = make([]KeyRecord, 0, len(nw.Records))
	for _, r := range nw.Records {
		out.Keys = append(out.Keys, ordered.Keys[r])
	}
	out.Unloaded = nw.Unloaded
	return out, pick
}

// checkNarrowed fails unless detection over the charges Narrow picks reports
// exactly what detection over all of them reports.
func checkNarrowed(t *testing.T, in Input, opts Options) []int32 {
	t.Helper()
	if !FactsServe(opts) {
		t.Fatalf("options %+v are not served by facts", opts)
	}
	small, pick := narrowed(t, in, opts)
	if want, got := Detect(in, opts), Detect(small, opts); !reflect.DeepEqual(want, got) {
		t.Fatalf("detection over the %d of %d charges Narrow picked differs:\n%s\nwant\n%s", len(pick), len(in.Charges),
			reportJSON(t, got), reportJSON(t, want))
	}
	return pick
}

// withRecords adds to in what events record besides keys: requests for some
// charges and PaymentIntents, and Checkout Sessions carrying order refs.
func withRecords(in Input, next func(int) int) Input {
	for i := range in.Charges {
		c := &in.Charges[i]
		switch next(8) {
		case 0:
			in.Requests = append(in.Requests, RequestRecord{Object: c.ID, Key: []string{"", "k1", "k9"}[next(3)], SeenAt: c.Created})
		case 1:
			if c.PaymentIntent != "" {
				in.Requests = append(in.Requests, RequestRecord{Object: c.PaymentIntent, Key: []string{"", "k2", "k8"}[next(3)], SeenAt: c.Created})
			}
		case 2:
			if c.PaymentIntent != "" {
				in.Checkouts = append(in.Checkouts, CheckoutRecord{Session: fmt.Sprintf("cs_%d", i), PaymentIntent: c.PaymentIntent,
					ClientReferenceID: []string{"", "o-1", "o-7"}[next(3)], Metadata: map[string]string{"order_id": "o-2"}, CompletedAt: c.Created})
			}
		}
	}
	return in
}

func TestNarrowMatchesDetect(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash func(string) uint32
	}{
		{"stable hash", factHash},
		// Collisions everywhere (0 stays the empty string's): Narrow picks
		// more, never less.
		{"colliding hashes", func(s string) uint32 {
			if s == "" {
				return 0
			}
			return uint32(len(s)%3) + 1
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := factHash
			t.Cleanup(func() { factHash = saved })
			factHash = tc.hash
			rng := rand.New(rand.NewPCG(21, 5))
			next := func(k int) int { return rng.IntN(k) }
			for range 1500 {
				in, opts := randomInput(rng.IntN(40), next)
				if next(2) == 0 {
					in = withRecords(in, next)
				}
				checkNarrowed(t, in, opts)
			}
		})
	}
}

// TestNarrowLeavesLoneCharges checks that Narrow narrows: a charge that shares
// nothing with another is not picked, nor are its key records passed on,
// while every charge of a group or finding is. A charge whose count as taken
// without a key turns on which request is its PaymentIntent's is counted by
// asking createRequests, not picked.
func TestNarrowLeavesLoneCharges(t *testing.T) {
	in := Input{Charges: []Charge{
		charge("ch_a", 0, meta("order_id", "o-1")),
		charge("ch_b", time.Minute, meta("order_id", "o-2")), // the same customer within the window: a group
		charge("ch_c", time.Hour, customer("cus_2"), meta("order_id", "o-3")),
		charge("ch_d", 2*time.Hour, customer("cus_3"), amount(999), meta("order_id", "o-3")), // an order on two charges: a finding
		charge("ch_e", 3*time.Hour, customer("cus_4")),                                       // a key record of its own
		charge("ch_f", 4*time.Hour, customer("cus_5"), status("failed")),
		charge("ch_g", 5*time.Hour, customer("cus_1")), // the group's customer, hours later: alone
		// Its event's key, and its PaymentIntent created without one: keyless
		// after detection, which facts alone cannot tell.
		charge("ch_h", 6*time.Hour, customer("cus_6")),
	}, Keys: []KeyRecord{
		{Key: "k-e", ChargeID: "ch_e", Sources: []string{SourceLog}},
		{Key: "k-h", ChargeID: "ch_h", Sources: []string{SourceEvent}},
		{Key: "k-lost", ChargeID: "ch_gone", Sources: []string{SourceLog}},
	}, Requests: []RequestRecord{{Object: "pi_h", Key: ""}}}
	pick := checkNarrowed(t, in, DefaultOptions())
	var ids []string
	for _, i := range pick {
		ids = append(ids, in.Charges[i].ID)
	}
	if want := []string{"ch_a", "ch_b", "ch_c", "ch_d"}; !slices.Equal(ids, want) {
		t.Fatalf("Narrow picked %v, want %v", ids, want)
	}
	small, _ := narrowed(t, in, DefaultOptions())
	if u := small.Unloaded; u.Charges != 4 || u.WithoutKey != 2 || !u.First.Equal(t0.Add(3*time.Hour)) || !u.Last.Equal(t0.Add(6*time.Hour)) {
		t.Fatalf("tally %+v, want 4 charges (ch_g and ch_h taken without a key) from t0+3h to t0+6h", u)
	}
	var keys []string
	for _, k := range small.Keys {
		keys = append(keys, k.Key)
	}
	if want := []string{"k-lost"}; !slices.Equal(keys, want) {
		t.Fatalf("key records passed on %v, want %v (the one naming no charge)", keys, want)
	}
}

// A key record's key links charges even when empty, as Detect reads it
// (stores refuse empty keys; Narrow must still agree with Detect).
func TestNarrowEmptyRecordKey(t *testing.T) {
	in := Input{Charges: []Charge{charge("ch_a", 0), charge("ch_b", time.Hour)}, Keys: []KeyRecord{
		{Key: "", ChargeID: "ch_a", Sources: []string{SourceLog}}, {Key: "", ChargeID: "ch_b", Sources: []string{SourceLog}}}}
	if pick := checkNarrowed(t, in, DefaultOptions()); len(pick) != 2 {
		t.Fatalf("picked %v, want both charges", pick)
	}
}

func TestFactsServe(t *testing.T) {
	other := DefaultOptions()
	other.OrderField = "cart"
	keys := DefaultOptions()
	keys.KeyFields = []string{"idempotency_key", "retry_key"}
	listed := DefaultOptions()
	listed.ListChargesWithoutKey = true
	windowed := DefaultOptions()
	windowed.Window = time.Hour
	for _, tc := range []struct {
		opts Options
		want bool
	}{{DefaultOptions(), true}, {windowed, true}, {other, false}, {keys, false}, {listed, false}} {
		if got := FactsServe(tc.opts); got != tc.want {
			t.Errorf("FactsServe(%+v) = %v, want %v", tc.opts, got, tc.want)
		}
	}
}

func TestRecordJoin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		charges []string
		records []string
		want    []int32 // nil with wantErr
		wantErr string
	}{
		{"each record its charge", []string{"ch_1", "ch_2", "ch_3"}, []string{"ch_1", "ch_3"}, []int32{0, 2}, ""},
		{"several records of one charge", []string{"ch_1", "ch_2"}, []string{"ch_2", "ch_2"}, []int32{1, 1}, ""},
		{"no charge named, or one not stored", []string{"ch_2", "ch_4"}, []string{"", "", "ch_1", "ch_3", "ch_4", "ch_5"}, []int32{-1, -1, -1, -1, 1, -1}, ""},
		{"no charges", nil, []string{"ch_1"}, []int32{-1}, ""},
		// Byte order, as SQLite and PostgreSQL's "C" collation sort: upper
		// case before lower.
		{"byte order", []string{"ch_B", "ch_a"}, []string{"ch_B", "ch_a"}, []int32{0, 1}, ""},
		{"records out of order", []string{"ch_1", "ch_2"}, []string{"ch_2", "ch_1"}, nil, `names charge "ch_1" after "ch_2"`},
		{"charges out of order", []string{"ch_2", "ch_1", "ch_3"}, []string{"ch_3"}, nil, `charge "ch_1" comes after "ch_2"`},
		{"a charge id twice", []string{"ch_1", "ch_1", "ch_2"}, []string{"ch_2"}, nil, `charge "ch_1" comes after "ch_1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			join := NewRecordJoin(len(tc.charges), func(i int32) string { return tc.charges[i] })
			var got []int32
			var err error
			for _, r := range tc.records {
				var c int32
				if c, err = join.Charge(r); err != nil {
					break
				}
				got = append(got, c)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("joined %v (error %v), want %v", got, err, tc.want)
			}
		})
	}
}
