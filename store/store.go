// Package store keeps doublecheck's data in one SQLite file per Stripe account and
// mode: charges (with their raw Stripe JSON), idempotency-key records, operator
// decisions, the refund ledger and sync state. It uses modernc.org/sqlite through
// database/sql, in WAL mode, with a single writer connection. A team shares one
// store in a PostgreSQL database instead (a postgres:// URL, read through pgx):
// the same tables and queries (see dialect), its refund claims and sync lock
// holding across machines.
package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	mathrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// Each dialect has its own migrations, numbered alike: migration N of one
// makes the same change as migration N of the other.
const (
	sqliteMigrations   = "migrations"
	postgresMigrations = "migrations/postgres"
)

// sqliteHeader starts every SQLite 3 database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// quickCheckMaxBytes is the largest store fully checked by every Open; see
// checkAndMigrate. A variable so that tests can treat small files as large.
var quickCheckMaxBytes int64 = 256 << 20

// busyTimeout is how long a write waits for another connection or process
// holding the write lock before it fails with "database is locked".
const busyTimeout = 5 * time.Second

// Store is an open doublecheck database. It is safe for concurrent use.
type Store struct {
	path string
	// writer has exactly one connection: SQLite allows one writer at a time, and
	// queueing writers in Go is cheaper than having them spin on the file lock.
	// Its transactions begin IMMEDIATE, so two processes never deadlock
	// upgrading read locks; busy_timeout makes the second one wait.
	writer *pool
	// reader is a small pool of query-only connections; under WAL they read a
	// consistent snapshot while the writer commits. On PostgreSQL, whose
	// server orders writers itself, writer and reader are one pool.
	reader *pool
	// handle names this Store in the refund attempts it begins (see
	// newHandle), so FinishRefund completes this handle's own attempt and
	// never one another process has in flight with the same key.
	handle string
	// readOnly is set by OpenReadOnly: every write is refused with ErrReadOnly.
	readOnly bool
	// d is the database's dialect: SQLite, or PostgreSQL for a shared store.
	d *dialect
	// syncEnds release the sync locks BeginSync took (Close calls those left).
	syncMu   sync.Mutex
	syncEnds []func()
	// now, when set, is this machine's clock (tests skew it).
	now func() time.Time
	// dbNow, when set, is the database's clock, which refund claims are
	// judged by (tests move it past a lease).
	dbNow func() time.Time
	// changed counts the charges committed saves added or changed (see
	// ChargesChanged).
	changed atomic.Int64
}

// ErrNoStore is returned by OpenExisting and OpenReadOnly when nothing is at
// the path: commands that only read never create a store where a mistyped
// path points.
var ErrNoStore = errors.New("no such store")

// ErrDamaged is a file SQLite cannot read as a doublecheck store, or whose
// integrity check fails.
var ErrDamaged = errors.New("the database is damaged or not a doublecheck store")

// ErrReadOnly is a store that this process cannot write: the file, its
// directory or the file system is read-only. It is never reported as damage.
var ErrReadOnly = errors.New("the store is read-only")

// Open opens the store at path, creating it (mode 0600, parent directory 0700)
// when it does not exist, and brings its schema up to date. An existing file is
// made private (0600) too, whoever created it. A file that is not a doublecheck
// SQLite database, or is corrupt, is reported and left untouched; one that
// cannot be written is reported as read-only (ErrReadOnly).
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, true)
}

// OpenExisting is Open for a store that must already exist: with nothing at
// path it creates nothing and returns ErrNoStore.
func OpenExisting(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, false)
}

func open(ctx context.Context, path string, create bool) (*Store, error) {
	if IsURL(path) {
		return openPostgres(ctx, path, create, false)
	}
	s, err := openWritable(ctx, path, create)
	if errors.Is(err, ErrReadOnly) {
		// Read-only is not damage, but a read-only file may be damaged too: the
		// checks a read-only open makes tell which to report.
		ro, roErr := OpenReadOnly(ctx, path)
		if errors.Is(roErr, ErrDamaged) {
			return nil, roErr
		}
		if roErr == nil {
			ro.Close()
		}
	}
	return s, err
}

