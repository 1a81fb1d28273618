package reconcile

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/internal/cputime"
)

// realisticInput generates n charges over 90 days the way a busy account looks:
// repeat customers, a price list (so amounts collide a lot), guest checkouts by
// email, order ids and application keys from events on most charges, a few
// failures, and about 1% duplicates (double submits, retries with new keys,
// retries without keys).
func realisticInput(n int, seed uint64) Input {
	rng := rand.New(rand.NewPCG(seed, 42))
	start := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	span := 90 * 24 * time.Hour
	prices := make([]int64, 200)
	for i := range prices {
		prices[i] = int64(500 + rng.IntN(300)*100)
	}
	customers := n/4 + 1
	in := Input{Charges: make([]Charge, 0, n), Keys: make([]KeyRecord, 0, n)}
	add := func(c Charge, key string) {
		in.Charges = append(in.Charges, c)
		if key != "" {
			in.Keys = append(in.Keys, KeyRecord{Key: key, ChargeID: c.ID, OrderRef: c.Metadata["order_id"], Sources: []string{SourceEvent}, SeenAt: c.Created})
		}
	}
	for len(in.Charges) < n {
		i := len(in.Charges)
		cust := rng.IntN(customers)
		c := Charge{
			ID:              "ch_" + strconv.Itoa(i),
			Created:         start.Add(time.Duration(rng.Int64N(int64(span)))),
			Amount:          prices[rng.IntN(len(prices))],
			Currency:        "usd",
			Status:          "succeeded",
			Captured:        true,
			Email:           "buyer" + strconv.Itoa(cust) + "@example.com",
			CardFingerprint: "fp" + strconv.Itoa(cust),
			CardBrand:       "visa",
			CardLast4:       fmt.Sprintf("%04d", cust%10000),
			PaymentIntent:   "pi_" + strconv.Itoa(i),
			Metadata:        map[string]string{"order_id": "o-" + strconv.Itoa(i)},
		}
		if rng.IntN(3) > 0 {
			c.Customer = "cus_" + strconv.Itoa(cust)
		}
		if rng.IntN(10) == 0 {
			c.Currency = "eur"
		}
		if rng.IntN(50) == 0 {
			c.Status = "failed"
		}
		key := "key-" + strconv.Itoa(i)
		if rng.IntN(10) == 0 {
			key = "" // created in the Dashboard
		}
		add(c, key)
		if rng.IntN(100) == 0 && len(in.Charges) < n {
			d := c
			d.ID = "ch_" + strconv.Itoa(len(in.Charges))
			d.PaymentIntent = "pi_" + strconv.Itoa(len(in.Charges))
			d.Created = c.Created.Add(time.Duration(1+rng.IntN(300)) * time.Second)
			dkey := key + "-retry"
			switch rng.IntN(3) {
			case 0: // a retry without a key
				dkey = ""
			case 1: // a double submit: a new order too
				d.Metadata = map[string]string{"order_id": "o-" + strconv.Itoa(len(in.Charges))}
			}
			add(d, dkey)
		}
	}
	return in
}

