package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// smallImportRuns makes an import's sorted runs a few records long for the
// test, so that records of one charge meet from different runs.
func smallImportRuns(t *testing.T) {
	before := importRunBytes
	importRunBytes = 16 << 10 // about ten charges with raw JSON
	t.Cleanup(func() { importRunBytes = before })
}

// TestImportChargesRepeatsAndConflicts: an import stores each charge of a file
// once, counts repeats with the same digest wherever they are in the file (in
// one run or runs apart), and refuses a repeat with another digest naming
// both lines, leaving the store as it was.
func TestImportChargesRepeatsAndConflicts(t *testing.T) {
	smallImportRuns(t)
	forEachDialect(t, func(t *testing.T, d testDialect) {
		const batch = 500
		const n = 3*batch + 7 // many runs and a partial one
		type repeat struct {
			of, at int  // charge `of` comes again after record `at`
			other  bool // with another digest
		}
		for _, tc := range []struct {
			name         string
			repeats      []repeat
			wantRepeated int
			wantErr      []string
		}{
			{"distinct", nil, 0, nil},
			{"repeats in one run and runs apart", []repeat{{of: 3, at: 5}, {of: 3, at: 6}, {of: 10, at: 2 * batch}, {of: n - 1, at: n - 1}}, 4, nil},
			{"conflict in the same run", []repeat{{of: 1, at: 2, other: true}}, 0, []string{"f.jsonl line 4", "charge ch_import_1 is also on line 2, with different contents"}},
			{"conflict runs apart", []repeat{{of: 7, at: 2*batch + 1, other: true}}, 0,
				[]string{"f.jsonl line 1003", "charge ch_import_7 is also on line 8"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := d.open(t)
				ctx := context.Background()
				before := fakeCharges(0, 3, true)
				if err := s.SaveCharges(ctx, before); err != nil {
					t.Fatal(err)
				}
				charge := func(i int) reconcile.Charge {
					c := fakeCharge(i, true)
					c.ID = "ch_import_" + strconv.Itoa(i)
					return c
				}
				var stored, repeated int
				err := s.ImportCharges(ctx, func(imp *ChargeImport) error {
					line := 0
					add := func(i int, digest byte) error {
						line++
						return imp.Add(charge(i), reconcile.Place{File: "f.jsonl", Line: line, Element: -1}, [16]byte{digest})
					}
					for i := range n {
						if err := add(i, 1); err != nil {
							return err
						}
						for _, r := range tc.repeats {
							if r.at != i {
								continue
							}
							digest := byte(1)
							if r.other {
								digest = 2
							}
							if err := add(r.of, digest); err != nil {
								return err
							}
						}
					}
					var err error
					stored, repeated, err = imp.Counts()
					return err
				})
				got := countRows(t, s)["charges"]
				if tc.wantErr != nil {
					if err == nil {
						t.Fatal("imported, want an error")
					}
					for _, w := range tc.wantErr {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("error %q lacks %q", err, w)
						}
					}
					if got != len(before) {
						t.Errorf("a refused import left %d charges, want the %d stored before", got, len(before))
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if stored != n || repeated != tc.wantRepeated || got != len(before)+n {
					t.Errorf("stored %d, repeated %d, store holds %d; want %d, %d, %d", stored, repeated, got, n, tc.wantRepeated, len(before)+n)
				}
			})
		}
	})
}

// TestImportChargesSameRecords: records of one charge whose digests differ
// are repeats when the import's SameRecords says so, given the first record's
// raw JSON and the later one's, and the first is stored; otherwise, or when
// either has no raw JSON, they refuse the file. Runs are small, so records
// also meet across runs.
func TestImportChargesSameRecords(t *testing.T) {
	smallImportRuns(t)
	forEachDialect(t, func(t *testing.T, d testDialect) {
		for _, tc := range []struct {
			name    string
			later   string // the later record's raw JSON; "" for none
			wantErr bool
		}{
			{"written otherwise", `{"ID":"X"}`, false},
			{"other contents", `{"id":"y"}`, true},
			{"no raw JSON", "", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := d.open(t)
				ctx := context.Background()
				var asked [][2]string
				const n = 40
				var repeated int
				err := s.ImportCharges(ctx, func(imp *ChargeImport) error {
					imp.SameRecords(func(a, b []byte) bool {
						asked = append(asked, [2]string{string(a), string(b)})
						return strings.EqualFold(string(a), string(b))
					})
					for i := range n + 1 {
						c, digest := fakeCharge(i%n, true), byte(1)
						c.Raw = []byte(`{"id":"x"}`)
						if i == n { // charge 0 again, many runs later
							c.Raw, digest = []byte(tc.later), 2
						}
						if err := imp.Add(c, reconcile.Place{File: "f.jsonl", Line: i + 1, Element: -1}, [16]byte{digest}); err != nil {
							return err
						}
					}
					var err error
					_, repeated, err = imp.Counts()
					return err
				})
				if tc.wantErr {
					if err == nil || !strings.Contains(err.Error(), "is also on line 1, with different contents") {
						t.Fatalf("error %v, want a conflict with line 1", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if repeated != 1 {
					t.Errorf("%d repeats, want 1", repeated)
				}
				if want := [][2]string{{`{"id":"x"}`, tc.later}}; !reflect.DeepEqual(asked, want) {
					t.Errorf("SameRecords was asked %q, want %q", asked, want)
				}
				if raw := rawOf(t, s, fakeCharge(0, true).ID); raw != `{"id":"x"}` {
					t.Errorf("stored raw JSON %q, want the first record's", raw)
				}
			})
		}
	})
}

// TestImportRefusesUnstorableChargesAsAdded: a charge the store cannot hold
// is refused by the Add that stages it, naming its place, so that the first
// such line of a file is the one named (not the one whose id sorts first,
// nor a later line's other problem).
func TestImportRefusesUnstorableChargesAsAdded(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		for _, tc := range []struct {
			name   string
			change func(*reconcile.Charge)
			want   string
		}{
			{"created out of range", func(c *reconcile.Charge) { c.Created = maxTime.Add(time.Hour) }, "created time"},
			{"observed out of range", func(c *reconcile.Charge) { c.Observed = maxTime.Add(time.Hour) }, "observed time"},
			{"unknown provider", func(c *reconcile.Charge) { c.Provider = "square" }, "square"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := d.open(t)
				var added error
				err := s.ImportCharges(context.Background(), func(imp *ChargeImport) error {
					for i, c := range fakeCharges(0, 3, true) {
						if i == 1 {
							tc.change(&c)
						}
						if added = imp.Add(c, reconcile.Place{File: "f.jsonl", Line: i + 1, Element: -1}, [16]byte{}); added != nil {
							return added
						}
					}
					return nil
				})
				if added == nil || !strings.Contains(added.Error(), "f.jsonl line 2") || !strings.Contains(added.Error(), tc.want) {
					t.Fatalf("Add said %v, want line 2 refused for its %s", added, tc.want)
				}
				if err == nil || countRows(t, s)["charges"] != 0 {
					t.Errorf("import returned %v and stored %d charges, want the error and none", err, countRows(t, s)["charges"])
				}
			})
		}
	})
}