func openWritable(ctx context.Context, path string, create bool) (*Store, error) {
	if path == "" {
		return nil, errors.New("open store: no database path given")
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	size, err := prepareFile(path, create)
	if err != nil {
		return nil, err
	}

	// synchronous=NORMAL: under WAL a commit is atomic and survives a crash of
	// the process; only a power loss or OS crash can lose the last commits, and
	// everything but the refund ledger can be synced again from Stripe. Ledger
	// writes switch the connection to FULL (see withLedgerTx).
	writer, err := openSQLite(path, "_txlock=immediate", "_pragma=synchronous(NORMAL)", "_pragma=temp_store(MEMORY)")
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxIdleTime(0)
	writer.SetConnMaxLifetime(0)

	s := &Store{path: path, writer: writer, handle: newHandle(), d: sqliteDialect}
	if err := s.checkAndMigrate(ctx, size); err != nil {
		writer.Close()
		return nil, err
	}

	s.reader, err = openSQLite(path, "_query_only=1")
	if err != nil {
		writer.Close()
		return nil, err
	}
	s.reader.SetMaxOpenConns(readerConns)
	s.reader.SetMaxIdleConns(readerConns)
	return s, nil
}

// OpenReadOnly opens an existing store for reading only, for commands that
// never write (scan, export): it creates nothing (ErrNoStore), migrates nothing
// and works on a read-only file, directory or mount. The store is checked as
// Open checks it; every write through it returns ErrReadOnly.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if IsURL(path) {
		return openPostgres(ctx, path, false, true)
	}
	if path == "" {
		return nil, errors.New("open store: no database path given")
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	size, err := checkFile(path)
	if err != nil {
		return nil, err
	}
	s, err := openReadOnly(ctx, path, size, "mode=ro")
	if errors.Is(err, ErrReadOnly) && !hasWAL(path) {
		// In a read-only directory SQLite cannot create the -shm file a WAL
		// database is read through (SQLITE_READONLY_DIRECTORY); it can still
		// read the file as immutable, which is what a read-only directory or
		// mount holds. Never with a -wal that holds changes: immutable ignores
		// it, and a pending refund in it would vanish from what is read.
		s, err = openReadOnly(ctx, path, size, "mode=ro", "immutable=1")
	}
	return s, err
}

// hasWAL is whether the store at path has a -wal file with changes in it.
func hasWAL(path string) bool {
	info, err := os.Stat(path + "-wal")
	return err == nil && info.Size() > 0
}

// walWithoutShm is whether the store at path has changes in its -wal and no
// -shm: SQLite reads a -wal through the -shm, and cannot create one where it
// may not write ("unable to open database file", SQLITE_CANTOPEN), which is no
// damage.
func walWithoutShm(path string) bool {
	_, err := os.Stat(path + "-shm")
	return hasWAL(path) && errors.Is(err, fs.ErrNotExist)
}

// walReadOnlyError is the answer for a store walWithoutShm in a place SQLite
// may not write.
func walReadOnlyError(path string, err error) error {
	return fmt.Errorf("open store %s: %w: its -wal cannot be read without a -shm, which SQLite may not create here (%v); this is no sign of damage: copy the store with its -wal to a writable directory and pass the copy as --db", path, ErrReadOnly, err)
}

func openReadOnly(ctx context.Context, path string, size int64, params ...string) (*Store, error) {
	db, err := openSQLite(path, params...)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	s := &Store{path: path, writer: db, reader: db, readOnly: true, d: sqliteDialect}
	if err := s.check(ctx, size); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// openSQLite opens the SQLite database at path with the dsn parameters.
func openSQLite(path string, params ...string) (*pool, error) {
	db, err := sql.Open("sqlite", dsn(path, params...))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &pool{DB: db, d: sqliteDialect}, nil
}

// newHandle names a Store in the refund attempts it begins: the machine, the
// process id and a random part (machine/pid/random). A claim whose process is
// gone from this machine is not waited for (see holder).
func newHandle() string {
	name, _ := thisMachine()
	return fmt.Sprintf("%s/%d/%s", name, os.Getpid(), rand.Text())
}

// thisMachine names this machine in handles: its host name and, where the
// system keeps one, its machine id (systemd's /etc/machine-id, machine-id(5)),
// so two machines with one host name (cloned images, "localhost") are told
// apart. identified is false without a machine id: then no claim is judged
// to be of this machine, and a crashed one is waited out (the lease).
var thisMachine = sync.OnceValues(func() (name string, identified bool) {
	for _, path := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if id, err := os.ReadFile(path); err == nil {
			if id := strings.TrimSpace(string(id)); id != "" && !strings.Contains(id, "/") {
				return hostname() + "~" + id, true
			}
		}
	}
	return hostname(), false
})

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown-host"
	}
	return strings.ReplaceAll(h, "/", "_")
}

