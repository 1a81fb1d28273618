package store

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"strings"
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
		extra("ch_conf2", 10*time.Hour, "", "pi_conf2", nil),
		// Ids whose byte order (upper case first) is not a dictionary's.
		extra("ch_B", 11*time.Hour, "", "pi_B", nil),
		extra("ch_a", 13*time.Hour, "", "pi_a", nil),
	)
	keys := []reconcile.KeyRecord{
		{Key: "k-shared", ChargeID: "ch_key2", Sources: []string{reconcile.SourceLog}, SeenAt: at},
		{Key: "k-lone", ChargeID: charges[7].ID, Sources: []string{reconcile.SourceEvent}, SeenAt: at},
		{Key: "k-conf", ChargeID: "ch_conf", Sources: []string{reconcile.SourceEvent}, SeenAt: at},
		{Key: "k-conf2", ChargeID: "ch_conf2", Sources: []string{reconcile.SourceEvent}, SeenAt: at},
		{Key: "k-nothing", ChargeID: "ch_never_stored", Sources: []string{reconcile.SourceLog}, SeenAt: at},
		{Key: "k-logged", ChargeID: "", Sources: []string{reconcile.SourceLog}, SeenAt: at}, // a key that never charged
		{Key: "k-second", ChargeID: "ch_key2", Sources: []string{reconcile.SourceEvent}, SeenAt: at},
		{Key: "k-upper", ChargeID: "ch_B", Sources: []string{reconcile.SourceEvent}, SeenAt: at},
		{Key: "k-lower", ChargeID: "ch_a", Sources: []string{reconcile.SourceLog, reconcile.SourceEvent}, SeenAt: at},
	}
	obs := reconcile.Observations{
		Requests: []reconcile.RequestRecord{
			{Object: charges[11].PaymentIntent, Key: "k-create", SeenAt: at},
			{Object: "pi_conf", Key: "", SeenAt: at},
			{Object: "pi_conf2", Key: "", SeenAt: at},
			{Object: "pi_dup2", Key: "k-dup2", SeenAt: at}, // a grouped charge's create request
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
		// Few records against the picked charges: every record is read.
		checkNarrowedLoad(t, s)
		// A record of every charge: those of the picked ones are looked up.
		full, err := s.LoadInput(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var keys []reconcile.KeyRecord
		for _, c := range full.Charges {
			keys = append(keys, reconcile.KeyRecord{Key: "k-every-" + c.ID, ChargeID: c.ID, Sources: []string{reconcile.SourceLog}, SeenAt: baseTime})
		}
		if err := s.SaveKeys(context.Background(), keys); err != nil {
			t.Fatal(err)
		}
		checkNarrowedLoad(t, s)
	})
}

// The key records join the charges in byte order of their ids whatever
// collation PostgreSQL's columns have: with a dictionary's, a join in the
// columns' order would find the records out of order.
func TestNarrowedLoadJoinsInByteOrder(t *testing.T) {
	s := testDialects[1].open(t)
	ctx := context.Background()
	var icu bool
	if err := s.reader.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu')`).Scan(&icu); err != nil {
		t.Fatal(err)
	}
	if !icu {
		t.Skip("this PostgreSQL has no ICU collations")
	}
	if _, err := s.writer.ExecContext(ctx, `ALTER TABLE key_records ALTER COLUMN charge_id TYPE TEXT COLLATE "und-x-icu",
		ALTER COLUMN key TYPE TEXT COLLATE "und-x-icu"`); err != nil {
		t.Fatal(err)
	}
	factsWorld(t, s)
	checkNarrowedLoad(t, s)
}

