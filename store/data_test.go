package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// rawOf reads the stored raw JSON of a charge ("" when there is none).
func rawOf(t *testing.T, s *Store, id string) string {
	t.Helper()
	var raw []byte
	err := s.reader.QueryRowContext(context.Background(), `SELECT raw FROM charge_raw WHERE id = ?`, id).Scan(&raw)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	return string(raw)
}

func loadedCharges(t *testing.T, s *Store) map[string]reconcile.Charge {
	t.Helper()
	in, err := s.LoadInput(context.Background())
	if err != nil {
		t.Fatalf("LoadInput: %v", err)
	}
	out := make(map[string]reconcile.Charge, len(in.Charges))
	for _, c := range in.Charges {
		if c.Raw != nil {
			t.Errorf("charge %s loaded with Raw; LoadInput must leave it nil", c.ID)
		}
		out[c.ID] = c
	}
	return out
}

func TestChargesRoundTrip(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		full := reconcile.Charge{
			ID: "ch_full", Created: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), Amount: 2000, AmountRefunded: 500,
			Currency: "usd", Status: "succeeded", Captured: true, Refunded: true, Disputed: true,
			Customer: "cus_1", Email: "Ann@Example.com", CardFingerprint: "fp_1", CardBrand: "visa",
			CardLast4: "4242", PaymentIntent: "pi_1", Description: "Order 12: 2 × mugs", Livemode: true,
			Metadata: map[string]string{"order_id": "o-12", "idempotency_key": "k-1"},
			Observed: time.Date(2026, 3, 5, 0, 0, 0, 123456789, time.UTC),
			Raw:      []byte(`{"id":"ch_full","object":"charge"}`),
		}
		tricky := reconcile.Charge{
			ID: "ch_tricky:12:34", Currency: "jpy", Status: "failed", Amount: 1,
			Description: "colons: 3:abc and \"quotes\", newline\n, tab\t, é, 日本",
			Metadata: map[string]string{
				"note": `a "quoted" \ backslash`, "html": "<b>&</b>", "unicode": "café ☕", "": "empty key",
				"ctl": "bell\x07", "empty": "",
			},
		}
		bare := reconcile.Charge{ID: "ch_bare"} // zero times, no metadata, no raw
		if err := s.SaveCharges(ctx, []reconcile.Charge{full, tricky, bare}); err != nil {
			t.Fatalf("SaveCharges: %v", err)
		}
		got := loadedCharges(t, s)
		for _, want := range []reconcile.Charge{full, tricky, bare} {
			raw := string(want.Raw)
			want.Raw = nil
			want.Provider = reconcile.ProviderStripe // a charge without a provider is Stripe's
			if !reflect.DeepEqual(got[want.ID], want) {
				t.Errorf("charge %s:\n got %+v\nwant %+v", want.ID, got[want.ID], want)
			}
			if r := rawOf(t, s, want.ID); r != raw {
				t.Errorf("raw of %s = %q, want %q", want.ID, r, raw)
			}
		}
		if len(got) != 3 {
			t.Errorf("loaded %d charges, want 3", len(got))
		}
	})
}