// handleGone reports whether the Store named handle was opened by a process
// of this machine that has ended (a crash): its claims hold nothing.
func handleGone(handle string) bool {
	machine, rest, ok := strings.Cut(handle, "/")
	if name, identified := thisMachine(); !ok || !identified || machine != name {
		return false
	}
	pidText, _, _ := strings.Cut(rest, "/")
	pid, err := strconv.Atoi(pidText)
	return err == nil && pid > 0 && pid != os.Getpid() && processGone(pid)
}

// dsn is the modernc.org/sqlite data source name for path: a file: URI, so that
// any character in the path is escaped rather than read as a parameter.
func dsn(path string, params ...string) string {
	params = append([]string{
		"_pragma=busy_timeout(" + strconv.FormatInt(busyTimeout.Milliseconds(), 10) + ")",
		"_pragma=foreign_keys(1)",
	}, params...)
	u := url.URL{Scheme: "file", Path: path, RawQuery: strings.Join(params, "&")}
	return u.String()
}

// prepareFile makes sure path can be handed to SQLite for writing: a new file
// is created here (when create is set) with mode 0600 (SQLite would use 0644
// and give its -wal/-shm files the same mode), an existing one is made 0600 and
// must start with the SQLite header if it is not empty. It returns the size of
// the file.
func prepareFile(path string, create bool) (int64, error) {
	if create {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return 0, fmt.Errorf("open store %s: create directory: %w", path, err)
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			if err := f.Close(); err != nil {
				return 0, fmt.Errorf("open store %s: %w", path, err)
			}
			return 0, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return 0, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	size, err := checkFile(path)
	if err != nil {
		return 0, err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
			return 0, readOnlyError(path, err)
		}
		return 0, fmt.Errorf("open store %s: %w", path, err)
	}
	defer f.Close()
	// Private whatever created it: the store holds customers' emails and the
	// refund ledger. SQLite gives the -wal and -shm files the database's mode
	// when it creates them; ones that already exist are made private too. A file
	// of another user's cannot be changed and is used as it is.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if info, err := os.Stat(p); err == nil && info.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, info.Mode().Perm()&0o600); err != nil && !errors.Is(err, fs.ErrPermission) {
				return 0, fmt.Errorf("open store %s: make it private: %w", path, err)
			}
		}
	}
	return size, nil
}

// checkFile makes sure an existing path may be a store: a file (ErrNoStore when
// there is none), empty or starting with the SQLite header. It returns its size.
func checkFile(path string) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%w at %s: check the --db path, or run doublecheck sync or doublecheck import to create one", ErrNoStore, path)
	}
	if err != nil {
		return 0, fmt.Errorf("open store %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("open store %s: %w", path, err)
	}
	if info.IsDir() {
		return 0, fmt.Errorf("open store %s: is a directory, not a database file", path)
	}
	if info.Size() == 0 {
		return 0, nil // SQLite treats an empty file as a new database
	}
	header := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, header); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, fmt.Errorf("open store %s: %w", path, err)
	}
	// A header of zeros is what another process creating the store at this
	// moment may show before its first page lands; SQLite, which takes the file
	// locks, judges those files instead (and refuses real junk untouched).
	if !bytes.Equal(header, sqliteHeader) && !bytes.Equal(header, make([]byte, len(sqliteHeader))) {
		return 0, fmt.Errorf("open store %s: the file is not an SQLite database; pass another --db path", path)
	}
	return info.Size(), nil
}

// readOnlyError says that the store at path cannot be written, and that this
// is no damage.
func readOnlyError(path string, err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err // the path is already in the message
	}
	return fmt.Errorf("open store %s: %w (%v), which is no sign of damage; it was left unchanged, and commands that only read it (scan, export, the dashboard with --db and no key) still work", path, ErrReadOnly, err)
}

// migrationSteps are the parts of migrations that SQL cannot do, by version,
// run after the migration's SQL in its transaction.
var migrationSteps = map[int]func(ctx context.Context, tx *txn) error{
	6: backfillFacts,
}

// migration is one numbered file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations of dir in order, checking that
// they are numbered 1, 2, 3… without gaps.
func migrations(dir string) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", e.Name())
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number: %w", e.Name(), err)
		}
		body, err := migrationFiles.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.name, i+1)
		}
	}
	return out, nil
}

