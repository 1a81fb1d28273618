package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// factsVersion names how the facts column is computed (reconcile.FactsOf and
// encodeFacts, pinned by TestFactsEncodingIsPinned): a store records the
// version its facts were written with, a command that writes recomputes them
// when it differs, and until then detection reads every charge.
const factsVersion = "1"

// stateFactsVersion is the state holding the store's factsVersion.
const stateFactsVersion = "doublecheck.facts.version"

// factsLen is the size of the facts column: created (8 bytes), eight 32-bit
// hashes, the flags and the length of the charge's id (2 bytes, so that a
// concatenation of facts and ids is read without separators).
const factsLen = 8 + 8*4 + 1 + 2

// checkIDLength refuses a charge id of idLen bytes, which facts cannot say.
func checkIDLength(idLen int) error {
	if idLen < 1 || idLen > 1<<16-1 {
		return fmt.Errorf("a charge id of %d bytes cannot be stored", idLen)
	}
	return nil
}

// encodeFacts is the facts column of a charge whose id is idLen bytes long.
func encodeFacts(f reconcile.ChargeFacts, idLen int) ([]byte, error) {
	if err := checkIDLength(idLen); err != nil {
		return nil, err
	}
	b := make([]byte, factsLen)
	binary.LittleEndian.PutUint64(b[0:], uint64(f.Created))
	for i, v := range [...]uint32{f.Class, f.Customer, f.Card, f.Email, f.Order, f.Key, f.ID, f.Intent} {
		binary.LittleEndian.PutUint32(b[8+4*i:], v)
	}
	b[40] = byte(f.Flags)
	binary.LittleEndian.PutUint16(b[41:], uint16(idLen))
	return b, nil
}

// decodeFacts reads what encodeFacts wrote, and the id length it holds. It
// reads a string, as the store hands facts over, byte by byte (little
// endian), so that no copy is made.
func decodeFacts(r string) (f reconcile.ChargeFacts, idLen int, err error) {
	if len(r) != factsLen {
		return f, 0, fmt.Errorf("facts are %d bytes, want %d", len(r), factsLen)
	}
	le := func(at, n int) uint64 {
		var v uint64
		for k := n - 1; k >= 0; k-- {
			v = v<<8 | uint64(r[at+k])
		}
		return v
	}
	if idLen = int(le(41, 2)); idLen < 1 {
		return f, 0, fmt.Errorf("facts %x have no id length", r)
	}
	if !reconcile.FactFlags(r[40]).Valid() {
		return f, 0, fmt.Errorf("facts %x have flags %#x of no provider", r, r[40])
	}
	u := func(i int) uint32 { return uint32(le(8+4*i, 4)) }
	return reconcile.ChargeFacts{
		Created: int64(le(0, 8)),
		Class:   u(0), Customer: u(1), Card: u(2), Email: u(3), Order: u(4), Key: u(5), ID: u(6), Intent: u(7),
		Flags: reconcile.FactFlags(r[40]),
	}, idLen, nil
}

// chargeFacts are the facts of every charge of a store and their ids, as
// read: charge i is the (i mod loadChunk)-th of chunk i/loadChunk, whose ids
// are one string, ends[i] where charge i's id ends in it.
type chargeFacts struct {
	facts []reconcile.ChargeFacts
	ids   []string
	ends  []uint32
}

func (cf *chargeFacts) id(i int32) string {
	chunk, start := cf.ids[i/loadChunk], uint32(0)
	if i%loadChunk > 0 {
		start = cf.ends[i-1]
	}
	return chunk[start:cf.ends[i]]
}

