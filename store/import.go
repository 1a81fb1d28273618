package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// ChargeImport is one all-or-nothing import of a file of charges, inside one
// write transaction, in two steps that keep memory independent of the file:
//
//  1. As the file is read, each charge is checked against the ids already seen
//     (a charge repeated with the same digest is counted and stored once, one
//     repeated with another digest refuses the file, naming both lines) and
//     staged. Ids and staged charges live in a scratch database on disk, the
//     charges appended in file order.
//  2. Once the file is read, the staged charges are copied into the store in
//     the order of their ids. Stripe's ids are random, so charges written in
//     file order land on random pages of tables much larger than the page
//     cache, and a large transaction then spills and rereads pages; in id
//     order the pages fill one after another.
//
// Any error rolls everything back.
type ChargeImport struct {
	ctx      context.Context
	tx       *txn
	scratch  scratchTables
	claim    map[int]*sql.Stmt // INSERT … RETURNING of n ids, by n
	stage    map[int]*sql.Stmt // INSERT of n staged charges, by n
	lookup   *sql.Stmt
	pending  []pendingCharge
	inserted map[string]int // ids a claim inserted, not yet met in the batch
	args     []any
	raw      []any
	seq      int64 // the staging number of the last charge added
	stored   int
	repeated int
}

type pendingCharge struct {
	charge reconcile.Charge
	place  reconcile.Place
	digest [16]byte
	seq    int64
}

// importBatch is how many charges are checked for repeats and staged at once.
const importBatch = 500

// claimRows is how many ids one statement records as seen; stageRows how many
// charges one statement stages (each has chargeColumnCount+2 values).
const (
	claimRows = 100
	stageRows = 40
)

// copyRows is how many staged charges one statement copies into the store. A
// statement that updates stored charges journals their pages in memory until it
// ends, so this bounds that memory too.
const copyRows = 2000

// ImportCharges runs fn with an import into s and commits what it added when
// fn returns nil; on any error nothing is stored.
func (s *Store) ImportCharges(ctx context.Context, fn func(*ChargeImport) error) error {
	if s.readOnly {
		return s.refuseWrite()
	}
	// One connection for the scratch database, the cache sizes and the
	// transaction: the writer has only one, but a pinned one says so.
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("import into %s: %w", s.path, err)
	}
	defer conn.Close()
	prepare := prepareImport
	if s.d.postgres {
		prepare = preparePostgresImport
	}
	scratch, done, err := prepare(ctx, conn, filepath.Dir(s.path))
	if err != nil {
		return fmt.Errorf("import into %s: %w", s.path, err)
	}
	defer done()
	return s.withTxOn(ctx, conn, func(tx *txn) error {
		lookup, err := tx.PrepareContext(ctx, `SELECT line, digest FROM `+scratch.seen+` WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("import into %s: %w", s.path, err)
		}
		imp := &ChargeImport{ctx: ctx, tx: tx, scratch: scratch, claim: map[int]*sql.Stmt{}, stage: map[int]*sql.Stmt{},
			lookup: lookup, inserted: map[string]int{}}
		defer imp.close()
		if err := fn(imp); err != nil {
			return err
		}
		if err := imp.flush(); err != nil {
			return err
		}
		if err := imp.copyStaged(); err != nil {
			return fmt.Errorf("import into %s: %w", s.path, err)
		}
		return nil
	})
}

// scratchTables name the tables an import stages in: seen (id, line, digest,
// seq) and staged (seq, chargeColumns, raw).
type scratchTables struct{ seen, staged string }

// importCacheKiB is the page cache of the scratch database during an import:
// the ids seen are looked up at random, and the staged charges read back in
// the order of their ids.
const importCacheKiB = 64 << 10

// prepareImport attaches a scratch database for the ids an import has seen and
// the charges it staged, and gives it a larger page cache; done undoes it. The
// file is made in dir, the store's directory, and deleted after the import:
// it is as large as the file's charges, and the temporary directory may be
// memory (tmpfs) or too small, while the store's filesystem must take them
// anyway.
func prepareImport(ctx context.Context, conn *pinned, dir string) (scratchTables, func(), error) {
	tables := scratchTables{seen: "import_scratch.seen", staged: "import_scratch.staged"}
	f, err := os.CreateTemp(dir, ".doublecheck-import-*.db")
	if err != nil {
		return tables, nil, err
	}
	scratch := f.Name()
	f.Close()
	done := func() {
		conn.ExecContext(context.Background(), `DETACH DATABASE import_scratch`)
		os.Remove(scratch)
	}
	for _, stmt := range []string{
		`ATTACH DATABASE '` + strings.ReplaceAll(scratch, "'", "''") + `' AS import_scratch`,
		// Thrown away after the import: nothing to journal or sync.
		`PRAGMA import_scratch.journal_mode = OFF`,
		`PRAGMA import_scratch.synchronous = OFF`,
		`PRAGMA import_scratch.cache_size = -` + strconv.Itoa(importCacheKiB),
		`CREATE TABLE import_scratch.seen (id TEXT NOT NULL PRIMARY KEY, line INTEGER NOT NULL,
			digest BLOB NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID`,
		`CREATE TABLE import_scratch.staged (seq INTEGER PRIMARY KEY, ` + chargeColumns + `, raw)`,
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			done()
			return tables, nil, err
		}
	}
	return tables, done, nil
}