// checkAndMigrate verifies that the file is a healthy doublecheck database before
// anything writes to it, then applies the missing migrations and turns on WAL.
func (s *Store) checkAndMigrate(ctx context.Context, size int64) error {
	all, err := migrations(sqliteMigrations)
	if err != nil {
		return err
	}
	current, err := s.checkedVersion(ctx, size, len(all))
	if err != nil {
		return err
	}
	if current == 0 {
		// 16 KB pages hold ten raw charges each: fewer, larger writes made
		// SaveCharges about a fifth faster than the default 4 KB.
		if _, err := s.writer.ExecContext(ctx, "PRAGMA page_size=16384"); err != nil {
			return fmt.Errorf("open store %s: set page size: %w", s.path, err)
		}
	}
	if err := enableWAL(ctx, s.writer); err != nil {
		if isBusy(err) {
			// A first import writing through a rollback journal holds the
			// file until it commits.
			return &busyError{path: s.path, err: err}
		}
		return fmt.Errorf("open store %s: enable WAL: %w", s.path, err)
	}
	for _, m := range all[current:] {
		if err := s.apply(ctx, m); err != nil {
			return err
		}
	}
	return s.refreshFacts(ctx)
}

// checkedVersion is the schema version of the file, after checking that this
// doublecheck can read it and that it is healthy.
func (s *Store) checkedVersion(ctx context.Context, size int64, latest int) (int, error) {
	current, err := s.schemaVersion(ctx)
	if err != nil {
		return 0, err
	}
	if current > latest {
		return 0, fmt.Errorf("open store %s: database schema version %d is newer than this doublecheck supports (%d); upgrade doublecheck", s.path, current, latest)
	}
	// quick_check walks every page: 2-3 s for a store of a million charges
	// (2 GB) on a shared 2-core machine. Below quickCheckMaxBytes, and before any
	// migration, that is a fair price for never writing into a damaged file.
	// Above it, start-up stays fast and damage is still found by SQLite when
	// a page is read ("database disk image is malformed", with the path); the
	// statement then fails and its transaction rolls back, leaving the file
	// as it was.
	if current > 0 && (size <= quickCheckMaxBytes || current < latest) {
		if err := s.quickCheck(ctx); err != nil {
			return 0, err
		}
	}
	return current, nil
}

// check is checkAndMigrate for a store opened read-only: the file must already
// hold the current schema, since nothing may be written to it.
func (s *Store) check(ctx context.Context, size int64) error {
	all, err := migrations(sqliteMigrations)
	if err != nil {
		return err
	}
	current, err := s.checkedVersion(ctx, size, len(all))
	switch {
	case err != nil:
		return err
	case current == 0:
		return fmt.Errorf("%w at %s: the file is empty; run doublecheck sync or doublecheck import to fill it", ErrNoStore, s.path)
	case current < len(all):
		return fmt.Errorf("open store %s: its schema (version %d) needs an upgrade to version %d, which only a command that writes can do (doublecheck sync or doublecheck import with write access)", s.path, current, len(all))
	}
	return nil
}

// enableWAL switches the file to WAL, which lets the dashboard read while a sync
// writes. The mode is persistent, so this is a no-op after the first open. SQLite
// does not wait for other connections before changing the journal mode: when
// several processes open a new store at once, the losers get SQLITE_BUSY and
// retry here until the winner has converted the file.
func enableWAL(ctx context.Context, db querier) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		switch {
		case err == nil && mode == "wal":
			return nil
		case err == nil:
			return fmt.Errorf("journal mode stayed %q", mode)
		case !isBusy(err) || time.Now().After(deadline):
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// isReadOnly reports whether err is SQLite's "attempt to write a readonly
// database", in any of its variants (read-only file, directory, mount).
func isReadOnly(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_READONLY
}

// isRollbackNeeded reports whether err is SQLite's refusal to read, through a
// read-only connection, a store whose rollback journal holds an interrupted
// write (a hot journal: see importJournal) that must be undone first.
func isRollbackNeeded(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_READONLY_ROLLBACK
}

// isCantOpen reports whether err is SQLite's "unable to open database file".
func isCantOpen(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CANTOPEN
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// schemaVersion reads the version of the schema in the file: 0 for a new, empty
// database. Reading sqlite_master is also the first probe of the file's health.
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	var tables, versioned int
	err := s.writer.QueryRowContext(ctx,
		`SELECT count(*), count(CASE WHEN name = 'schema_version' THEN 1 END) FROM sqlite_master`).
		Scan(&tables, &versioned)
	if err != nil {
		return 0, s.damaged(err)
	}
	if tables == 0 {
		return 0, nil
	}
	if versioned == 0 {
		return 0, fmt.Errorf("open store %s: the file is an SQLite database but not a doublecheck store; pass another --db path", s.path)
	}
	var version int
	if err := s.writer.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&version); err != nil {
		return 0, s.damaged(err)
	}
	return version, nil
}

