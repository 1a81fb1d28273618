package store

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// ChargeImport is one all-or-nothing import of a file of charges, inside one
// write transaction, in two steps that keep memory independent of the file:
//
//  1. As the file is read, each charge is staged with its place and digest
//     in a recordSorter, which holds importRunBytes of them and writes the
//     rest, sorted by id, to a scratch file as runs.
//  2. Once the file is read, the runs are merged in the order of the ids,
//     and each charge turned into the values the store holds (see
//     appendRecord):
//     the records of one id come together, in the order of the file, so a
//     charge repeated with the same digest (or one SameRecords accepts) is
//     counted and stored once, and one repeated with other contents refuses
//     the file, naming both lines.
//     The charges go into the store in that order: Stripe's ids are random,
//     so charges written in file order land on random pages of tables much
//     larger than the page cache, and a large transaction then spills and
//     rereads pages; in id order the pages fill one after another. Into a
//     SQLite store that held no charges when the transaction began, they
//     are inserted rather than upserted (see prepareChunk).
//
// Any error rolls everything back.
type ChargeImport struct {
	ctx    context.Context
	s      *Store
	tx     *txn
	conn   *sql.Conn // tx's connection, for a SQLite store: see write
	sorter recordSorter
	writer *chargeWriter
	record []byte // the record being staged
	seq    int64  // the staging number of the last charge added
	// finished is set once the charges were written, or failed to be
	// (finishErr): a second call answers the same.
	finished  bool
	finishErr error
	stored    int
	repeated  int
	// same, when set, tells whether two records of one charge whose digests
	// differ are one record written otherwise (see SameRecords).
	same func(a, b []byte) bool
}

// ImportCharges runs fn with an import into s and commits what it added when
// fn returns nil; on any error nothing is stored.
func (s *Store) ImportCharges(ctx context.Context, fn func(*ChargeImport) error) error {
	if s.readOnly {
		return s.refuseWrite()
	}
	// One connection for the cache size and the transaction: the writer has
	// only one, but a pinned one says so.
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("import into %s: %w", s.path, err)
	}
	defer conn.Close()
	dir := os.TempDir() // a PostgreSQL store has no directory here
	if !s.d.postgres {
		// The scratch file is as large as the file's charges: the temporary
		// directory may be memory (tmpfs) or too small, while the store's
		// filesystem must take them anyway.
		dir = filepath.Dir(s.path)
		restore, err := importCache(ctx, conn)
		if err != nil {
			return fmt.Errorf("import into %s: %w", s.path, err)
		}
		defer restore()
		restoreWAL, err := s.importJournal(ctx, conn)
		if err != nil {
			return fmt.Errorf("import into %s: %w", s.path, err)
		}
		defer restoreWAL()
	}
	return s.withTxOn(ctx, conn, func(tx *txn) error {
		imp := &ChargeImport{ctx: ctx, s: s, tx: tx, sorter: recordSorter{dir: dir}, writer: newChargeWriter(tx)}
		if s.d.postgres {
			// PostgreSQL takes no lock at BEGIN: imports and the fixing of
			// the store's mode wait for each other here, so Mode stays
			// true until the commit.
			if err := lockMode(ctx, tx); err != nil {
				return fmt.Errorf("import into %s: %w", s.path, err)
			}
		} else {
			// Under SQLite's write lock no other write can add charges
			// before the import's are written, so they can be inserted
			// rather than upserted. A sync on PostgreSQL may add them
			// meanwhile.
			empty, err := holdsNoCharges(ctx, tx)
			if err != nil {
				return fmt.Errorf("import into %s: %w", s.path, err)
			}
			imp.writer.fresh = empty
			imp.conn = conn.Conn
		}
		defer imp.sorter.close()
		defer imp.writer.Close()
		if err := fn(imp); err != nil {
			return err
		}
		if err := imp.finish(); err != nil {
			return fmt.Errorf("import into %s: %w", s.path, err)
		}
		return nil
	})
}