// A key record holding the separator of the chunks records are read in
// cannot be read that way: detection then reads everything, and still
// reports the same.
func TestRecordSeparatorInAKeyLoadsEverything(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		factsWorld(t, s)
		if err := s.SaveKeys(ctx, []reconcile.KeyRecord{{Key: "k\x1fsplit", ChargeID: "ch_dup1", Sources: []string{reconcile.SourceLog}, SeenAt: baseTime}}); err != nil {
			t.Fatal(err)
		}
		full, err := s.LoadInput(ctx)
		if err != nil {
			t.Fatal(err)
		}
		narrow, err := s.LoadForDetection(ctx, reconcile.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if narrow.Unloaded.Charges != 0 || len(narrow.Charges) != len(full.Charges) || len(narrow.Keys) != len(full.Keys) {
			t.Fatalf("loaded %d charges and %d key records, tallied %d; want all %d and %d", len(narrow.Charges), len(narrow.Keys),
				narrow.Unloaded.Charges, len(full.Charges), len(full.Keys))
		}
		opts := reconcile.DefaultOptions()
		if want, got := reconcile.Detect(full, opts), reconcile.Detect(narrow, opts); !reflect.DeepEqual(want, got) {
			t.Fatalf("detection differs:\n%+v\nwant\n%+v", got.Summary, want.Summary)
		}
	})
}

// A store from before the facts column gets every charge's facts when it is
// opened for writing.
func TestMigrationBackfillsFacts(t *testing.T) {
	ctx := context.Background()
	path := testDialects[0].location(t) // SQLite: the test drops a column in place
	s := openAt(t, path)
	factsWorld(t, s)
	for _, stmt := range []string{`DROP INDEX key_records_by_charge`, `DROP INDEX checkout_sessions_by_intent`, `DROP INDEX charges_facts`, `ALTER TABLE charges DROP COLUMN facts`,
		`ALTER TABLE charges RENAME COLUMN detect_record TO load_record`, `DELETE FROM schema_version WHERE version >= 6`} {
		if _, err := s.writer.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	checkNarrowedLoad(t, openAt(t, path))
}

// A doublecheck from before the facts that is still running cannot write a
// charge without them: its statements name a column migration 6 renamed.
func TestWritesOfAnOlderReleaseFail(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		c := fakeCharge(1, false)
		args, _, err := appendChargeArgs(nil, nil, &c)
		if err != nil {
			t.Fatal(err)
		}
		args = args[:len(args)-1] // no facts
		columns := strings.Replace(chargeColumns, "detect_record, facts", "load_record", 1)
		upsert := strings.Replace(strings.ReplaceAll(chargeUpsert, "detect_record", "load_record"), ", facts = excluded.facts", "", 1)
		_, err = s.writer.ExecContext(ctx, `INSERT INTO charges (`+columns+`) VALUES (?`+strings.Repeat(", ?", len(args)-1)+`)`+upsert, args...)
		if err == nil || !strings.Contains(err.Error(), "load_record") {
			t.Fatalf("an older release's upsert: %v, want it refused for naming load_record", err)
		}
	})
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
		{"no such provider", string(f[:40]) + "\xf0" + string(f[41:]), "ch_ab", false},
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

// TestFactsEncodingIsPinned pins what the facts column holds for a charge.
// Stores keep these bytes: if this test fails because FactsOf, its hash or
// encodeFacts changed, bump factsVersion (stores then recompute their facts)
// and update the bytes here.
func TestFactsEncodingIsPinned(t *testing.T) {
	c := reconcile.Charge{ID: "ch_1", Created: time.Unix(1788220800, 0).UTC(), Amount: 2500, Currency: "usd",
		Status: "succeeded", Captured: true, Customer: "cus_1", Email: " A@Example.com", CardFingerprint: "fp_1",
		PaymentIntent: "pi_1", Provider: reconcile.ProviderPayPal, Livemode: true,
		Metadata: map[string]string{"order_id": "o-1", "idempotency_key": "k-1"}}
	f := reconcile.FactsOf(&c)
	got, err := encodeFacts(f, len(c.ID))
	if err != nil {
		t.Fatal(err)
	}
	// The hash is FNV-1a, 32 bits, as the comment of factHash says.
	h := fnv.New32a()
	h.Write([]byte("ch_1"))
	if f.ID != h.Sum32() || f.Created != 1788220800*1e9 {
		t.Fatalf("facts %+v: id hash %#x, want FNV-1a's %#x; created %d", f, f.ID, h.Sum32(), f.Created)
	}
	const want = "0000f7db5709d11873dd36f6c2001155b70545f4b15fe655686390f59c69a0a0f6a102d19293874c070400"
	if hex := fmt.Sprintf("%x", got); hex != want {
		t.Fatalf("facts %s, want %s (see the comment)", hex, want)
	}
}