func BenchmarkDetect(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"10k", 10_000}, {"100k", 100_000}, {"1M", 1_000_000}} {
		b.Run(size.name, func(b *testing.B) {
			in := realisticInput(size.n, 1)
			opts := DefaultOptions()
			b.ReportAllocs()
			b.ResetTimer()
			var groups int
			cpuBefore := cputime.Used(b)
			for b.Loop() {
				groups = len(Detect(in, opts).Groups)
			}
			b.ReportMetric(float64(groups), "groups")
			// The machine is shared: CPU time (both cores) says more than wall
			// time about what changed.
			b.ReportMetric((cputime.Used(b)-cpuBefore).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkDetectNarrowed is detection as a store runs it: Narrow over the
// facts of every charge and key record, then Detect over the charges it picks
// and the records it keeps. The charges' facts are computed before the timer,
// since the store keeps them, and so are the key records' facts and their
// join to the charges, which the store makes while it reads the records, on
// the goroutine beside SQLite's reading (BenchmarkRecordFacts measures them).
// The picked charges and kept records, which the store then reads by id, are
// copied from memory; as in the store, the rest are not held in memory,
// whose size the garbage collector's work follows. Charges are in id order
// and records in charge id order, as a store reads them. The "imported"
// inputs drop the key records (an account imported from files, with no
// events).
func BenchmarkDetectNarrowed(b *testing.B) {
	for _, size := range []struct {
		name     string
		n        int
		imported bool
	}{{"10k", 10_000, false}, {"100k", 100_000, false}, {"1M", 1_000_000, false}, {"1M-imported", 1_000_000, true}} {
		b.Run(size.name, func(b *testing.B) {
			in := storeOrdered(realisticInput(size.n, 1))
			if size.imported {
				in.Keys = nil
			}
			of, err := storeFactsOf(in)
			if err != nil {
				b.Fatal(err)
			}
			opts := DefaultOptions()
			// What the store reads in full: the same on every run.
			first, err := Narrow(of, opts, createRequestsOf(in))
			if err != nil {
				b.Fatal(err)
			}
			picked := make(map[int32]Charge, len(first.Pick))
			for _, i := range first.Pick {
				picked[i] = in.Charges[i]
			}
			kept := make(map[int32]KeyRecord, len(first.Records))
			for _, r := range first.Records {
				kept[r] = in.Keys[r]
			}
			in.Charges, in.Keys = nil, nil
			runtime.GC()
			b.ReportAllocs()
			b.ResetTimer()
			var groups int
			cpuBefore := cputime.Used(b)
			for b.Loop() {
				nw, err := Narrow(of, opts, noRequests)
				if err != nil {
					b.Fatal(err)
				}
				small := in
				small.Charges = make([]Charge, len(nw.Pick))
				for k, i := range nw.Pick {
					small.Charges[k] = picked[i]
				}
				small.Keys = make([]KeyRecord, len(nw.Records))
				for k, r := range nw.Records {
					small.Keys[k] = kept[r]
				}
				small.Unloaded = nw.Unloaded
				groups = len(Detect(small, opts).Groups)
			}
			b.ReportMetric(float64(groups), "groups")
			b.ReportMetric(float64(len(first.Pick)), "picked")
			b.ReportMetric((cputime.Used(b)-cpuBefore).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkRecordFacts is what a store does with each key record as it reads
// them for a narrowed detection: its facts, and its join to its charge.
func BenchmarkRecordFacts(b *testing.B) {
	in := storeOrdered(realisticInput(1_000_000, 1))
	b.ReportAllocs()
	cpuBefore := cputime.Used(b)
	for b.Loop() {
		if _, err := recordFacts(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(in.Keys)), "records")
	b.ReportMetric((cputime.Used(b)-cpuBefore).Seconds()/float64(b.N), "cpu-s/op")
}

// storeOrdered is in in the order a store reads it: charges by id, key
// records by charge id.
func storeOrdered(in Input) Input {
	in.Charges = slices.Clone(in.Charges)
	slices.SortStableFunc(in.Charges, func(a, b Charge) int { return strings.Compare(a.ID, b.ID) })
	in.Keys = slices.Clone(in.Keys)
	slices.SortStableFunc(in.Keys, func(a, b KeyRecord) int { return strings.Compare(a.ChargeID, b.ChargeID) })
	return in
}

// noRequests answers Narrow for an input without requests, which never asks.
func noRequests([]int32) ([]CreateRequest, error) {
	return nil, errors.New("asked for create requests of an input without any")
}

// createRequestsOf answers Narrow from in, whose charges it names by index:
// the request whose object is the charge's PaymentIntent (the last of them,
// as Detect indexes them).
func createRequestsOf(in Input) CreateRequests {
	byObject := make(map[string]RequestRecord, len(in.Requests))
	for _, r := range in.Requests {
		byObject[r.Object] = r
	}
	return func(charges []int32) ([]CreateRequest, error) {
		out := make([]CreateRequest, len(charges))
		for k, i := range charges {
			if r, seen := byObject[in.Charges[i].PaymentIntent]; seen {
				out[k] = CreateRequest{Seen: true, Keyed: r.Key != ""}
			}
		}
		return out, nil
	}
}

// storeFactsOf are the facts of everything in holds, which must be in the
// order storeOrdered gives.
func storeFactsOf(in Input) (StoreFacts, error) {
	of := StoreFacts{Charges: make([]ChargeFacts, len(in.Charges))}
	for i := range in.Charges {
		of.Charges[i] = FactsOf(&in.Charges[i])
	}
	for q := range in.Requests {
		of.Requests = append(of.Requests, RequestFactsOf(&in.Requests[q]))
	}
	for k := range in.Checkouts {
		of.Checkouts = append(of.Checkouts, CheckoutFactsOf(&in.Checkouts[k]))
	}
	var err error
	of.Records, err = recordFacts(in)
	return of, err
}

// recordFacts are the facts of in's key records, joined to its charges;
// both must be in the order storeOrdered gives.
func recordFacts(in Input) ([]RecordFacts, error) {
	join := NewRecordJoin(len(in.Charges), func(i int32) string { return in.Charges[i].ID })
	records := make([]RecordFacts, len(in.Keys))
	for r := range in.Keys {
		c, err := join.Charge(in.Keys[r].ChargeID)
		if err != nil {
			return nil, err
		}
		records[r] = RecordFactsOf(&in.Keys[r], c)
	}
	return records, nil
}