// readFacts reads the facts and ids of all charges from the index
// charges_facts in id order, loadChunk to a query as two strings: the facts,
// which have a fixed width and say how long each id is, and the ids. Each
// chunk is decoded on another goroutine while the next is read.
func readFacts(ctx context.Context, tx *txn) (*chargeFacts, error) {
	page, err := tx.PrepareContext(ctx, `SELECT count(*), `+tx.d.concatBytes("facts", "id")+`, coalesce(`+tx.d.concat("id", "id")+`, '')
		FROM (SELECT id, facts FROM charges`+tx.d.byIDIndex("charges_facts")+` WHERE id > ? ORDER BY id LIMIT ?) AS page`)
	if err != nil {
		return nil, err
	}
	defer page.Close()
	type chunk struct{ facts, ids string }
	chunks := make(chan chunk, 4)
	decoded := make(chan error, 1)
	// Counting first (SQLite counts the pages of the index without reading
	// its rows: a few hundredths of a second for a million charges) gives the
	// facts their exact room: growing them as they come copied a million
	// facts several times over and left up to twice the room.
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM charges`).Scan(&count); err != nil {
		return nil, err
	}
	cf := &chargeFacts{facts: make([]reconcile.ChargeFacts, 0, count), ends: make([]uint32, 0, count)}
	go func() {
		var err error
		for c := range chunks {
			if err == nil {
				err = cf.decodeChunk(c.facts, c.ids)
			}
		}
		decoded <- err
	}()
	readErr := func() error {
		defer close(chunks)
		after := ""
		for {
			var c chunk
			var count int
			if err := page.QueryRowContext(ctx, after, loadChunk).Scan(&count, &c.facts, &c.ids); err != nil {
				return err
			}
			if count == 0 {
				return nil
			}
			if len(c.facts) != count*factsLen {
				return fmt.Errorf("read %d bytes of facts for %d charges", len(c.facts), count)
			}
			// The last id, where the next chunk starts.
			n := int(c.facts[len(c.facts)-2]) | int(c.facts[len(c.facts)-1])<<8
			if n < 1 || n > len(c.ids) {
				return fmt.Errorf("facts record has a bad id length %d", n)
			}
			after = c.ids[len(c.ids)-n:]
			chunks <- c
		}
	}()
	if err := cmp.Or(readErr, <-decoded); err != nil {
		return nil, err
	}
	return cf, nil
}

// decodeChunk decodes one chunk of facts, whose ids are ids, onto cf.
func (cf *chargeFacts) decodeChunk(facts, ids string) error {
	end := 0
	for at := 0; at < len(facts); at += factsLen {
		f, n, err := decodeFacts(facts[at:min(at+factsLen, len(facts))])
		if err != nil {
			return err
		}
		if end += n; end > len(ids) {
			return fmt.Errorf("the ids of a chunk of facts are %d bytes, fewer than their facts say", len(ids))
		}
		cf.facts = append(cf.facts, f)
		cf.ends = append(cf.ends, uint32(end))
	}
	if end != len(ids) {
		return fmt.Errorf("the ids of a chunk of facts are %d bytes, more than their facts say (%d)", len(ids), end)
	}
	cf.ids = append(cf.ids, ids)
	return nil
}

// loadPicked loads the charges reconcile.Narrow picks from the facts of all
// charges and key records, in id order, with the key records detection needs
// of them, and tallies the rest. When Narrow picks more than an eighth of
// them, reading them by id would cost more than reading every charge in
// order, and it reads every charge.
func loadPicked(ctx context.Context, tx *txn, in *reconcile.Input, opts reconcile.Options) error {
	version, err := storedFactsVersion(ctx, tx)
	if err != nil {
		return err
	}
	if version != factsVersion {
		// Facts another version wrote, until a command that writes
		// recomputes them.
		return loadAll(ctx, tx, in)
	}
	cf, err := readFacts(ctx, tx)
	if err != nil {
		return fmt.Errorf("read charge facts: %w", err)
	}
	kf, err := readRecordFacts(ctx, tx, cf)
	if errors.Is(err, errRecordSeparator) {
		return loadAll(ctx, tx, in)
	}
	if err != nil {
		return fmt.Errorf("read key record facts: %w", err)
	}
	of := reconcile.StoreFacts{Charges: cf.facts, Records: kf.facts}
	if of.Requests, err = readRequestFacts(ctx, tx); err == nil {
		of.Checkouts, err = readCheckoutFacts(ctx, tx)
	}
	if errors.Is(err, errRecordSeparator) {
		return loadAll(ctx, tx, in)
	}
	if err != nil {
		return fmt.Errorf("read request and checkout facts: %w", err)
	}
	nw, err := reconcile.Narrow(of, opts, func(charges []int32) ([]reconcile.CreateRequest, error) {
		ids := make([]string, len(charges))
		for k, i := range charges {
			ids[k] = cf.id(i)
		}
		return readCreateRequests(ctx, tx, ids)
	})
	if err != nil {
		return err
	}
	if len(nw.Pick)*8 > len(cf.facts) {
		return loadAll(ctx, tx, in)
	}
	ids := make([]string, len(nw.Pick))
	for k, i := range nw.Pick {
		ids[k] = cf.id(i)
	}
	if in.Charges, err = loadChargesByID(ctx, tx, ids); err != nil {
		return err
	}
	// The records Narrow keeps are those of the picked charges and those
	// naming no stored charge: all the records of both sets of charge ids.
	// Looked up by id, unless there are so many ids (records naming charges
	// never synced) that reading every record costs less.
	if named := append(ids, kf.unnamed...); len(named)*8 <= len(kf.facts) {
		in.Keys, err = loadKeysOf(ctx, tx, named)
	} else if in.Keys, err = loadKeys(ctx, tx); err == nil {
		keep := make(map[string]bool, len(named))
		for _, id := range named {
			keep[id] = true
		}
		in.Keys = slices.DeleteFunc(in.Keys, func(k reconcile.KeyRecord) bool { return !keep[k.ChargeID] })
	}
	if err != nil {
		return fmt.Errorf("key records: %w", err)
	}
	if len(in.Keys) != len(nw.Records) {
		return fmt.Errorf("read %d key records of the picked charges, want %d", len(in.Keys), len(nw.Records))
	}
	// Detect looks requests up by a charge's id or PaymentIntent only, and
	// Checkout Sessions by PaymentIntent. Only a store that holds some is
	// asked: an imported one holds none, and looking up the ids of 20k
	// picked charges in empty tables took a fifteenth of its scan.
	var intents []string
	for _, c := range in.Charges {
		if c.PaymentIntent != "" {
			intents = append(intents, c.PaymentIntent)
		}
	}
	if len(of.Requests) > 0 {
		if in.Requests, err = loadRequestsOf(ctx, tx, append(slices.Clone(ids), intents...)); err != nil {
			return fmt.Errorf("request records: %w", err)
		}
	}
	if len(of.Checkouts) > 0 {
		if in.Checkouts, err = loadCheckoutsOf(ctx, tx, intents); err != nil {
			return fmt.Errorf("checkout sessions: %w", err)
		}
	}
	in.Unloaded = nw.Unloaded
	return nil
}

// loadChargesByID reads the charges of ids, which are ascending, in their
// order, rawChunk to a query as one string of load records.
func loadChargesByID(ctx context.Context, tx *txn, ids []string) ([]reconcile.Charge, error) {
	charges := make([]reconcile.Charge, 0, len(ids))
	err := concatIn(ctx, tx, `SELECT count(*), coalesce(`+tx.d.concat("detect_record", "id")+`, '')
		FROM (SELECT id, detect_record FROM charges WHERE id`, ids, ` ORDER BY id) AS page`, func(count int, records string) error {
		n := len(charges)
		if n+count > len(ids) {
			return fmt.Errorf("read %d charges for %d ids", n+count, len(ids))
		}
		charges = charges[:n+count]
		return parseLoadRecords(records, charges[n:])
	})
	if err != nil {
		return nil, err
	}
	if len(charges) != len(ids) {
		return nil, fmt.Errorf("%d of %d charges named by their facts were not found", len(ids)-len(charges), len(ids))
	}
	return charges, nil
}

// storedFactsVersion is the factsVersion the store's facts were written
// with, "" for none.
func storedFactsVersion(ctx context.Context, q querier) (string, error) {
	var version string
	err := q.QueryRowContext(ctx, `SELECT coalesce((SELECT value FROM state WHERE name = ?), '')`, stateFactsVersion).Scan(&version)
	if err != nil {
		return "", fmt.Errorf("read the facts version: %w", err)
	}
	return version, nil
}

// refreshFacts recomputes the facts of every charge when the store's were
// written by another factsVersion (or none: the store predates the state).
func (s *Store) refreshFacts(ctx context.Context) error {
	// Read first, outside a write transaction: an open must not wait for
	// another process's import or sync to end.
	version, err := storedFactsVersion(ctx, s.writer)
	if err != nil || version == factsVersion {
		return err
	}
	return s.withTx(ctx, func(tx *txn) error {
		if s.d.postgres {
			// One process recomputes; the others then find the work done.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
				return fmt.Errorf("open store %s: wait for another process: %w", s.path, err)
			}
		}
		version, err := storedFactsVersion(ctx, tx)
		if err != nil || version == factsVersion {
			return err
		}
		if err := backfillFacts(ctx, tx); err != nil {
			return fmt.Errorf("open store %s: %w", s.path, err)
		}
		return nil
	})
}

// backfillFacts writes the facts of every charge, from its load record, and
// the version they were computed with.
func backfillFacts(ctx context.Context, tx *txn) error {
	var pending []any // id, facts, …
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		row := "(" + tx.d.param(kindText) + ", " + tx.d.param(kindBytes) + ")"
		_, err := tx.ExecContext(ctx, `UPDATE charges SET facts = v.column2
			FROM (VALUES `+row+strings.Repeat(", "+row, len(pending)/2-1)+`) AS v WHERE charges.id = v.column1`, pending...)
		pending = pending[:0]
		return err
	}
	err := readLoadRecords(ctx, tx, func(count int, records string) error {
		charges := make([]reconcile.Charge, count)
		if err := parseLoadRecords(records, charges); err != nil {
			return err
		}
		for i := range charges {
			facts, err := encodeFacts(reconcile.FactsOf(&charges[i]), len(charges[i].ID))
			if err != nil {
				return err
			}
			pending = append(pending, charges[i].ID, facts)
			if len(pending) == 2*rawChunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = setState(ctx, tx, stateFactsVersion, factsVersion)
	}
	if err != nil {
		return fmt.Errorf("compute the facts of stored charges: %w", err)
	}
	return nil
}