func TestNewestObservationWins(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		version := func(refunded int64, observed time.Time, raw string) reconcile.Charge {
			c := reconcile.Charge{ID: "ch_1", Amount: 1000, AmountRefunded: refunded, Currency: "usd",
				Status: "succeeded", Captured: true, Observed: observed}
			if raw != "" {
				c.Raw = []byte(raw)
			}
			return c
		}
		tests := []struct {
			name         string
			batches      [][]reconcile.Charge
			wantRefunded int64
			wantRaw      string
		}{
			{"a newer observation replaces", [][]reconcile.Charge{
				{version(0, t0, `{"v":1}`)}, {version(1000, t0.Add(time.Hour), `{"v":2}`)}}, 1000, `{"v":2}`},
			{"an older observation is ignored, raw too", [][]reconcile.Charge{
				{version(1000, t0.Add(time.Hour), `{"v":2}`)}, {version(0, t0, `{"v":1}`)}}, 1000, `{"v":2}`},
			{"a tie goes to the later write", [][]reconcile.Charge{
				{version(0, t0, `{"v":1}`)}, {version(300, t0, `{"v":2}`)}}, 300, `{"v":2}`},
			{"within one batch", [][]reconcile.Charge{
				{version(1000, t0.Add(time.Hour), `{"v":2}`), version(0, t0, `{"v":1}`)}}, 1000, `{"v":2}`},
			{"a tie within one batch goes to the later one", [][]reconcile.Charge{
				{version(0, t0, `{"v":1}`), version(300, t0, `{"v":2}`)}}, 300, `{"v":2}`},
			{"a tie within one long batch goes to the later one", [][]reconcile.Charge{
				append(append([]reconcile.Charge{version(0, t0, `{"v":1}`)}, fakeCharges(0, 120, true)...),
					version(300, t0, `{"v":2}`))}, 300, `{"v":2}`},
			{"a newer observation without raw keeps the last raw", [][]reconcile.Charge{
				{version(0, t0, `{"v":1}`)}, {version(1000, t0.Add(time.Hour), "")}}, 1000, `{"v":1}`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := d.open(t)
				for _, batch := range tt.batches {
					if err := s.SaveCharges(ctx, batch); err != nil {
						t.Fatal(err)
					}
				}
				got := loadedCharges(t, s)["ch_1"]
				if got.AmountRefunded != tt.wantRefunded {
					t.Errorf("amount refunded = %d, want %d", got.AmountRefunded, tt.wantRefunded)
				}
				if raw := rawOf(t, s, "ch_1"); raw != tt.wantRaw {
					t.Errorf("raw = %s, want %s", raw, tt.wantRaw)
				}
			})
		}
	})
}

// countRows counts the rows of every table holding synced or imported data.
func countRows(t *testing.T, s *Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"charges", "charge_raw", "key_records", "state", "decisions", "refund_intents"} {
		var n int
		if err := s.reader.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func TestWritesAreAllOrNothing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		good := fakeCharges(100, 50, true)
		withBad := func(bad reconcile.Charge) []reconcile.Charge {
			return append(fakeCharges(0, 50, true), bad)
		}
		tests := []struct {
			name    string
			write   func(s *Store) error
			wantErr string
		}{
			{"charge without id", func(s *Store) error {
				return s.SaveCharges(ctx, withBad(reconcile.Charge{Amount: 5}))
			}, "charge 51 of 51: charge has no id"},
			{"created time out of range", func(s *Store) error {
				return s.SaveCharges(ctx, withBad(reconcile.Charge{ID: "ch_x", Created: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}))
			}, "created time 3000-01-01T00:00:00Z is out of range"},
			{"sync batch with a bad key record", func(s *Store) error {
				return s.SaveSyncBatch(ctx, fakeCharges(0, 50, true),
					[]reconcile.KeyRecord{{Key: "k1", Sources: []string{"event"}}, {Key: ""}},
					reconcile.Observations{}, map[string]string{"cursor": "ch_49"})
			}, "key record 2 of 2: the idempotency key is empty"},
			{"sync batch with a bad state name", func(s *Store) error {
				return s.SaveSyncBatch(ctx, fakeCharges(0, 50, true), nil, reconcile.Observations{}, map[string]string{"": "x"})
			}, "state name is empty"},
			{"key records with an empty key", func(s *Store) error {
				return s.SaveKeys(ctx, []reconcile.KeyRecord{{Key: "k1"}, {Key: "k2"}, {}})
			}, "key record 3 of 3"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := d.open(t)
				if err := s.SaveSyncBatch(ctx, good, []reconcile.KeyRecord{{Key: "old", Sources: []string{"log"}}},
					reconcile.Observations{}, map[string]string{"cursor": "before"}); err != nil {
					t.Fatal(err)
				}
				before := countRows(t, s)
				err := tt.write(s)
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				if after := countRows(t, s); !reflect.DeepEqual(after, before) {
					t.Errorf("a failed write changed the store: rows %v, before %v", after, before)
				}
				if cursor, _ := s.State(ctx, "cursor"); cursor != "before" {
					t.Errorf("cursor = %q after a failed write, want %q", cursor, "before")
				}
			})
		}
	})
}