// preparePostgresImport is prepareImport for a PostgreSQL store: temporary
// tables of the connection's session, on the server.
func preparePostgresImport(ctx context.Context, conn *pinned, _ string) (scratchTables, func(), error) {
	tables := scratchTables{seen: "import_seen", staged: "import_staged"}
	done := func() {
		conn.ExecContext(context.Background(), `DROP TABLE IF EXISTS import_seen, import_staged`)
	}
	for _, stmt := range []string{
		`CREATE TEMPORARY TABLE import_seen (id TEXT COLLATE "C" NOT NULL PRIMARY KEY, line BIGINT NOT NULL,
			digest BYTEA NOT NULL, seq BIGINT NOT NULL)`,
		`CREATE TEMPORARY TABLE import_staged (seq BIGINT PRIMARY KEY, LIKE charges, raw BYTEA)`,
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			done()
			return tables, nil, err
		}
	}
	return tables, done, nil
}

func (imp *ChargeImport) close() {
	imp.lookup.Close()
	for _, st := range imp.claim {
		st.Close()
	}
	for _, st := range imp.stage {
		st.Close()
	}
}

// Add imports charge c, found at place, whose content has digest. A conflict
// may be reported by a later Add or by Counts: the error names the place.
func (imp *ChargeImport) Add(c reconcile.Charge, place reconcile.Place, digest [16]byte) error {
	imp.seq++
	imp.pending = append(imp.pending, pendingCharge{charge: c, place: place, digest: digest, seq: imp.seq})
	if len(imp.pending) < importBatch {
		return nil
	}
	return imp.flush()
}

// Counts stages what was added and says how many distinct charges the file
// held and how many repeats of them were left out.
func (imp *ChargeImport) Counts() (charges, repeated int, err error) {
	if err := imp.flush(); err != nil {
		return 0, 0, err
	}
	return imp.stored, imp.repeated, nil
}

// SetState stores value under name with the charges.
func (imp *ChargeImport) SetState(name, value string) error {
	return setState(imp.ctx, imp.tx, name, value)
}

// flush records the pending charges as seen, refuses the first that conflicts
// with an earlier record of its id, and stages the rest, each once.
func (imp *ChargeImport) flush() error {
	if len(imp.pending) == 0 {
		return nil
	}
	clear(imp.inserted)
	for first := 0; first < len(imp.pending); first += claimRows {
		if err := imp.claimIDs(imp.pending[first:min(first+claimRows, len(imp.pending))]); err != nil {
			return err
		}
	}
	fresh := imp.pending[:0] // filtered in place: a charge moves only back
	for i := range imp.pending {
		p := imp.pending[i]
		if imp.inserted[p.charge.ID] > 0 {
			imp.inserted[p.charge.ID] = 0 // a later record of the id in this batch is a repeat
			fresh = append(fresh, p)
			continue
		}
		var line int
		var digest []byte
		if err := imp.lookup.QueryRowContext(imp.ctx, p.charge.ID).Scan(&line, &digest); err != nil {
			return fmt.Errorf("%s: look up the earlier record of charge %s: %w", p.place, p.charge.ID, err)
		}
		if !bytes.Equal(digest, p.digest[:]) {
			return fmt.Errorf("%s: %w", p.place, reconcile.ConflictError("charge", p.charge.ID, line))
		}
		imp.repeated++
	}
	for first := 0; first < len(fresh); first += stageRows {
		if err := imp.stageCharges(fresh[first:min(first+stageRows, len(fresh))]); err != nil {
			return err
		}
	}
	imp.stored += len(fresh)
	clear(imp.pending)
	imp.pending = imp.pending[:0]
	return nil
}

