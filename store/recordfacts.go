package store

import (
	"cmp"
	"context"
	"errors"
	"strings"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// recordSep separates the values of one column in a chunk of key records.
const recordSep = "\x1f"

// errRecordSeparator: a key record's value holds recordSep, so a chunk of
// them cannot be split; detection then reads every charge and record.
var errRecordSeparator = errors.New("a key record holds the separator U+001F")

// keyRecordFacts are the facts of every key record of a store, in charge id
// order, joined to the charges of a chargeFacts.
type keyRecordFacts struct {
	facts []reconcile.RecordFacts
	// unnamed are the distinct charge ids, ascending, of the records that
	// name no stored charge ("" for those naming none).
	unnamed []string
}

// readRecordFacts reads what detection needs of every key record (charge id,
// key, order ref, sources) from the index key_records_by_charge, in charge id
// order, loadChunk records to a query as one string per column, and joins
// them to cf's charges, which are in id order too. Each chunk is decoded and
// joined on another goroutine while the next is read.
func readRecordFacts(ctx context.Context, tx *txn, cf *chargeFacts) (*keyRecordFacts, error) {
	d := tx.d
	order := d.bytewise("charge_id") + ", " + d.bytewise("key")
	column := func(name string) string {
		return "coalesce(" + d.concatSep(name, d.unitSeparator(), order) + ", '')"
	}
	// The first page starts at the first record, the next after the last
	// one read: a record of an empty key and no charge sorts first.
	query := func(from string) string {
		return `SELECT count(*), ` + column("charge_id") + `, ` + column("key") + `, ` + column("order_ref") + `, ` + column("sources") + `
			FROM (SELECT charge_id, key, order_ref, sources FROM key_records` + d.byIDIndex("key_records_by_charge") + `
			WHERE (` + order + `) ` + from + ` (?, ?) ORDER BY ` + order + ` LIMIT ?) AS page`
	}
	first, err := tx.PrepareContext(ctx, query(">="))
	if err != nil {
		return nil, err
	}
	defer first.Close()
	next, err := tx.PrepareContext(ctx, query(">"))
	if err != nil {
		return nil, err
	}
	defer next.Close()

	type chunk struct {
		count                               int
		chargeIDs, keys, orderRefs, sources string
	}
	chunks := make(chan chunk, 4)
	decoded := make(chan error, 1)
	kf := &keyRecordFacts{}
	go func() {
		join := reconcile.NewRecordJoin(len(cf.facts), cf.id)
		sources := map[string][]string{}
		var err error
		for c := range chunks {
			if err != nil {
				continue
			}
			chargeIDs, keys, orderRefs, sourceSets := c.chargeIDs, c.keys, c.orderRefs, c.sources
			for range c.count {
				var rec reconcile.KeyRecord
				var set string
				rec.ChargeID, chargeIDs = cutRecordValue(chargeIDs)
				rec.Key, keys = cutRecordValue(keys)
				rec.OrderRef, orderRefs = cutRecordValue(orderRefs)
				set, sourceSets = cutRecordValue(sourceSets)
				if rec.Sources = sources[set]; rec.Sources == nil {
					rec.Sources = splitSources(set)
					sources[set] = rec.Sources
				}
				var charge int32
				if charge, err = join.Charge(rec.ChargeID); err != nil {
					break
				}
				if charge < 0 && (len(kf.unnamed) == 0 || kf.unnamed[len(kf.unnamed)-1] != rec.ChargeID) {
					kf.unnamed = append(kf.unnamed, strings.Clone(rec.ChargeID))
				}
				kf.facts = append(kf.facts, reconcile.RecordFactsOf(&rec, charge))
			}
		}
		decoded <- err
	}()
	readErr := func() error {
		defer close(chunks)
		page, after := first, [2]string{}
		for {
			var c chunk
			if err := page.QueryRowContext(ctx, after[0], after[1], loadChunk).Scan(&c.count, &c.chargeIDs, &c.keys, &c.orderRefs, &c.sources); err != nil {
				return err
			}
			if c.count == 0 {
				return nil
			}
			for _, values := range []string{c.chargeIDs, c.keys, c.orderRefs, c.sources} {
				if strings.Count(values, recordSep) != c.count-1 {
					return errRecordSeparator
				}
			}
			// Where the next chunk starts: the last record's charge id and key.
			after = [2]string{c.chargeIDs[strings.LastIndex(c.chargeIDs, recordSep)+1:], c.keys[strings.LastIndex(c.keys, recordSep)+1:]}
			page = next
			chunks <- c
		}
	}()
	if err := cmp.Or(readErr, <-decoded); err != nil {
		return nil, err
	}
	return kf, nil
}

// cutRecordValue splits the first value off a column of a chunk of records.
func cutRecordValue(values string) (value, rest string) {
	value, rest, _ = strings.Cut(values, recordSep)
	return value, rest
}

// loadKeysOf reads the key records of the charges of chargeIDs, rawChunk
// charges to a query.
func loadKeysOf(ctx context.Context, tx *txn, chargeIDs []string) ([]reconcile.KeyRecord, error) {
	var keys []reconcile.KeyRecord
	args := make([]any, 0, rawChunk)
	for first := 0; first < len(chargeIDs); first += rawChunk {
		batch := chargeIDs[first:min(first+rawChunk, len(chargeIDs))]
		args = args[:0]
		for _, id := range batch {
			args = append(args, id)
		}
		// In the index's collation, so that PostgreSQL reads it.
		rows, err := tx.QueryContext(ctx, `SELECT key, charge_id, order_ref, sources, seen_at FROM key_records
			WHERE `+tx.d.bytewise("charge_id")+` IN (?`+strings.Repeat(", ?", len(batch)-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		if keys, err = scanKeys(rows, keys); err != nil {
			return nil, err
		}
	}
	return keys, nil
}