func TestSyncBatchSavesChargesKeysAndState(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		charges := fakeCharges(0, 3, true)
		keys := []reconcile.KeyRecord{{Key: "k-0", ChargeID: charges[0].ID, Sources: []string{"event"}, SeenAt: baseTime}}
		if err := s.SaveSyncBatch(ctx, charges, keys, reconcile.Observations{}, map[string]string{"charges.cursor": charges[2].ID, "events.cursor": "evt_9"}); err != nil {
			t.Fatal(err)
		}
		in, err := s.LoadInput(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Charges) != 3 || len(in.Keys) != 1 || in.Keys[0].ChargeID != charges[0].ID {
			t.Errorf("loaded %d charges and keys %+v", len(in.Charges), in.Keys)
		}
		for name, want := range map[string]string{"charges.cursor": charges[2].ID, "events.cursor": "evt_9", "never.set": ""} {
			if got, err := s.State(ctx, name); err != nil || got != want {
				t.Errorf("State(%q) = %q, %v; want %q", name, got, err, want)
			}
		}
		if err := s.SetState(ctx, "events.cursor", "evt_10"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.State(ctx, "events.cursor"); got != "evt_10" {
			t.Errorf("after SetState: %q, want evt_10", got)
		}
	})
}

// TestSyncBatchSavesObservations: what events said about creating requests
// (a key, or none) and completed Checkout Sessions loads back as saved, and an
// event read again by an overlapping sync changes nothing.
func TestSyncBatchSavesObservations(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		obs := reconcile.Observations{
			Requests: []reconcile.RequestRecord{{Object: "pi_1", Key: "pi-create-o-1", SeenAt: baseTime}, {Object: "ch_2", SeenAt: baseTime}},
			Checkouts: []reconcile.CheckoutRecord{{Session: "cs_1", PaymentIntent: "pi_1", ClientReferenceID: "cart-1", CompletedAt: baseTime},
				{Session: "cs_2", PaymentIntent: "pi_2", Metadata: map[string]string{"order_id": "o-2"}, CompletedAt: baseTime}},
		}
		for range 2 {
			if err := s.SaveSyncBatch(ctx, nil, nil, obs, nil); err != nil {
				t.Fatal(err)
			}
		}
		in, err := s.LoadInput(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(in.Requests, func(a, b reconcile.RequestRecord) int { return strings.Compare(b.Object, a.Object) })
		if !slices.Equal(in.Requests, obs.Requests) {
			t.Errorf("requests %+v, want %+v", in.Requests, obs.Requests)
		}
		if len(in.Checkouts) != 2 || in.Checkouts[0].ClientReferenceID != "cart-1" || in.Checkouts[1].Metadata["order_id"] != "o-2" ||
			!in.Checkouts[0].CompletedAt.Equal(baseTime) || in.Checkouts[1].PaymentIntent != "pi_2" {
			t.Errorf("checkouts %+v", in.Checkouts)
		}
	})
}

