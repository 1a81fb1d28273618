package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenCreatesPrivateFileAndDirectory(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data", "doublecheck")
	path := filepath.Join(dir, "acct_1-test.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.SetState(ctx, "account", "acct_1"); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, path: 0o600, path + "-wal": 0o600} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode(), want)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening keeps the data and the schema version.
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if got, _ := s.State(ctx, "account"); got != "acct_1" {
		t.Errorf("state after reopen = %q, want acct_1", got)
	}
	all, err := migrations(sqliteMigrations)
	if err != nil {
		t.Fatal(err)
	}
	var version int
	if err := s.reader.QueryRow(`SELECT max(version) FROM schema_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != len(all) {
		t.Errorf("schema version %d, want %d", version, len(all))
	}
	var journal string
	if err := s.reader.QueryRow(`PRAGMA journal_mode`).Scan(&journal); err != nil || journal != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", journal, err)
	}
}

// storeFileWithData makes a closed store file holding some charges.
func storeFileWithData(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCharges(context.Background(), fakeCharges(0, 3000, true)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenRefusesBadFilesAndLeavesThemUnchanged(t *testing.T) {
	overwrite := func(t *testing.T, path string, at int64, junk []byte) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(junk, at); err != nil {
			t.Fatal(err)
		}
	}
	junk := bytes.Repeat([]byte{0xA5, 0x5A, 0x13, 0x77}, 4096)
	tests := []struct {
		name    string
		make    func(t *testing.T) string
		wantErr string
	}{
		{"text file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "notes.db")
			os.WriteFile(p, []byte("these are my notes, not a database\n"), 0o644)
			return p
		}, "not an SQLite database"},
		{"shorter than the header", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "short.db")
			os.WriteFile(p, []byte("SQLite"), 0o600)
			return p
		}, "not an SQLite database"},
		{"random bytes", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "random.db")
			os.WriteFile(p, junk, 0o600)
			return p
		}, "not an SQLite database"},
		{"zero-filled", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "zeros.db")
			os.WriteFile(p, make([]byte, 64<<10), 0o600)
			return p
		}, "damaged or not a doublecheck store"},
		{"page 1 overwritten after the header", func(t *testing.T) string {
			p := storeFileWithData(t)
			overwrite(t, p, 100, junk[:4000])
			return p
		}, "damaged"},
		{"pages in the middle overwritten", func(t *testing.T) string {
			p := storeFileWithData(t)
			info, _ := os.Stat(p)
			overwrite(t, p, info.Size()/2, junk)
			return p
		}, "damaged"},
		{"truncated", func(t *testing.T) string {
			p := storeFileWithData(t)
			info, _ := os.Stat(p)
			if err := os.Truncate(p, info.Size()/3); err != nil {
				t.Fatal(err)
			}
			return p
		}, "damaged"},
		{"another application's SQLite database", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "other.db")
			db, err := sql.Open("sqlite", p)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`CREATE TABLE invoices (id TEXT); INSERT INTO invoices VALUES ('in_1')`); err != nil {
				t.Fatal(err)
			}
			return p
		}, "not a doublecheck store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.make(t)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q: want it to name %s and say %q", err, path, tt.wantErr)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("the file was modified by the failed Open")
			}
		})
	}
}

// Stores above quickCheckMaxBytes are not fully checked at Open; damage in their
// pages is reported, with the path, when a read reaches it, and the file is not
// changed.
func TestDamageInLargeStoreIsReportedOnRead(t *testing.T) {
	saved := quickCheckMaxBytes
	quickCheckMaxBytes = 0
	t.Cleanup(func() { quickCheckMaxBytes = saved })

	path := storeFileWithData(t)
	// Overwrite the root page of the charges table: Open reads other pages only.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var root, pageSize int64
	if err := db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = 'charges'`).Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xEE}, int(pageSize)), (root-1)*pageSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	before, _ := os.ReadFile(path)

	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	_, err = s.LoadInput(context.Background())
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("LoadInput error = %v, want one naming %s and saying it is malformed", err, path)
	}
	s.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the damaged file was modified")
	}
}