// holdsNoCharges is whether the store holds no charges and no raw JSON, as
// q sees it.
func holdsNoCharges(ctx context.Context, q querier) (bool, error) {
	var some bool
	if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM charges) OR EXISTS (SELECT 1 FROM charge_raw)`).Scan(&some); err != nil {
		return false, fmt.Errorf("look for stored charges: %w", err)
	}
	return !some, nil
}

// importJournal has an import into a store without charges write through a
// rollback journal instead of the log (WAL): every page of the new charges is
// then written once, into the store, instead of into the log and again into
// the store when the commit checkpoints it, which took 3–4 s of a million
// charges' import. A crash still leaves the store as it was: the journal
// holds the pages the import changed, and the next open rolls them back.
// Other connections cannot read the store while the import writes through a
// journal (with the log they would read it empty); so only a store without
// charges, which they would find empty, switches, and only when no other
// connection has it open (SQLite refuses the switch otherwise, and the import
// goes through the log as before). restore switches back to the log, or
// leaves that to the next open (see enableWAL) when it cannot.
func (s *Store) importJournal(ctx context.Context, conn *pinned) (restore func(), err error) {
	none := func() {}
	if empty, err := holdsNoCharges(ctx, conn); err != nil || !empty {
		return none, err
	}
	// This process's own idle readers hold the store open too.
	s.reader.SetMaxIdleConns(0)
	s.reader.SetMaxIdleConns(readerConns)
	var mode string
	err = conn.QueryRowContext(ctx, `PRAGMA journal_mode = DELETE`).Scan(&mode)
	switch {
	case isBusy(err):
		return none, nil
	case err != nil:
		return nil, fmt.Errorf("leave the write-ahead log for the import: %w", err)
	case mode != "delete":
		return none, nil
	}
	// FULL: with a rollback journal NORMAL could lose the store, not only
	// the import, to a power failure at the wrong moment; the journal is
	// small (the few pages the store had), so its syncs cost little.
	// A reader that opened the store while the file was read holds a lock
	// the commit must wait for (a log's commit never waits for readers):
	// readers' loads take seconds, so the commit waits a minute, not the
	// five seconds of other writes.
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err == nil {
		_, err = conn.ExecContext(ctx, `PRAGMA busy_timeout = `+strconv.FormatInt(importCommitWait.Milliseconds(), 10))
	}
	if err != nil {
		enableWAL(context.WithoutCancel(ctx), conn)
		return nil, fmt.Errorf("set the import's synchronous mode and wait: %w", err)
	}
	return func() {
		ctx := context.WithoutCancel(ctx)
		conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`)
		conn.ExecContext(ctx, `PRAGMA busy_timeout = `+strconv.FormatInt(busyTimeout.Milliseconds(), 10))
		enableWAL(ctx, conn)
	}, nil
}

// importCommitWait is how long an import through a rollback journal waits
// for readers at its commit.
const importCommitWait = time.Minute

// importCacheKiB is the page cache of the import's connection: the one
// transaction writes every page of the charges it adds, and pages evicted
// before the commit are written to the log early, and again when changed
// again (the last page of each table and the pages above it). A variable so
// that a test can have pages written before the commit.
var importCacheKiB = 64 << 10