func TestKeyRecordsMerge(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		t1, t2 := baseTime, baseTime.Add(48*time.Hour)
		tests := []struct {
			name    string
			batches [][]reconcile.KeyRecord
			want    []reconcile.KeyRecord
		}{
			{"one source", [][]reconcile.KeyRecord{{{Key: "k", ChargeID: "ch_1", OrderRef: "o-1", Sources: []string{"log"}, SeenAt: t1}}},
				[]reconcile.KeyRecord{{Key: "k", ChargeID: "ch_1", OrderRef: "o-1", Sources: []string{"log"}, SeenAt: t1}}},
			{"sources merge as a sorted set", [][]reconcile.KeyRecord{
				{{Key: "k", Sources: []string{"metadata", "event"}}},
				{{Key: "k", Sources: []string{"log", "event"}}}},
				[]reconcile.KeyRecord{{Key: "k", Sources: []string{"event", "log", "metadata"}}}},
			{"empty charge and order are filled in", [][]reconcile.KeyRecord{
				{{Key: "k", Sources: []string{"log"}}},
				{{Key: "k", ChargeID: "ch_2", OrderRef: "o-2", Sources: []string{"event"}}}},
				[]reconcile.KeyRecord{{Key: "k", ChargeID: "ch_2", OrderRef: "o-2", Sources: []string{"event", "log"}}}},
			{"a key on a second charge is a second record (reused after expiry)", [][]reconcile.KeyRecord{
				{{Key: "k", ChargeID: "ch_1", OrderRef: "o-1", Sources: []string{"event"}}},
				{{Key: "k", ChargeID: "ch_9", OrderRef: "o-9", Sources: []string{"log"}}}},
				[]reconcile.KeyRecord{{Key: "k", ChargeID: "ch_1", OrderRef: "o-1", Sources: []string{"event"}},
					{Key: "k", ChargeID: "ch_9", OrderRef: "o-9", Sources: []string{"log"}}}},
			{"a known order is kept", [][]reconcile.KeyRecord{
				{{Key: "k", ChargeID: "ch_1", OrderRef: "o-1", Sources: []string{"event"}}},
				{{Key: "k", ChargeID: "ch_1", OrderRef: "o-9", Sources: []string{"log"}}}},
				[]reconcile.KeyRecord{{Key: "k", ChargeID: "ch_1", OrderRef: "o-1", Sources: []string{"event", "log"}}}},
			{"a record without a charge joins each charge's record", [][]reconcile.KeyRecord{
				{{Key: "k", ChargeID: "ch_1", Sources: []string{"event"}}, {Key: "k", ChargeID: "ch_2", Sources: []string{"event"}}},
				{{Key: "k", OrderRef: "o-5", Sources: []string{"log"}}}},
				[]reconcile.KeyRecord{{Key: "k", ChargeID: "ch_1", OrderRef: "o-5", Sources: []string{"event", "log"}},
					{Key: "k", ChargeID: "ch_2", OrderRef: "o-5", Sources: []string{"event", "log"}}}},
			{"earliest sighting is kept", [][]reconcile.KeyRecord{
				{{Key: "k", SeenAt: t2, Sources: []string{"log"}}},
				{{Key: "k", SeenAt: t1, Sources: []string{"log"}}},
				{{Key: "k", Sources: []string{"log"}}}},
				[]reconcile.KeyRecord{{Key: "k", SeenAt: t1, Sources: []string{"log"}}}},
			{"the same key twice in one batch", [][]reconcile.KeyRecord{
				{{Key: "k", Sources: []string{"log"}}, {Key: "k", ChargeID: "ch_3", Sources: []string{"metadata"}}}},
				[]reconcile.KeyRecord{{Key: "k", ChargeID: "ch_3", Sources: []string{"log", "metadata"}}}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := d.open(t)
				for _, batch := range tt.batches {
					if err := s.SaveKeys(ctx, batch); err != nil {
						t.Fatal(err)
					}
				}
				in, err := s.LoadInput(ctx)
				if err != nil {
					t.Fatal(err)
				}
				slices.SortFunc(in.Keys, func(a, b reconcile.KeyRecord) int { return strings.Compare(a.ChargeID, b.ChargeID) })
				if !reflect.DeepEqual(in.Keys, tt.want) {
					t.Errorf("keys = %+v, want %+v", in.Keys, tt.want)
				}
			})
		}
	})
}

