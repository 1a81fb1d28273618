package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// factsWorld fills s with charges that share nothing (most of them) and a few
// that make every kind of group and finding, with key records, requests and
// Checkout Sessions naming both kinds.
func factsWorld(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	charges := fakeCharges(0, 2000, false)
	at := baseTime.Add(-24 * time.Hour)
	extra := func(id string, after time.Duration, customer, pi string, metadata map[string]string) reconcile.Charge {
		return reconcile.Charge{ID: id, Created: at.Add(after), Amount: 2500, Currency: "usd", Status: "succeeded",
			Captured: true, Customer: customer, PaymentIntent: pi, Metadata: metadata, Observed: baseTime}
	}
	charges = append(charges,
		extra("ch_dup1", 0, "cus_dup", "pi_dup1", nil), // the same customer twice within the window
		extra("ch_dup2", time.Minute, "cus_dup", "pi_dup2", nil),
		extra("ch_key1", time.Hour, "", "pi_key1", map[string]string{"idempotency_key": "k-shared"}),
		extra("ch_key2", 3*time.Hour, "", "pi_key2", nil), // its key record carries k-shared
		extra("ch_ord1", 5*time.Hour, "", "pi_ord1", map[string]string{"order_id": "cart-9"}),
		extra("ch_ord2", 7*time.Hour, "", "pi_ord2", nil), // its Checkout Session's cart is cart-9
		extra("ch_conf", 9*time.Hour, "", "pi_conf", nil), // confirmed with a key, created without
	)
	keys := []reconcile.KeyRecord{
		{Key: "k-shared", ChargeID: "ch_key2", Sources: []string{reconcile.SourceLog}, SeenAt: at},
		{Key: "k-lone", ChargeID: charges[7].ID, Sources: []string{reconcile.SourceEvent}, SeenAt: at},
		{Key: "k-conf", ChargeID: "ch_conf", Sources: []string{reconcile.SourceEvent}, SeenAt: at},
		{Key: "k-nothing", ChargeID: "ch_never_stored", Sources: []string{reconcile.SourceLog}, SeenAt: at},
	}
	obs := reconcile.Observations{
		Requests: []reconcile.RequestRecord{
			{Object: charges[11].PaymentIntent, Key: "k-create", SeenAt: at},
			{Object: "pi_conf", Key: "", SeenAt: at},
		},
		Checkouts: []reconcile.CheckoutRecord{{Session: "cs_1", PaymentIntent: "pi_ord2", ClientReferenceID: "cart-9", CompletedAt: at}},
	}
	if err := s.SaveSyncBatch(ctx, charges, keys, obs, nil); err != nil {
		t.Fatal(err)
	}
}

// checkNarrowedLoad fails unless detection over LoadForDetection reports what
// it reports over LoadInput, with most charges left unloaded.
func checkNarrowedLoad(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	opts := reconcile.DefaultOptions()
	full, err := s.LoadInput(ctx)
	if err != nil {
		t.Fatal(err)
	}
	narrow, err := s.LoadForDetection(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if narrow.Unloaded.Charges == 0 || len(narrow.Charges)+narrow.Unloaded.Charges != len(full.Charges) || len(narrow.Charges) > 20 {
		t.Fatalf("LoadForDetection loaded %d charges and tallied %d of %d; want a few loaded, the rest tallied",
			len(narrow.Charges), narrow.Unloaded.Charges, len(full.Charges))
	}
	want, got := reconcile.Detect(full, opts), reconcile.Detect(narrow, opts)
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("detection over the narrowed load differs:\n%+v\nwant\n%+v", got.Summary, want.Summary)
	}
	if len(want.Groups) != 3 {
		t.Fatalf("%d groups, want 3 (customer, key, order)", len(want.Groups))
	}
}

func TestLoadForDetectionMatchesFullLoad(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		s := d.open(t)
		factsWorld(t, s)
		checkNarrowedLoad(t, s)
	})
}

// A store from before the facts column gets every charge's facts when it is
// opened for writing.
func TestMigrationBackfillsFacts(t *testing.T) {
	ctx := context.Background()
	path := testDialects[0].location(t) // SQLite: the test drops a column in place
	s := openAt(t, path)
	factsWorld(t, s)
	for _, stmt := range []string{`DROP INDEX charges_facts`, `ALTER TABLE charges DROP COLUMN facts`, `DELETE FROM schema_version WHERE version = 6`} {
		if _, err := s.writer.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	checkNarrowedLoad(t, openAt(t, path))
}

func TestDecodeFactsChunkRefusesBadRecords(t *testing.T) {
	f, err := encodeFacts(reconcile.ChargeFacts{Created: 7, Class: 1, ID: 2}, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		facts string
		ids   string
		ok    bool
	}{
		{"whole", string(f), "ch_ab", true},
		{"ids short", string(f), "ch_a", false},
		{"ids long", string(f), "ch_abc", false},
		{"no id length", string(f[:41]) + "\x00\x00", "", false},
		{"cut short", string(f[:30]), "ch_ab", false},
	} {
		var cf chargeFacts
		err := cf.decodeChunk(tc.facts, tc.ids)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if tc.ok && (len(cf.facts) != 1 || cf.facts[0].Created != 7 || cf.facts[0].ID != 2 || cf.id(0) != "ch_ab") {
			t.Errorf("%s: decoded %+v, id %q", tc.name, cf.facts, cf.id(0))
		}
	}
	if _, err := encodeFacts(reconcile.ChargeFacts{}, 1<<16); err == nil {
		t.Error("encodeFacts took an id too long to store its length")
	}
}