// TestImportChargesRollsBack: an error from the function that feeds the import
// leaves nothing of it, and the store takes another import afterwards.
func TestImportChargesRollsBack(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		s := d.open(t)
		ctx := context.Background()
		boom := errors.New("bad line")
		err := s.ImportCharges(ctx, func(imp *ChargeImport) error {
			for i, c := range fakeCharges(0, 1000, true) {
				if err := imp.Add(c, reconcile.Place{File: "f", Line: i + 1, Element: -1}, [16]byte{}); err != nil {
					return err
				}
			}
			if err := imp.SetState("live", "true"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("error %v, want the feeder's", err)
		}
		if rows := countRows(t, s); rows["charges"] != 0 || rows["charge_raw"] != 0 {
			t.Errorf("a rolled back import left %v", rows)
		}
		if v, _ := s.State(ctx, "live"); v != "" {
			t.Errorf("a rolled back import left state %q", v)
		}
		err = s.ImportCharges(ctx, func(imp *ChargeImport) error {
			return imp.Add(fakeCharge(1, true), reconcile.Place{File: "f", Line: 1, Element: -1}, [16]byte{})
		})
		if err != nil || countRows(t, s)["charges"] != 1 {
			t.Errorf("the next import: %v, %d charges; want it stored", err, countRows(t, s)["charges"])
		}
	})
}