func (s *Store) quickCheck(ctx context.Context) error {
	var result string
	if err := s.writer.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&result); err != nil {
		return s.damaged(err)
	}
	if result != "ok" {
		return s.damaged(errors.New(result))
	}
	return nil
}

// damaged explains a failure to read the file: damage, a store SQLite may
// not write to, or one another process keeps to itself while it writes (an
// import into a new store: see importJournal); neither of these is damage.
func (s *Store) damaged(err error) error {
	switch {
	case isBusy(err):
		return &busyError{path: s.path, err: err}
	case isRollbackNeeded(err):
		return fmt.Errorf("open store %s: a write into it was interrupted (an import stopped by a crash or a kill) and must be undone first, which a command that only reads may not do: any command that writes to it (doublecheck import, doublecheck sync) undoes it, and the store then holds what it held before (%w)", s.path, err)
	case (isReadOnly(err) || isCantOpen(err)) && walWithoutShm(s.path):
		return walReadOnlyError(s.path, err)
	case isReadOnly(err):
		return readOnlyError(s.path, err)
	}
	return fmt.Errorf("open store %s: %w (it was left unchanged): %w", s.path, ErrDamaged, err)
}

// apply runs one migration and records its version in one transaction. The
// version is re-read inside the transaction so that two processes opening a new
// file at once apply each migration only once.
func (s *Store) apply(ctx context.Context, m migration) error {
	return s.withTx(ctx, func(tx *txn) error {
		if s.d.postgres {
			// Two operators' first commands on a new database migrate one
			// after the other; the second then finds the work done.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
				return fmt.Errorf("migration %s: wait for another process migrating: %w", m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    INTEGER NOT NULL PRIMARY KEY,
			applied_at BIGINT  NOT NULL)`); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		var done int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_version WHERE version = ?`, m.version).Scan(&done); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if done > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if step := migrationSteps[m.version]; step != nil {
			if err := step(ctx, tx); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied_at) VALUES (?, ?)`,
			m.version, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		return nil
	})
}

// Close closes the store's connections.
func (s *Store) Close() error {
	s.endSyncs()
	var errs []error
	if s.reader != nil && s.reader != s.writer {
		errs = append(errs, s.reader.Close())
	}
	errs = append(errs, s.writer.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path is the absolute path of the database file; for a PostgreSQL store, its
// URL with the password masked.
func (s *Store) Path() string { return s.path }

// withTx runs fn in a write transaction (BEGIN IMMEDIATE) and commits it when fn
// returns nil; otherwise nothing fn did is kept.
//
// On PostgreSQL, where writers lock rows one by one, the store's writes take
// their rows in one order, so that two of them wait for each other rather
// than deadlock: refund_intents, refund_attempts, then charges and charge_raw
// in the order of the charges' ids (as an import copies them), key_records
// in the order of keys, then requests, checkout_sessions and state. What
// still conflicts (a session outside doublecheck, or a server whose default
// isolation is repeatable read or serializable) makes PostgreSQL abort the
// whole transaction with a deadlock (40P01) or serialization failure (40001),
// keeping none of it; withTx then runs fn again in a new transaction, up to
// writeAttempts times, after a short random pause (see retryable). That is
// safe because every fn given to withTx reads what it decides on inside its
// transaction and changes nothing outside it but variables it sets afresh on
// each run: a rerun is a first run. ImportCharges is not rerun (it calls
// withTxOn): its fn reads the file being imported, which cannot be read twice.
// SQLite never reports either error: its writers take the store's write lock
// at BEGIN, one after the other.
func (s *Store) withTx(ctx context.Context, fn func(*txn) error) error {
	for attempt := 1; ; attempt++ {
		err := s.withTxOn(ctx, s.writer, fn)
		if err == nil || !retryable(err) {
			return err
		}
		if attempt == writeAttempts {
			return fmt.Errorf("%w (tried %d times: each time PostgreSQL aborted the transaction because another session was writing the same rows)", err, attempt)
		}
		// Jittered, so that two transactions aborted together do not meet
		// again at once.
		pause := time.Duration(mathrand.Int64N(int64(retryPause << (attempt - 1))))
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (not tried again: %w)", err, ctx.Err())
		}
	}
}

// writeAttempts is how many times withTx runs a write transaction that
// PostgreSQL keeps aborting for a conflict with another session; a variable
// so that tests can turn the retries off.
var writeAttempts = 4

// retryPause bounds the first pause before a write is run again; each
// further pause may be twice as long.
const retryPause = 20 * time.Millisecond

// retryable reports whether err is PostgreSQL aborting a transaction to
// resolve a conflict with another: deadlock_detected (40P01) or
// serialization_failure (40001). PostgreSQL's manual says to retry the
// transaction for both (https://www.postgresql.org/docs/15/mvcc-serialization-failure-handling.html;
// codes: https://www.postgresql.org/docs/15/errcodes-appendix.html).
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// withTxOn is withTx on db, the writer or one of its connections.
func (s *Store) withTxOn(ctx context.Context, db interface {
	BeginTx(context.Context, *sql.TxOptions) (*txn, error)
}, fn func(*txn) error) error {
	if s.readOnly {
		return s.refuseWrite()
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return s.beginError("begin transaction on", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		if isReadOnly(err) {
			return readOnlyError(s.path, err)
		}
		return fmt.Errorf("commit to %s: %w", s.path, err)
	}
	return nil
}

// readerConns is how many connections a store's readers have open at most.
const readerConns = 4

// ErrBusy is a write that waited busyTimeout for another connection's write
// lock: another doublecheck process (a sync, an import, a refund) is writing.
var ErrBusy = errors.New("the store is busy")

// busyError is ErrBusy as one sentence naming the store; SQLite's own words
// ("database is locked (5) (SQLITE_BUSY)") are kept for errors.As only.
type busyError struct {
	path string
	err  error
}

func (e *busyError) Error() string {
	return "another doublecheck process is writing to the store " + e.path + "; try again when it has finished"
}

func (e *busyError) Is(target error) bool { return target == ErrBusy }

func (e *busyError) Unwrap() error { return e.err }

// beginError is why a write transaction could not begin, doing what (such as
// "begin transaction on"): a read-only store and another writer's lock each
// read as one sentence; anything else keeps SQLite's words.
func (s *Store) beginError(doing string, err error) error {
	switch {
	case isReadOnly(err):
		return readOnlyError(s.path, err)
	case isBusy(err):
		return &busyError{path: s.path, err: err}
	}
	return fmt.Errorf("%s %s: %w", doing, s.path, err)
}

// refuseWrite is every write on a store opened read-only.
func (s *Store) refuseWrite() error {
	return fmt.Errorf("store %s is open read-only: nothing was changed: %w", s.path, ErrReadOnly)
}

// withLedgerTx is withTx with synchronous=FULL: under WAL, FULL fsyncs the log at
// every commit, so a refund intent that was reported committed is on disk before
// any refund request is sent, even if the machine loses power right after.
// The pragma cannot change inside a transaction, so it is set on the single
// writer connection around it and restored after.
func (s *Store) withLedgerTx(ctx context.Context, fn func(*txn) error) error {
	if s.readOnly {
		return s.refuseWrite()
	}
	if s.d.postgres {
		return s.withTx(ctx, fn) // synchronous_commit is the server's; on by default
	}
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("refund ledger on %s: %w", s.path, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous=FULL"); err != nil {
		return fmt.Errorf("refund ledger on %s: %w", s.path, err)
	}
	// Restore even when ctx is cancelled: the connection goes back to the pool.
	defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous=NORMAL")

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return s.beginError("refund ledger: begin transaction on", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("refund ledger on %s: commit: %w", s.path, err)
	}
	return nil
}

// DefaultPath is where the store for a Stripe account and mode lives by default:
// <dir>/<account>-<test|live>.db, dir being doublecheck's data directory
// ($XDG_DATA_HOME/doublecheck, which the caller resolves). Characters other
// than letters, digits, '-' and '_' in the account id become '_', so the id
// cannot leave the directory.
func DefaultPath(dir, account string, live bool) (string, error) {
	if strings.TrimSpace(account) == "" {
		return "", errors.New("default database path: the Stripe account id is empty")
	}
	if dir == "" {
		return "", errors.New("default database path: no data directory (set HOME or XDG_DATA_HOME), or pass --db PATH")
	}
	mode := "test"
	if live {
		mode = "live"
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, account)
	return filepath.Join(dir, name+"-"+mode+".db"), nil
}