// importCache gives the import's connection a larger page cache; restore
// gives it back its own.
func importCache(ctx context.Context, conn *pinned) (restore func(), err error) {
	var kib int64
	if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&kib); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -`+strconv.Itoa(importCacheKiB)); err != nil {
		return nil, err
	}
	return func() {
		conn.ExecContext(context.Background(), `PRAGMA cache_size = `+strconv.FormatInt(kib, 10))
	}, nil
}

// Add imports charge c, found at place, whose content has digest. A conflict
// is reported by Counts, or when fn returns: the error names both places.
// A charge the store cannot hold is refused here; the values the store holds
// are computed from the staged charge once the records are merged (see
// appendRecord).
func (imp *ChargeImport) Add(c reconcile.Charge, place reconcile.Place, digest [16]byte) error {
	if imp.finished {
		return fmt.Errorf("%s: %w", place, errImportFinished)
	}
	if err := imp.ctx.Err(); err != nil { // Ctrl-C while the file is read
		return err
	}
	if _, _, _, err := storableValues(&c); err != nil {
		return fmt.Errorf("%s: %w", place, err)
	}
	if imp.tx.d.postgres {
		if err := refuseNUL(&c); err != nil {
			return fmt.Errorf("%s: %w", place, err)
		}
	}
	imp.seq++
	imp.record = appendRecord(imp.record[:0], imp.seq, place, digest, &c)
	return imp.sorter.add(imp.record)
}

// refuseNUL refuses a charge with a text value that holds U+0000, which a
// PostgreSQL store cannot hold, naming its column.
func refuseNUL(c *reconcile.Charge) error {
	args, _, err := appendChargeArgs(nil, nil, c)
	if err != nil {
		return err
	}
	for i, a := range args {
		if s, ok := a.(string); ok && strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("charge %s: its %s holds a NUL character (\\u0000), which a PostgreSQL store cannot hold", c.ID, strings.TrimSpace(strings.Split(chargeColumns, ",")[i]))
		}
	}
	return nil
}

// errImportFinished is an Add after Counts, which wrote the charges.
var errImportFinished = errors.New("the import's charges were already written (Counts was called): this charge would be lost")

// SameRecords sets how the import tells, of two records of one charge whose
// digests differ, that they are one record written otherwise: same is given
// their raw records. Without it, records of one charge are repeats only when
// their digests are equal. It lets a format digest each record's bytes as it
// is read and compare the few records that meet in full.
func (imp *ChargeImport) SameRecords(same func(a, b []byte) bool) {
	imp.same = same
}

// Counts stores what was added and says how many distinct charges the file
// held and how many repeats of them were left out. Nothing may be added
// after it; its error, if any, is also the import's.
func (imp *ChargeImport) Counts() (charges, repeated int, err error) {
	if err := imp.finish(); err != nil {
		return 0, 0, err
	}
	return imp.stored, imp.repeated, nil
}

// Mode is the store's mode (see Store.Mode) as the import's transaction sees
// it, under the write lock: another write may have fixed it since the
// import began. It must be read before Counts writes the charges, whose own
// modes it would then see; during an import other connections may not be
// able to read the store at all (see importJournal).
func (imp *ChargeImport) Mode() (live, known bool, err error) {
	if imp.finished {
		return false, false, errModeAfterCounts
	}
	return imp.s.mode(imp.ctx, imp.tx)
}

var errModeAfterCounts = errors.New("the import's mode was asked after its charges were written (Counts was called): it would count them")

// SetState stores value under name with the charges.
func (imp *ChargeImport) SetState(name, value string) error {
	return setState(imp.ctx, imp.tx, name, value)
}

// finish merges the staged records and upserts the charges, once each, in
// the order of their ids, chunkRows at a time, with the rules of saveCharges:
// per charge the newest Observed wins, and its raw JSON goes with it. The
// merge runs a few chunks ahead of the writer, on another core.
func (imp *ChargeImport) finish() error {
	if !imp.finished {
		imp.finished = true
		imp.finishErr = imp.write()
	}
	return imp.finishErr
}

// write is finish's one run. On SQLite the charges are written through the
// driver's own statements (see driverPreparer), on the connection of the
// import's transaction: nothing else uses it meanwhile.
func (imp *ChargeImport) write() error {
	if imp.conn == nil {
		return imp.writeMerged()
	}
	return imp.conn.Raw(func(conn any) error {
		prepare, ok := conn.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("the database driver's connection (%T) prepares no statement with a context", conn)
		}
		imp.writer.prepare = driverPreparer(prepare)
		defer imp.writer.Close() // its statements live only as long as Raw
		return imp.writeMerged()
	})
}

// writeMerged merges the staged records and writes the charges, the merge
// running a few chunks ahead of the writer on another goroutine.
func (imp *ChargeImport) writeMerged() error {
	chunks := make(chan *importChunk, mergeAhead)
	free := make(chan *importChunk, mergeAhead+2) // room for every chunk
	for range cap(free) {
		free <- &importChunk{}
	}
	stop := make(chan struct{})
	var mergeErr error
	go func() {
		defer close(chunks)
		mergeErr = imp.merge(chunks, free, stop)
	}()
	var err error
	for c := range chunks {
		if err == nil {
			if _, err = imp.writer.exec(imp.ctx, c.n, c.chargeArgs, c.rawArgs, false); err != nil {
				close(stop)
			}
		}
		// The arguments hold the charges' strings and raw JSON: let them go.
		clear(c.chargeArgs)
		clear(c.rawArgs)
		c.chargeArgs, c.rawArgs, c.n = c.chargeArgs[:0], c.rawArgs[:0], 0
		free <- c
	}
	if err != nil {
		return err
	}
	return mergeErr
}

// mergeAhead is how many chunks the merge may have ready for the writer.
const mergeAhead = 4

// importChunk is the arguments of up to chunkRows distinct charges.
type importChunk struct {
	n                   int
	chargeArgs, rawArgs []any
}

// errWriterStopped ends the merge when the writer failed.
var errWriterStopped = errors.New("the import's writer stopped")

// merge reads the staged records in the order of ids, counts repeats,
// refuses a conflict and hands the distinct charges to the writer in chunks.
func (imp *ChargeImport) merge(chunks chan<- *importChunk, free <-chan *importChunk, stop <-chan struct{}) error {
	var (
		first stagedRecord // the first record of the current id
		have  bool
		c     = <-free
	)
	send := func() error {
		select {
		case chunks <- c:
		case <-stop:
			return errWriterStopped
		}
		c = <-free // never waits long: the writer returns every chunk
		return nil
	}
	err := imp.sorter.merged(func(rec []byte) error {
		r, err := readRecord(rec)
		if err != nil {
			return err
		}
		if have && r.id == first.id {
			if r.digest != first.digest {
				same, err := imp.sameRecords(c, r)
				if err != nil || !same {
					return cmp.Or(err, fmt.Errorf("%s: %w", r.place, reconcile.ConflictError("charge", r.id, first.place.Line)))
				}
			}
			imp.repeated++
			return nil
		}
		first, have = r, true
		if c.n == chunkRows {
			if err := send(); err != nil {
				return err
			}
		}
		if c.chargeArgs, c.rawArgs, err = r.appendArgs(c.chargeArgs, c.rawArgs); err != nil {
			return fmt.Errorf("%s: %w", r.place, err)
		}
		c.n++
		imp.stored++
		return nil
	})
	if err == nil && c.n > 0 {
		err = send()
	}
	return err
}

// sameRecords is whether r, a later record of the charge whose values end
// chunk c, is that charge's record written otherwise (see SameRecords).
func (imp *ChargeImport) sameRecords(c *importChunk, r stagedRecord) (bool, error) {
	if imp.same == nil {
		return false, nil
	}
	later, err := r.stagedCharge()
	if err != nil {
		return false, err
	}
	first, _ := c.rawArgs[len(c.rawArgs)-rawArgCount+rawArgRaw].([]byte)
	return first != nil && later.Raw != nil && imp.same(first, later.Raw), nil
}

// stagedRecord is a record as the sorter gives it back; charge holds the
// staged charge, without its id.
type stagedRecord struct {
	id     string
	place  reconcile.Place
	digest [16]byte
	charge []byte
}

// appendRecord appends the staged record of charge c: its id and staging
// number first (the sorter's key), its place and digest, then the fields of
// c that appendChargeArgs reads. The values the store holds (the load
// record, the facts, the metadata as JSON) are computed from them as the
// records are merged, by a goroutine that has a core to itself while the
// writer, on the other, bounds the import; computed while the file was read,
// they took a fifth of the two cores the decoding keeps busy, and made each
// record half again as large.
func appendRecord(buf []byte, seq int64, place reconcile.Place, digest [16]byte, c *reconcile.Charge) []byte {
	buf = appendString(buf, c.ID)
	buf = binary.AppendVarint(buf, seq)
	buf = append(buf, digest[:]...)
	buf = binary.AppendVarint(buf, int64(place.Line))
	buf = binary.AppendVarint(buf, int64(place.Element))
	buf = binary.AppendVarint(buf, place.Byte)
	buf = appendString(buf, place.File)
	buf = appendTime(buf, c.Created)
	for _, n := range []int64{c.Amount, c.AmountRefunded, c.AmountCaptured} {
		buf = binary.AppendVarint(buf, n)
	}
	var flags byte
	for i, set := range []bool{c.Captured, c.Refunded, c.Disputed, c.Livemode} {
		if set {
			flags |= 1 << i
		}
	}
	buf = append(buf, flags)
	for _, v := range []string{c.Currency, c.Status, c.Customer, c.Email, c.CardFingerprint, c.CardBrand,
		c.CardLast4, c.PaymentIntent, c.Description, c.MetadataJSON, string(c.Provider)} {
		buf = appendString(buf, v)
	}
	buf = binary.AppendUvarint(buf, uint64(len(c.Metadata)))
	for k, v := range c.Metadata {
		buf = appendString(appendString(buf, k), v)
	}
	buf = appendTime(buf, c.Observed)
	return appendString(buf, string(c.Raw))
}

func appendString(buf []byte, s string) []byte {
	return append(binary.AppendUvarint(buf, uint64(len(s))), s...)
}

func appendTime(buf []byte, t time.Time) []byte {
	return binary.AppendVarint(binary.AppendVarint(buf, t.Unix()), int64(t.Nanosecond()))
}

// readRecord reads what appendRecord wrote, up to the charge.
func readRecord(rec []byte) (stagedRecord, error) {
	var r stagedRecord
	d := recordReader{b: rec}
	r.id = string(d.bytes())
	d.varint() // the staging number
	copy(r.digest[:], d.take(len(r.digest)))
	r.place.Line = int(d.varint())
	r.place.Element = int(d.varint())
	r.place.Byte = d.varint()
	r.place.File = string(d.bytes())
	r.charge = d.b
	if d.bad {
		return r, errBadRecord
	}
	return r, nil
}

// stagedCharge reads the record's charge.
func (r stagedRecord) stagedCharge() (reconcile.Charge, error) {
	d := recordReader{b: r.charge}
	c := reconcile.Charge{ID: r.id, Created: d.time()}
	c.Amount, c.AmountRefunded, c.AmountCaptured = d.varint(), d.varint(), d.varint()
	flags := d.take(1)[0]
	c.Captured, c.Refunded, c.Disputed, c.Livemode = flags&1 != 0, flags&2 != 0, flags&4 != 0, flags&8 != 0
	for _, v := range []*string{&c.Currency, &c.Status, &c.Customer, &c.Email, &c.CardFingerprint, &c.CardBrand,
		&c.CardLast4, &c.PaymentIntent, &c.Description, &c.MetadataJSON} {
		*v = string(d.bytes())
	}
	c.Provider = reconcile.Provider(d.bytes())
	if n := d.uvarint(); n > 0 && n <= uint64(len(d.b)) {
		c.Metadata = make(map[string]string, n)
		for ; n > 0 && !d.bad; n-- {
			k := string(d.bytes())
			c.Metadata[k] = string(d.bytes())
		}
	}
	c.Observed = d.time()
	if raw := d.bytes(); len(raw) > 0 {
		c.Raw = bytes.Clone(raw)
	}
	if d.bad || len(d.b) > 0 {
		return reconcile.Charge{}, errBadRecord
	}
	return c, nil
}

// appendArgs appends the values the store holds of the record's charge: of
// chargeColumns to chargeArgs, of charge_raw to rawArgs.
func (r stagedRecord) appendArgs(chargeArgs, rawArgs []any) ([]any, []any, error) {
	c, err := r.stagedCharge()
	if err != nil {
		return nil, nil, err
	}
	return appendChargeArgs(chargeArgs, rawArgs, &c)
}

// recordReader reads a staged record; bad is set, and zero values read, once
// it runs short.
type recordReader struct {
	b   []byte
	bad bool
}

func (d *recordReader) take(n int) []byte {
	if n > len(d.b) {
		d.bad = true
		d.b = nil
		return make([]byte, n)
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *recordReader) uvarint() uint64 {
	v, w := binary.Uvarint(d.b)
	if w <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[w:]
	return v
}

func (d *recordReader) varint() int64 {
	v, w := binary.Varint(d.b)
	if w <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[w:]
	return v
}

func (d *recordReader) time() time.Time {
	sec := d.varint()
	return time.Unix(sec, d.varint()).UTC()
}

func (d *recordReader) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	return d.take(int(n))
}