// claimIDs records the ids of batch as seen, with their lines, digests and
// staging numbers; an id that was already seen keeps its first record. The ids
// inserted are put in imp.inserted.
func (imp *ChargeImport) claimIDs(batch []pendingCharge) error {
	st, err := imp.statement(imp.claim, len(batch), 4, `INSERT INTO `+imp.scratch.seen+` (id, line, digest, seq) VALUES `,
		` ON CONFLICT (id) DO NOTHING RETURNING id`)
	if err != nil {
		return err
	}
	args := imp.args[:0]
	for i := range batch {
		args = append(args, batch[i].charge.ID, batch[i].place.Line, batch[i].digest[:], batch[i].seq)
	}
	rows, err := st.QueryContext(imp.ctx, args...)
	clear(args)
	if err != nil {
		return fmt.Errorf("record the ids of %s to line %d: %w", batch[0].place, batch[len(batch)-1].place.Line, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		imp.inserted[id]++
	}
	return rows.Err()
}

// stageCharges appends batch to the staged charges, with the values the store
// will hold.
func (imp *ChargeImport) stageCharges(batch []pendingCharge) error {
	st, err := imp.statement(imp.stage, len(batch), chargeColumnCount+2,
		`INSERT INTO `+imp.scratch.staged+` (seq, `+chargeColumns+`, raw) VALUES `, ``)
	if err != nil {
		return err
	}
	args := imp.args[:0]
	for i := range batch {
		args = append(args, batch[i].seq)
		var raw []any
		if args, raw, err = appendChargeArgs(args, imp.raw[:0], &batch[i].charge); err != nil {
			return fmt.Errorf("%s: %w", batch[i].place, err)
		}
		args = append(args, raw[1]) // id, raw JSON, observed
	}
	_, err = st.ExecContext(imp.ctx, args...)
	clear(args)
	imp.args = args[:0]
	if err != nil {
		return fmt.Errorf("stage the charges of %s to line %d: %w", batch[0].place, batch[len(batch)-1].place.Line, err)
	}
	return nil
}

// statement is the prepared statement, from cache, of prefix, n rows of
// columns values each, and suffix.
func (imp *ChargeImport) statement(cache map[int]*sql.Stmt, n, columns int, prefix, suffix string) (*sql.Stmt, error) {
	if st := cache[n]; st != nil {
		return st, nil
	}
	row := "(?" + strings.Repeat(", ?", columns-1) + ")"
	st, err := imp.tx.PrepareContext(imp.ctx, prefix+strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")+suffix)
	if err != nil {
		return nil, fmt.Errorf("prepare the import's statements: %w", err)
	}
	cache[n] = st
	return st, nil
}

// copyStaged upserts the staged charges into the store in the order of their
// ids, copyRows at a time, with the rules of saveCharges: per charge the newest
// Observed wins, and its raw JSON goes with it.
func (imp *ChargeImport) copyStaged() error {
	staged := `FROM ` + imp.scratch.seen + ` AS s JOIN ` + imp.scratch.staged + ` AS st ON st.seq = s.seq
		WHERE s.id > ?1 AND s.id <= ?2`
	bound, err := imp.tx.PrepareContext(imp.ctx,
		`SELECT max(id) FROM (SELECT id FROM `+imp.scratch.seen+` WHERE id > ? ORDER BY id LIMIT ?) AS page`)
	if err != nil {
		return err
	}
	defer bound.Close()
	charges, err := imp.tx.PrepareContext(imp.ctx, `INSERT INTO charges (`+chargeColumns+`)
		SELECT st.`+strings.ReplaceAll(chargeColumns, ", ", ", st.")+` `+staged+` ORDER BY s.id
		`+chargeUpsert)
	if err != nil {
		return err
	}
	defer charges.Close()
	raw, err := imp.tx.PrepareContext(imp.ctx, `INSERT INTO charge_raw (id, raw)
		SELECT s.id, st.raw `+staged+` AND st.raw IS NOT NULL
			AND st.observed = (SELECT c.observed FROM charges AS c WHERE c.id = s.id)
		ORDER BY s.id
		ON CONFLICT (id) DO UPDATE SET raw = excluded.raw`)
	if err != nil {
		return err
	}
	defer raw.Close()
	for after := ""; ; {
		var last sql.NullString
		if err := bound.QueryRowContext(imp.ctx, after, copyRows).Scan(&last); err != nil {
			return fmt.Errorf("read staged charges: %w", err)
		}
		if !last.Valid {
			return nil
		}
		if _, err := charges.ExecContext(imp.ctx, after, last.String); err != nil {
			return fmt.Errorf("write charges: %w", err)
		}
		if _, err := raw.ExecContext(imp.ctx, after, last.String); err != nil {
			return fmt.Errorf("write raw JSON: %w", err)
		}
		after = last.String
	}
}