// A store whose facts another version wrote reads every charge until a
// command that writes opens it and recomputes them.
func TestOtherFactsVersionIsRecomputed(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		location := d.location(t)
		s, err := Open(ctx, location)
		if err != nil {
			t.Fatal(err)
		}
		factsWorld(t, s)
		stored, err := s.LoadInput(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Facts that say every charge is alone, written by "version 0".
		if _, err := s.writer.ExecContext(ctx, `UPDATE charges SET facts = ? WHERE id = ?`, mustFacts(t, reconcile.ChargeFacts{Created: 1}, "ch_dup2"), "ch_dup2"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetState(ctx, stateFactsVersion, "0"); err != nil {
			t.Fatal(err)
		}
		s.Close()

		ro, err := OpenReadOnly(ctx, location)
		if err != nil {
			t.Fatal(err)
		}
		in, err := ro.LoadForDetection(ctx, reconcile.DefaultOptions())
		ro.Close()
		if err != nil || in.Unloaded.Charges != 0 || len(in.Charges) != len(stored.Charges) || len(in.Keys) != len(stored.Keys) {
			t.Fatalf("read-only load of other-version facts: %d charges and %d key records loaded, %d tallied, %v; want all %d and %d",
				len(in.Charges), len(in.Keys), in.Unloaded.Charges, err, len(stored.Charges), len(stored.Keys))
		}
		s2, err := Open(ctx, location)
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		checkNarrowedLoad(t, s2)
	})
}

func mustFacts(t *testing.T, f reconcile.ChargeFacts, id string) []byte {
	t.Helper()
	b, err := encodeFacts(f, len(id))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readRows pages through a table loadChunk rows at a time: every row is read
// once, at and around the chunk boundaries, with ids whose byte order is not
// a dictionary's.
func TestReadRowsPagesEveryRow(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		s := d.open(t)
		var stored []reconcile.RequestRecord
		for _, n := range []int{loadChunk - 1, loadChunk, loadChunk + 1, 2*loadChunk + 7} {
			var add []reconcile.RequestRecord
			for i := len(stored); i < n; i++ {
				object := fmt.Sprintf("pi_%05d", i)
				if i%2 == 1 {
					object = fmt.Sprintf("PI_%05d", i) // upper case sorts first in byte order
				}
				add = append(add, reconcile.RequestRecord{Object: object, Key: fmt.Sprintf("k-%d", i%3), SeenAt: baseTime})
			}
			if err := s.SaveSyncBatch(ctx, nil, nil, reconcile.Observations{Requests: add}, nil); err != nil {
				t.Fatal(err)
			}
			stored = append(stored, add...)
			tx, err := s.reader.BeginTx(ctx, s.d.snapshot())
			if err != nil {
				t.Fatal(err)
			}
			got, err := readRequestFacts(ctx, tx)
			tx.Rollback()
			if err != nil {
				t.Fatal(err)
			}
			want := make([]reconcile.RequestFacts, len(stored))
			for i := range stored {
				want[i] = reconcile.RequestFactsOf(&stored[i])
			}
			byValue := func(a, b reconcile.RequestFacts) int {
				return cmp.Or(cmp.Compare(a.Object, b.Object), cmp.Compare(a.Key, b.Key))
			}
			slices.SortFunc(got, byValue)
			slices.SortFunc(want, byValue)
			if !slices.Equal(got, want) {
				t.Fatalf("%d requests stored, %d read, or not the same ones", len(want), len(got))
			}
		}
	})
}