func TestDecisionsRoundTripInOrder(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		decisions := []reconcile.Decision{
			{GroupID: "g1", Kind: reconcile.DecisionDismissed, Operator: "ann", At: baseTime, Note: "same customer buys twice daily", Charges: []string{"ch_1", "ch_9"}},
			{GroupID: "g1", Kind: reconcile.DecisionUndismissed, Operator: "bob", At: baseTime.Add(time.Minute)},
			{GroupID: "g2", ChargeID: "ch_2", Kind: "would_refund", Operator: "ann", At: baseTime.Add(-time.Hour)},
		}
		if err := s.RecordDecisions(ctx, decisions[:1]); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordDecisions(ctx, decisions[1:]); err != nil {
			t.Fatal(err)
		}
		in, err := s.LoadInput(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in.Decisions, decisions) {
			t.Errorf("decisions = %+v\nwant %+v", in.Decisions, decisions)
		}

		before := time.Now()
		if err := s.RecordDecisions(ctx, []reconcile.Decision{{GroupID: "g3", Kind: reconcile.DecisionDismissed}}); err != nil {
			t.Fatal(err)
		}
		in, _ = s.LoadInput(ctx)
		if at := in.Decisions[len(in.Decisions)-1].At; at.Before(before) {
			t.Errorf("a decision without a time got %v, want now", at)
		}
		// A batch with one bad decision stores none of them: marked groups are
		// dismissed together or not at all.
		stored := len(in.Decisions)
		for _, bad := range []reconcile.Decision{{Kind: reconcile.DecisionDismissed}, {GroupID: "g1"}} {
			batch := []reconcile.Decision{{GroupID: "g4", Kind: reconcile.DecisionDismissed}, bad}
			if err := s.RecordDecisions(ctx, batch); err == nil {
				t.Errorf("RecordDecisions with %+v succeeded", bad)
			}
		}
		if in, _ = s.LoadInput(ctx); len(in.Decisions) != stored {
			t.Errorf("a failed batch stored %d decisions", len(in.Decisions)-stored)
		}
	})
}

func TestDecodeMetadataMatchesEncodingJSON(t *testing.T) {
	inputs := []string{
		`{"order_id":"o-1"}`, `{"a":"1","b":"2","c":""}`, `{}`, `{"":""}`,
		`{"k":"caf\u00e9"}`, `{"k":"café ☕"}`, `{"q":"a \"b\""}`, `{"a": "spaced"}`,
		`{"a":"1",}`, `{"a":"1"`, `{"a":1}`, `{"a":"x","a":"y"}`, "{\"a\":\"\x01\"}", `{"a":"1""b":"2"}`,
		`{"a":"1",,"b":"2"}`, `{"a":"1"} `, `["a"]`, `{"\u003c":"\u0026"}`, "{\"a\":\"\xff\"}",
	}
	for _, in := range inputs {
		var want map[string]string
		wantErr := json.Unmarshal([]byte(in), &want)
		got, err := decodeMetadata(in)
		if (err != nil) != (wantErr != nil) {
			t.Errorf("decodeMetadata(%q) error = %v, encoding/json says %v", in, err, wantErr)
			continue
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("decodeMetadata(%q) = %v, encoding/json gives %v", in, got, want)
		}
	}
}

func FuzzDecodeMetadata(f *testing.F) {
	for _, seed := range []string{`{"order_id":"o-1"}`, `{"a":"1","b":"2"}`, `{"a":"\"x\""}`, `{}`, `{"a":"1",}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var want map[string]string
		wantErr := json.Unmarshal([]byte(in), &want)
		got, err := decodeMetadata(in)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("decodeMetadata(%q) error = %v, encoding/json says %v", in, err, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeMetadata(%q) = %v, encoding/json gives %v", in, got, want)
		}
	})
}

func TestLoadInputManyCharges(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		const n = 20_000 // several load chunks
		want := fakeCharges(0, n, false)
		if err := s.SaveCharges(ctx, want); err != nil {
			t.Fatal(err)
		}
		in, err := s.LoadInput(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(in.Charges, func(i, j int) bool { return in.Charges[i].ID < in.Charges[j].ID })
		for i := range want {
			want[i].Provider = reconcile.ProviderStripe // a charge without a provider is Stripe's
		}
		if !reflect.DeepEqual(in.Charges, want) { // fakeCharge ids sort in creation order
			t.Errorf("loaded charges differ from the saved ones (%d loaded, %d saved)", len(in.Charges), len(want))
		}
	})
}
