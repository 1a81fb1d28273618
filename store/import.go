package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"

	"doublecheck/reconcile"
)

// ChargeImport is one all-or-nothing import of a file of charges, inside one
// write transaction: charges are written as they come, so memory does not grow
// with the file, and any error rolls all of them back. The ids already seen in
// the file, with the line and a digest of each, are kept in a scratch database
// (on disk, not in memory): a charge repeated with the same digest is counted
// and stored once, one repeated with another digest refuses the file.
type ChargeImport struct {
	ctx      context.Context
	tx       *sql.Tx
	writer   *chargeWriter
	claim    map[int]*sql.Stmt // INSERT … RETURNING of n ids, by n
	lookup   *sql.Stmt
	pending  []pendingCharge
	fresh    []reconcile.Charge
	inserted map[string]int // ids a claim inserted, and how many times they are still to be met
	stored   int
	repeated int
}

type pendingCharge struct {
	charge reconcile.Charge
	place  reconcile.Place
	digest [16]byte
}

// importBatch is how many charges are checked for repeats and written at once.
const importBatch = 500

// claimRows is how many ids one statement records as seen.
const claimRows = 100

// ImportCharges runs fn with an import into s and commits what it added when
// fn returns nil; on any error nothing is stored.
func (s *Store) ImportCharges(ctx context.Context, fn func(*ChargeImport) error) error {
	if s.readOnly {
		return s.refuseWrite()
	}
	// One connection for the scratch database, the cache size and the
	// transaction: the writer has only one, but a pinned one says so.
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("import into %s: %w", s.path, err)
	}
	defer conn.Close()
	done, err := prepareImport(ctx, conn)
	if err != nil {
		return fmt.Errorf("import into %s: %w", s.path, err)
	}
	defer done()
	return s.withTxOn(ctx, conn, func(tx *sql.Tx) error {
		lookup, err := tx.PrepareContext(ctx, `SELECT line, digest FROM import_scratch.seen WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("import into %s: %w", s.path, err)
		}
		imp := &ChargeImport{ctx: ctx, tx: tx, writer: newChargeWriter(tx), claim: map[int]*sql.Stmt{},
			lookup: lookup, inserted: map[string]int{}}
		defer imp.close()
		if err := fn(imp); err != nil {
			return err
		}
		return imp.flush()
	})
}

// importCacheKiB is the page cache of an import: a transaction that outgrows
// the cache writes pages to the WAL and reads them back, which took more than
// half of a large import's time with the default 2 MB.
const importCacheKiB = 64 << 10

// prepareImport attaches a scratch database, a file that is deleted after the
// import, for the ids an import has seen (a million ids would otherwise be held
// in memory), and enlarges conn's page cache; done undoes both.
func prepareImport(ctx context.Context, conn *sql.Conn) (done func(), err error) {
	f, err := os.CreateTemp("", "doublecheck-import-*.db")
	if err != nil {
		return nil, err
	}
	scratch := f.Name()
	f.Close()
	var cache int64
	if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
		os.Remove(scratch)
		return nil, err
	}
	done = func() {
		bg := context.Background()
		conn.ExecContext(bg, `PRAGMA cache_size = `+strconv.FormatInt(cache, 10))
		conn.ExecContext(bg, `DETACH DATABASE import_scratch`)
		os.Remove(scratch)
	}
	for _, stmt := range []string{
		`ATTACH DATABASE '` + strings.ReplaceAll(scratch, "'", "''") + `' AS import_scratch`,
		// Thrown away after the import: nothing to journal or sync.
		`PRAGMA import_scratch.journal_mode = OFF`,
		`PRAGMA import_scratch.synchronous = OFF`,
		`PRAGMA cache_size = -` + strconv.Itoa(importCacheKiB),
		`CREATE TABLE import_scratch.seen (id TEXT NOT NULL PRIMARY KEY, line INTEGER NOT NULL, digest BLOB NOT NULL) WITHOUT ROWID`,
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			done()
			return nil, err
		}
	}
	return done, nil
}

func (imp *ChargeImport) close() {
	imp.writer.Close()
	imp.lookup.Close()
	for _, st := range imp.claim {
		st.Close()
	}
}

// Add imports charge c, found at place, whose content has digest. A conflict
// may be reported by a later Add or by Counts: the error names the place.
func (imp *ChargeImport) Add(c reconcile.Charge, place reconcile.Place, digest [16]byte) error {
	imp.pending = append(imp.pending, pendingCharge{charge: c, place: place, digest: digest})
	if len(imp.pending) < importBatch {
		return nil
	}
	return imp.flush()
}

// Counts writes what was added and says how many distinct charges the file
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
// with an earlier record of its id, and writes the rest, each once.
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
	imp.fresh = imp.fresh[:0]
	for i := range imp.pending {
		p := &imp.pending[i]
		if imp.inserted[p.charge.ID] > 0 {
			imp.inserted[p.charge.ID] = 0 // a later record of the id in this batch is a repeat
			imp.fresh = append(imp.fresh, p.charge)
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
	if err := imp.writer.write(imp.ctx, imp.fresh); err != nil {
		return err
	}
	imp.stored += len(imp.fresh)
	clear(imp.fresh)
	clear(imp.pending)
	imp.pending = imp.pending[:0]
	return nil
}

// claimIDs records the ids of batch as seen, with their lines and digests; an
// id that was already seen keeps its first record. The ids inserted are put in
// imp.inserted.
func (imp *ChargeImport) claimIDs(batch []pendingCharge) error {
	st := imp.claim[len(batch)]
	if st == nil {
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(batch)), ", ")
		var err error
		st, err = imp.tx.PrepareContext(imp.ctx, `INSERT INTO import_scratch.seen (id, line, digest) VALUES `+values+`
			ON CONFLICT (id) DO NOTHING RETURNING id`)
		if err != nil {
			return fmt.Errorf("prepare the import's record of ids: %w", err)
		}
		imp.claim[len(batch)] = st
	}
	args := make([]any, 0, 3*len(batch))
	for i := range batch {
		args = append(args, batch[i].charge.ID, batch[i].place.Line, batch[i].digest[:])
	}
	rows, err := st.QueryContext(imp.ctx, args...)
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