func TestOpenNewerSchemaAsksForUpgrade(t *testing.T) {
	path := storeFileWithData(t)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_version (version, applied_at) VALUES (99, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	all, _ := migrations(sqliteMigrations)

	_, err = Open(context.Background(), path)
	want := fmt.Sprintf("database schema version 99 is newer than this doublecheck supports (%d); upgrade doublecheck", len(all))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open error = %v, want it to contain %q", err, want)
	}
}

func TestOpenRefusesDirectoryAndEmptyPath(t *testing.T) {
	if _, err := Open(context.Background(), ""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	dir := t.TempDir()
	if _, err := Open(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("Open(directory) error = %v, want one saying it is a directory", err)
	}
}

// Several processes (here, handles) opening a new store at once: all succeed,
// each migration is applied once. Repeated, since the race is in the timing.
func TestConcurrentFirstOpensMigrateOnce(t *testing.T) {
	all, _ := migrations(sqliteMigrations)
	for round := range 20 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("store%d.db", round))
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				s, err := Open(context.Background(), path)
				if err == nil {
					err = s.Close()
				}
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: Open: %v", round, err)
			}
		}
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		var rows int
		err = db.QueryRow(`SELECT count(*) FROM schema_version`).Scan(&rows)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		if rows != len(all) {
			t.Fatalf("round %d: schema_version has %d rows, want %d", round, rows, len(all))
		}
	}
}

func TestDefaultPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dir, account string
		live               bool
		want, wantErr      string
	}{
		{"test mode", "/data/doublecheck", "acct_123", false, "/data/doublecheck/acct_123-test.db", ""},
		{"live mode", "/data/doublecheck", "acct_123", true, "/data/doublecheck/acct_123-live.db", ""},
		{"path characters are replaced", "/data/doublecheck", "../../etc/pass wd", false, "/data/doublecheck/______etc_pass_wd-test.db", ""},
		{"empty account", "/data/doublecheck", " ", false, "", "account id is empty"},
		{"no data directory", "", "acct_9", false, "", "no data directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultPath(filepath.FromSlash(tt.dir), tt.account, tt.live)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != filepath.FromSlash(tt.want) {
				t.Errorf("DefaultPath = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestErrNoIntentIsWrapped(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d testDialect) {
		s := d.open(t)
		err := s.MarkAttempt(context.Background(), "doublecheck-refund-ch_missing-100", "ann")
		if !errors.Is(err, ErrNoIntent) {
			t.Errorf("MarkAttempt on an unknown key: %v, want ErrNoIntent", err)
		}
	})
}

// TestWriteWhileAnotherHandleWritesIsBusy: a write that finds another handle
// (another process, in practice) holding the write lock past the busy timeout
// is refused with one sentence naming the store (after what was being done),
// whichever kind of write it is.
func TestWriteWhileAnotherHandleWritesIsBusy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		write func(context.Context, *Store) error
	}{
		{"a state write", func(ctx context.Context, s *Store) error { return s.SetState(ctx, "x", "1") }},
		{"a refund ledger write", func(ctx context.Context, s *Store) error {
			_, _, err := s.BeginRefund(ctx, intentFor("ch_1", 100, "bob"))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "store.db")
			holder, other := openAt(t, path), openAt(t, path)
			locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
			go func() {
				done <- holder.withTx(ctx, func(*txn) error {
					close(locked)
					<-release
					return nil
				})
			}()
			<-locked
			err := tc.write(ctx, other)
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			want := "another doublecheck process is writing to the store " + other.Path() + "; try again when it has finished"
			if err == nil || !strings.HasSuffix(err.Error(), want) || strings.Contains(err.Error(), "SQLITE_BUSY") || !errors.Is(err, ErrBusy) {
				t.Fatalf("write while another handle writes: %v; want it to end %q (ErrBusy)", err, want)
			}
			if err := tc.write(ctx, other); err != nil {
				t.Errorf("write once the other handle finished: %v", err)
			}
		})
	}
}