// TestImportChargesStoresAsSaveChargesDoes: what an import stores loads back
// field for field, with its raw JSON (none for a charge given without), both
// into a new store (which inserts) and into one holding charges (which
// upserts); against charges already stored the newest observation wins as in
// SaveCharges (ties to the import), raw JSON going with it.
func TestImportChargesStoresAsSaveChargesDoes(t *testing.T) {
	smallImportRuns(t)
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		version := func(id string, refunded int64, observed time.Time, raw string) reconcile.Charge {
			return reconcile.Charge{ID: id, Amount: 1000, AmountRefunded: refunded, Currency: "usd", Status: "succeeded",
				Captured: true, Observed: observed, Raw: []byte(raw), Metadata: map[string]string{"order_id": id}}
		}
		for _, tc := range []struct {
			name   string
			stored []reconcile.Charge
			// newest: of the charges stored, the ones also imported, with
			// what the store holds of them afterwards.
			newest []struct {
				id           string
				wantRefunded int64
				wantRaw      string
			}
		}{
			{name: "into a new store"},
			{name: "into a store holding charges", stored: []reconcile.Charge{
				version("ch_newer_in_store", 1000, t0.Add(time.Hour), `{"v":"store"}`),
				version("ch_older_in_store", 0, t0, `{"v":"store"}`),
				version("ch_tie", 0, t0, `{"v":"store"}`),
			}, newest: []struct {
				id           string
				wantRefunded int64
				wantRaw      string
			}{
				{"ch_newer_in_store", 1000, `{"v":"store"}`},
				{"ch_older_in_store", 500, `{"v":"file"}`},
				{"ch_tie", 300, `{"v":"file"}`},
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := d.open(t)
				if len(tc.stored) > 0 {
					if err := s.SaveCharges(ctx, tc.stored); err != nil {
						t.Fatal(err)
					}
				}
				fresh := append(fakeCharges(0, 2*chunkRows+3, true), // several statements
					fakeCharge(2*chunkRows+3, false)) // no raw JSON
				imported := fresh
				if len(tc.stored) > 0 {
					imported = append(slices.Clone(fresh),
						version("ch_newer_in_store", 0, t0, `{"v":"file"}`),
						version("ch_older_in_store", 500, t0.Add(time.Hour), `{"v":"file"}`),
						version("ch_tie", 300, t0, `{"v":"file"}`))
				}
				err := s.ImportCharges(ctx, func(imp *ChargeImport) error {
					for i, c := range imported {
						if err := imp.Add(c, reconcile.Place{File: "f", Line: i + 1, Element: -1}, [16]byte{byte(i), byte(i >> 8)}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				got := loadedCharges(t, s)
				if len(got) != len(imported) {
					t.Fatalf("the store holds %d charges, want %d", len(got), len(imported))
				}
				for _, c := range fresh {
					want := c
					want.Raw = nil
					want.Provider = reconcile.ProviderStripe // a charge without a provider is Stripe's
					if !reflect.DeepEqual(got[c.ID], want) {
						t.Fatalf("charge %s loads as\n%+v\nwant\n%+v", c.ID, got[c.ID], want)
					}
					if raw := rawOf(t, s, c.ID); raw != string(c.Raw) {
						t.Fatalf("charge %s raw JSON %q, want %q", c.ID, raw, c.Raw)
					}
				}
				for _, n := range tc.newest {
					if r := got[n.id].AmountRefunded; r != n.wantRefunded {
						t.Errorf("%s: amount refunded %d, want %d", n.id, r, n.wantRefunded)
					}
					if raw := rawOf(t, s, n.id); raw != n.wantRaw {
						t.Errorf("%s: raw JSON %s, want %s", n.id, raw, n.wantRaw)
					}
				}
			})
		}
	})
}

// TestImportChargesCountsOnce: the error of Counts (a conflict found while
// the charges are written) is the import's even when fn ignores it, so none
// of the charges written before it is kept; a charge added after Counts is
// refused, not lost.
func TestImportChargesCountsOnce(t *testing.T) {
	smallImportRuns(t)
	forEachDialect(t, func(t *testing.T, d testDialect) {
		ctx := context.Background()
		place := func(line int) reconcile.Place { return reconcile.Place{File: "f.jsonl", Line: line, Element: -1} }
		for _, tc := range []struct {
			name    string
			fn      func(imp *ChargeImport) error
			wantErr string
		}{
			{"a conflict ignored by fn", func(imp *ChargeImport) error {
				charges := fakeCharges(0, 3*chunkRows, true) // chunks written before the conflict is met
				for i, c := range charges {
					if err := imp.Add(c, place(i+1), [16]byte{1}); err != nil {
						return err
					}
				}
				last := charges[len(charges)-1]
				if err := imp.Add(last, place(len(charges)+1), [16]byte{2}); err != nil {
					return err
				}
				imp.Counts() // its error ignored
				return nil
			}, "is also on line"},
			{"a charge added after Counts", func(imp *ChargeImport) error {
				if err := imp.Add(fakeCharge(1, true), place(1), [16]byte{1}); err != nil {
					return err
				}
				if _, _, err := imp.Counts(); err != nil {
					return err
				}
				return imp.Add(fakeCharge(2, true), place(2), [16]byte{1})
			}, "f.jsonl line 2: the import's charges were already written"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := d.open(t)
				err := s.ImportCharges(ctx, tc.fn)
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				if rows := countRows(t, s); rows["charges"] != 0 || rows["charge_raw"] != 0 {
					t.Errorf("a refused import left %v", rows)
				}
			})
		}
	})
}

// Ctrl-C (main.go's NotifyContext) cancels ctx while the file is read: the
// import stops there instead of staging the rest of the file.
func TestImportStopsWhenCancelled(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	staged := 0
	err := s.ImportCharges(ctx, func(imp *ChargeImport) error {
		cancel()
		for i, c := range fakeCharges(0, 5000, true) {
			if err := imp.Add(c, reconcile.Place{File: "f.jsonl", Line: i + 1, Element: -1}, [16]byte{1}); err != nil {
				return err
			}
			staged++
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || staged > 0 || countRows(t, s)["charges"] != 0 {
		t.Fatalf("cancelled import: %d charges staged, %v; want none and context.Canceled", staged, err)
	}
}

// A text value holding U+0000 cannot go into a PostgreSQL store: the import
// refuses it naming its line, before anything is written; SQLite keeps it.
func TestImportNULNamesItsLine(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		s := d.open(t)
		err := s.ImportCharges(context.Background(), func(imp *ChargeImport) error {
			for i, c := range fakeCharges(0, 120, true) {
				if i == 77 {
					c.Description = "Order\x00 77"
				}
				if err := imp.Add(c, reconcile.Place{File: "f.jsonl", Line: i + 1, Element: -1}, [16]byte{1}); err != nil {
					return err
				}
			}
			_, _, err := imp.Counts()
			return err
		})
		if d.name == "postgres" {
			if err == nil || !strings.Contains(err.Error(), "f.jsonl line 78") || !strings.Contains(err.Error(), "description") || countRows(t, s)["charges"] != 0 {
				t.Fatalf("import with a NUL on PostgreSQL: %v, %d charges; want it refused naming line 78 and its description, nothing stored", err, countRows(t, s)["charges"])
			}
			return
		}
		if err != nil || countRows(t, s)["charges"] != 120 {
			t.Fatalf("import with a NUL on SQLite: %v", err)
		}
	})
}

// TestImportJournal: an import into a store without charges that no other
// connection has open writes through a rollback journal (the journal file is
// there once it wrote); with another connection reading the store, or into a
// store holding charges, it writes through the log (WAL) as before. Either
// way every charge is stored and the store is back in WAL mode afterwards.
func TestImportJournal(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		holding     bool // the store holds charges before the import
		openReader  bool // another connection has the store open
		wantJournal bool
	}{
		{name: "a new store", wantJournal: true},
		{name: "a new store another connection reads", openReader: true},
		{name: "a store holding charges", holding: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.db")
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			before := 0
			if tc.holding {
				before = 3
				if err := s.SaveCharges(ctx, fakeCharges(10000, before, true)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.openReader {
				other, err := OpenReadOnly(ctx, path)
				if err != nil {
					t.Fatal(err)
				}
				defer other.Close()
				if _, _, err := other.Mode(ctx); err != nil { // its connection stays open
					t.Fatal(err)
				}
			}
			var journal bool
			err = s.ImportCharges(ctx, func(imp *ChargeImport) error {
				for i, c := range fakeCharges(0, 3*chunkRows, true) {
					if err := imp.Add(c, reconcile.Place{File: "f", Line: i + 1, Element: -1}, [16]byte{1}); err != nil {
						return err
					}
				}
				if _, _, err := imp.Counts(); err != nil {
					return err
				}
				_, err := os.Stat(path + "-journal")
				journal = err == nil
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if journal != tc.wantJournal {
				t.Errorf("the import wrote through a rollback journal: %v, want %v", journal, tc.wantJournal)
			}
			var mode string
			if err := s.reader.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
				t.Errorf("journal mode after the import: %q, %v; want wal", mode, err)
			}
			if n := countRows(t, s)["charges"]; n != before+3*chunkRows {
				t.Errorf("the store holds %d charges, want %d", n, before+3*chunkRows)
			}
		})
	}
}

// TestImportMode: an import reads the store's mode in its transaction, as
// it was before the import wrote anything, and refuses to read it once the
// charges are written (it would see their modes).
func TestImportMode(t *testing.T) {
	ctx := context.Background()
	live := fakeCharges(100, 2, true)
	for i := range live {
		live[i].Livemode = true
	}
	for _, tc := range []struct {
		name      string
		stored    []reconcile.Charge
		state     string
		wantLive  bool
		wantKnown bool
	}{
		{name: "a new store"},
		{name: "a store of live charges", stored: live, wantLive: true, wantKnown: true},
		{name: "a store whose mode is recorded", state: "false", wantKnown: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			if len(tc.stored) > 0 {
				if err := s.SaveCharges(ctx, tc.stored); err != nil {
					t.Fatal(err)
				}
			}
			if tc.state != "" {
				if err := s.SetState(ctx, StateLivemode, tc.state); err != nil {
					t.Fatal(err)
				}
			}
			err := s.ImportCharges(ctx, func(imp *ChargeImport) error {
				live, known, err := imp.Mode()
				if err != nil || live != tc.wantLive || known != tc.wantKnown {
					t.Errorf("Mode = %v, %v, %v; want %v, %v", live, known, err, tc.wantLive, tc.wantKnown)
				}
				c := fakeCharge(1, true)
				c.Livemode = !tc.wantLive
				if err := imp.Add(c, reconcile.Place{File: "f", Line: 1, Element: -1}, [16]byte{1}); err != nil {
					return err
				}
				if _, _, err := imp.Counts(); err != nil {
					return err
				}
				if _, _, err := imp.Mode(); !errors.Is(err, errModeAfterCounts) {
					t.Errorf("Mode after Counts: %v, want it refused", err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Another process opening a new store while an import writes into it through
// a rollback journal waits for it (busyTimeout), then is told the store is
// busy, not that it is damaged.
func TestOpenDuringImportIsBusy(t *testing.T) {
	before := importCacheKiB
	importCacheKiB = 256 // pages are written, and the store locked, before the commit
	t.Cleanup(func() { importCacheKiB = before })
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.ImportCharges(ctx, func(imp *ChargeImport) error {
		// Before any page is written the import holds the lock a writable
		// open needs to turn the log back on.
		if other, err := Open(ctx, path); err == nil {
			other.Close()
			t.Error("a writable open before the import wrote anything succeeded; want the store busy")
		} else if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "another doublecheck process is writing to the store") {
			t.Errorf("writable open before the import wrote anything: %v; want the store busy", err)
		}
		for i, c := range fakeCharges(0, 2000, true) {
			if err := imp.Add(c, reconcile.Place{File: "f", Line: i + 1, Element: -1}, [16]byte{1}); err != nil {
				return err
			}
		}
		if _, _, err := imp.Counts(); err != nil {
			return err
		}
		for name, open := range map[string]func(context.Context, string) (*Store, error){"read-only": OpenReadOnly, "writable": Open} {
			other, err := open(ctx, path)
			if err == nil {
				other.Close()
			}
			if !errors.Is(err, ErrBusy) || errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "another doublecheck process is writing to the store") {
				t.Errorf("%s open during the import: %v; want the store busy", name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// On PostgreSQL an import into a store without charges meets a sync that
// writes some of the same charges meanwhile (nothing locks at BEGIN there):
// it still upserts, and both land.
func TestPostgresImportBesideAWrite(t *testing.T) {
	url := testDialects[1].location(t)
	ctx := context.Background()
	a, b := openAt(t, url), openAt(t, url)
	inTx, goOn := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- a.ImportCharges(ctx, func(imp *ChargeImport) error {
			close(inTx)
			<-goOn
			for i, c := range fakeCharges(0, 100, true) {
				if err := imp.Add(c, reconcile.Place{File: "f", Line: i + 1, Element: -1}, [16]byte{byte(i)}); err != nil {
					return err
				}
			}
			_, _, err := imp.Counts()
			return err
		})
	}()
	<-inTx
	if err := b.SaveCharges(ctx, fakeCharges(50, 1, true)); err != nil {
		t.Fatal(err)
	}
	close(goOn)
	if err := <-errc; err != nil {
		t.Fatalf("import beside a write of one of its charges: %v", err)
	}
	in, err := b.LoadInput(ctx)
	if err != nil || len(in.Charges) != 100 {
		t.Fatalf("%d charges stored (%v), want 100", len(in.Charges), err)
	}
}

// On PostgreSQL two first imports of different modes cannot both land: the
// second reads the store's mode only once the first has committed.
func TestPostgresImportsOfTwoModes(t *testing.T) {
	url := testDialects[1].location(t)
	ctx := context.Background()
	a, b := openAt(t, url), openAt(t, url)
	errOtherMode := errors.New("the store has the other mode")
	importMode := func(s *Store, live bool, from int, read chan<- struct{}, goOn <-chan struct{}) error {
		return s.ImportCharges(ctx, func(imp *ChargeImport) error {
			storeLive, known, err := imp.Mode()
			if err != nil {
				return err
			}
			if read != nil {
				close(read)
				<-goOn
			}
			for i, c := range fakeCharges(from, 10, true) {
				c.Livemode = live
				if err := imp.Add(c, reconcile.Place{File: "f", Line: i + 1, Element: -1}, [16]byte{byte(i)}); err != nil {
					return err
				}
			}
			if _, _, err := imp.Counts(); err != nil {
				return err
			}
			if known {
				if storeLive != live {
					return errOtherMode
				}
				return nil
			}
			return imp.SetState(StateLivemode, strconv.FormatBool(live))
		})
	}
	read, goOn := make(chan struct{}), make(chan struct{})
	errA, errB := make(chan error, 1), make(chan error, 1)
	go func() { errA <- importMode(a, true, 0, read, goOn) }()
	<-read
	go func() { errB <- importMode(b, false, 1000, nil, nil) }()
	// Give the second import the time to run whole, as it did when it did
	// not wait; the outcome, not the timing, is what is checked.
	select {
	case err := <-errB:
		errB <- err
	case <-time.After(2 * time.Second):
	}
	close(goOn)
	if err := <-errA; err != nil {
		t.Fatalf("the first import: %v", err)
	}
	if err := <-errB; !errors.Is(err, errOtherMode) {
		t.Fatalf("the second import, of the other mode: %v; want it refused", err)
	}
	if live, test, err := b.ChargeModes(ctx); err != nil || !live || test {
		t.Fatalf("the store holds live %v, test %v charges (%v); want live only", live, test, err)
	}
}

// A first import through a rollback journal commits after a reader that
// opened the store meanwhile ends a read longer than other writes wait for
// (a log's commit never waits for readers; a journal's does).
func TestFirstImportWaitsForAReaderAtCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s := openAt(t, path)
	reading := make(chan error, 1)
	err := s.ImportCharges(ctx, func(imp *ChargeImport) error {
		for i, c := range fakeCharges(0, 500, true) {
			if err := imp.Add(c, reconcile.Place{File: "f", Line: i + 1, Element: -1}, [16]byte{byte(i)}); err != nil {
				return err
			}
		}
		reader, err := OpenReadOnly(ctx, path)
		if err != nil {
			return err
		}
		tx, err := reader.reader.BeginTx(ctx, reader.d.snapshot())
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM charges`).Scan(&n); err != nil {
			return err
		}
		go func() {
			time.Sleep(busyTimeout + time.Second)
			tx.Rollback()
			reading <- reader.Close()
		}()
		_, _, err = imp.Counts()
		return err
	})
	if err != nil {
		t.Fatalf("import with a reader open at its commit: %v", err)
	}
	if err := <-reading; err != nil {
		t.Fatal(err)
	}
	if in, err := s.LoadInput(ctx); err != nil || len(in.Charges) != 500 {
		t.Fatalf("%d charges stored (%v), want 500", len(in.Charges), err)
	}
}
