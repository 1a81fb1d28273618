package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// recordSep separates the values of a chunk of rows readRows reads.
const recordSep = "\x1f"

// errRecordSeparator: a value readRows read holds recordSep, so its chunk
// cannot be split; detection then reads every charge and record.
var errRecordSeparator = errors.New("a stored value holds the separator U+001F")

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
// order, and joins them to cf's charges, which are in id order too.
func readRecordFacts(ctx context.Context, tx *txn, cf *chargeFacts) (*keyRecordFacts, error) {
	kf := &keyRecordFacts{}
	join := reconcile.NewRecordJoin(len(cf.facts), cf.id)
	sources := map[string][]string{}
	order := []string{tx.d.bytewise("charge_id"), tx.d.bytewise("key")}
	err := readRows(ctx, tx, "key_records"+tx.d.byIDIndex("key_records_by_charge"), order, []string{"charge_id", "key", "order_ref", "sources"}, func(row []string) error {
		rec := reconcile.KeyRecord{ChargeID: row[0], Key: row[1], OrderRef: row[2]}
		if rec.Sources = sources[row[3]]; rec.Sources == nil {
			rec.Sources = splitSources(strings.Clone(row[3])) // kept: not the chunk's memory
			sources[strings.Clone(row[3])] = rec.Sources
		}
		charge, err := join.Charge(rec.ChargeID)
		if err != nil {
			return err
		}
		if charge < 0 && (len(kf.unnamed) == 0 || kf.unnamed[len(kf.unnamed)-1] != rec.ChargeID) {
			kf.unnamed = append(kf.unnamed, strings.Clone(rec.ChargeID))
		}
		kf.facts = append(kf.facts, reconcile.RecordFactsOf(&rec, charge))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return kf, nil
}

// readRequestFacts reads what detection needs of every request record (its
// object and key), in the order of the requests' primary key.
func readRequestFacts(ctx context.Context, tx *txn) ([]reconcile.RequestFacts, error) {
	var facts []reconcile.RequestFacts
	err := readRows(ctx, tx, "requests", []string{"object_id"}, []string{"object_id", "idempotency_key"}, func(row []string) error {
		facts = append(facts, reconcile.RequestFactsOf(&reconcile.RequestRecord{Object: row[0], Key: row[1]}))
		return nil
	})
	return facts, err
}

// readCheckoutFacts reads what detection needs of every Checkout Session
// (its PaymentIntent and order ref), in the order of their primary key.
func readCheckoutFacts(ctx context.Context, tx *txn) ([]reconcile.CheckoutFacts, error) {
	var facts []reconcile.CheckoutFacts
	err := readRows(ctx, tx, "checkout_sessions", []string{"id"}, []string{"id", "payment_intent", "client_reference_id", "metadata"}, func(row []string) error {
		c := reconcile.CheckoutRecord{Session: row[0], PaymentIntent: row[1], ClientReferenceID: row[2]}
		if c.ClientReferenceID == "" { // the order ref then comes from the metadata
			var err error
			if c.Metadata, err = checkoutMetadata(c.Session, row[3]); err != nil {
				return err
			}
		}
		facts = append(facts, reconcile.CheckoutFactsOf(&c))
		return nil
	})
	return facts, err
}

// readRows reads columns of every row of from, in the order of the leading
// columns whose expressions order gives (which must name each row once),
// loadChunk rows to a query as one string the database concatenates, every
// value followed by recordSep but the last: a row read through database/sql
// costs a lock, a copy and an allocation, and one aggregate is one sort on
// PostgreSQL. row gets each row's values, in order, on another goroutine
// while the next chunk is read; its strings live only for the call. A value
// holding recordSep is errRecordSeparator.
func readRows(ctx context.Context, tx *txn, from string, order, columns []string, row func(values []string) error) error {
	d := tx.d
	orderBy := strings.Join(order, ", ")
	sep := d.unitSeparator()
	// The first page starts at the first row, the next after the last one
	// read.
	query := func(op string) string {
		return `SELECT count(*), coalesce(` + d.concatSep(strings.Join(columns, " || "+sep+" || "), sep, orderBy) + `, '')
			FROM (SELECT ` + strings.Join(columns, ", ") + ` FROM ` + from + `
			WHERE (` + orderBy + `) ` + op + ` (?` + strings.Repeat(", ?", len(order)-1) + `) ORDER BY ` + orderBy + ` LIMIT ?) AS page`
	}
	first, err := tx.PrepareContext(ctx, query(">="))
	if err != nil {
		return err
	}
	defer first.Close()
	next, err := tx.PrepareContext(ctx, query(">"))
	if err != nil {
		return err
	}
	defer next.Close()

	type chunk struct {
		count  int
		values string
	}
	chunks := make(chan chunk, 4)
	decoded := make(chan error, 1)
	go func() {
		var err error
		values := make([]string, len(columns))
		for c := range chunks {
			rest := c.values
			for range c.count {
				if err != nil {
					break
				}
				for k := range values {
					values[k], rest, _ = strings.Cut(rest, recordSep)
				}
				err = row(values)
			}
		}
		decoded <- err
	}()
	readErr := func() error {
		defer close(chunks)
		page := first
		args := make([]any, len(order)+1)
		for k := range order {
			args[k] = ""
		}
		args[len(order)] = loadChunk
		for {
			var c chunk
			if err := page.QueryRowContext(ctx, args...).Scan(&c.count, &c.values); err != nil {
				return err
			}
			if c.count == 0 {
				return nil
			}
			if strings.Count(c.values, recordSep) != c.count*len(columns)-1 {
				return errRecordSeparator
			}
			// Where the next chunk starts: the last row's ordering columns,
			// the leading columns read. The last row follows the
			// len(columns)-th separator from the end, if there is one.
			start := len(c.values)
			for range len(columns) {
				if start = strings.LastIndex(c.values[:start], recordSep); start < 0 {
					break
				}
			}
			last := c.values[start+1:]
			for k := range order {
				args[k], last, _ = strings.Cut(last, recordSep)
			}
			page = next
			chunks <- c
		}
	}()
	return cmp.Or(readErr, <-decoded)
}

// loadKeysOf reads the key records of the charges of chargeIDs.
func loadKeysOf(ctx context.Context, tx *txn, chargeIDs []string) (keys []reconcile.KeyRecord, err error) {
	// In the index's collation, so that PostgreSQL reads it.
	err = queryIn(ctx, tx, `SELECT key, charge_id, order_ref, sources, seen_at FROM key_records WHERE `+tx.d.bytewise("charge_id"), chargeIDs, "", func(rows *sql.Rows) (err error) {
		keys, err = scanKeys(rows, keys)
		return err
	})
	return keys, err
}

// loadRequestsOf reads the request records of objects.
func loadRequestsOf(ctx context.Context, tx *txn, objects []string) (requests []reconcile.RequestRecord, err error) {
	err = queryIn(ctx, tx, `SELECT object_id, idempotency_key, seen_at FROM requests WHERE object_id`, objects, "", func(rows *sql.Rows) (err error) {
		requests, err = scanRequests(rows, requests)
		return err
	})
	return requests, err
}

// queryIn runs query, which ends in a column, completed by IN, a list of
// values and then, for values rawChunk at a time, and hands scan the rows of
// each.
func queryIn(ctx context.Context, tx *txn, query string, values []string, then string, scan func(*sql.Rows) error) error {
	args := make([]any, 0, rawChunk)
	for first := 0; first < len(values); first += rawChunk {
		batch := values[first:min(first+rawChunk, len(values))]
		args = args[:0]
		for _, v := range batch {
			args = append(args, v)
		}
		rows, err := tx.QueryContext(ctx, query+` IN (?`+strings.Repeat(", ?", len(batch)-1)+`)`+then, args...)
		if err != nil {
			return err
		}
		if err := scan(rows); err != nil {
			return err
		}
	}
	return nil
}

// readCreateRequests reads, for the charges of ids (ascending), whether the
// request that created each one's PaymentIntent was seen, and with a key:
// as one string of a byte a charge ('-' none, '0' without a key, '1' with
// one).
func readCreateRequests(ctx context.Context, tx *txn, ids []string) ([]reconcile.CreateRequest, error) {
	out := make([]reconcile.CreateRequest, 0, len(ids))
	err := concatIn(ctx, tx, `SELECT count(*), coalesce(`+tx.d.concat("seen", "id")+`, '') FROM (SELECT c.id,
			CASE WHEN r.object_id IS NULL THEN '-' WHEN r.idempotency_key = '' THEN '0' ELSE '1' END AS seen
		FROM charges c LEFT JOIN requests r ON r.object_id = c.payment_intent AND c.payment_intent <> '' WHERE c.id`, ids, ` ORDER BY c.id) AS page`, func(count int, seen string) error {
		if len(seen) != count {
			return fmt.Errorf("read %d answers for %d charges", len(seen), count)
		}
		for _, b := range []byte(seen) {
			out = append(out, reconcile.CreateRequest{Seen: b != '-', Keyed: b == '1'})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) != len(ids) {
		return nil, fmt.Errorf("%d of %d charges not found", len(ids)-len(out), len(ids))
	}
	return out, nil
}

// concatIn is queryIn for a query that returns one row for each list of
// values: a count and the concatenation of a value of each row counted.
func concatIn(ctx context.Context, tx *txn, query string, values []string, then string, each func(count int, concatenated string) error) error {
	return queryIn(ctx, tx, query, values, then, func(rows *sql.Rows) error {
		defer rows.Close()
		for rows.Next() {
			var count int
			var concatenated string
			if err := rows.Scan(&count, &concatenated); err != nil {
				return err
			}
			if err := each(count, concatenated); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}
