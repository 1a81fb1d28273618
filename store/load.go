package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// LoadInput reads everything detection needs from one consistent snapshot:
// all charges (without their raw JSON), key records, decisions and refund
// intents.
func (s *Store) LoadInput(ctx context.Context) (reconcile.Input, error) {
	return s.load(ctx, nil)
}

// LoadForDetection is LoadInput for detection with opts: when the charges'
// facts serve opts (reconcile.FactsServe), only the charges reconcile.Narrow
// picks are read in full and the rest are tallied in Input.Unloaded, which
// Detect reports exactly as it would all of them.
func (s *Store) LoadForDetection(ctx context.Context, opts reconcile.Options) (reconcile.Input, error) {
	if !reconcile.FactsServe(opts) {
		return s.load(ctx, nil)
	}
	return s.load(ctx, &opts)
}

// load is LoadInput, narrowed for detection with narrow when it is not nil.
func (s *Store) load(ctx context.Context, narrow *reconcile.Options) (reconcile.Input, error) {
	var in reconcile.Input
	// A read transaction on a WAL database is a snapshot: a sync committing
	// meanwhile is either wholly visible or not at all.
	tx, err := s.reader.BeginTx(ctx, s.d.snapshot())
	if err != nil {
		return in, fmt.Errorf("load from %s: %w", s.path, err)
	}
	defer tx.Rollback()

	if in.Decisions, err = loadDecisions(ctx, tx); err != nil {
		return in, fmt.Errorf("load decisions from %s: %w", s.path, err)
	}
	if in.Refunds, err = queryIntents(ctx, tx, ""); err != nil {
		return in, fmt.Errorf("load refund intents from %s: %w", s.path, err)
	}
	// Last: narrowing needs the records above.
	if narrow != nil {
		err = loadPicked(ctx, tx, &in, *narrow)
	} else {
		err = loadAll(ctx, tx, &in)
	}
	if err != nil {
		return in, fmt.Errorf("load charges from %s: %w", s.path, err)
	}
	return in, nil
}

// loadAll loads every charge, key record, request record and Checkout
// Session.
func loadAll(ctx context.Context, tx *txn, in *reconcile.Input) (err error) {
	if in.Keys, err = loadKeys(ctx, tx); err != nil {
		return fmt.Errorf("key records: %w", err)
	}
	if in.Requests, err = loadRequests(ctx, tx); err != nil {
		return fmt.Errorf("request records: %w", err)
	}
	if in.Checkouts, err = loadCheckouts(ctx, tx); err != nil {
		return fmt.Errorf("checkout sessions: %w", err)
	}
	in.Charges, err = loadCharges(ctx, tx)
	return err
}

// loadCharges reads the load records of all charges, then parses them on
// loadWorkers goroutines into one slice. The rows are not counted first: that
// walked every page of the table once more (about an eighth of a million-charge
// load), and the records, read in chunks, are kept anyway (the charges' strings
// share their memory), so the count comes free once they are all read.
func loadCharges(ctx context.Context, tx *txn) ([]reconcile.Charge, error) {
	type chunk struct {
		first, count int
		records      string
	}
	var chunks []chunk
	n := 0
	if err := readLoadRecords(ctx, tx, func(count int, records string) error {
		chunks = append(chunks, chunk{n, count, records})
		n += count
		return nil
	}); err != nil {
		return nil, err
	}
	charges := make([]reconcile.Charge, n)
	next := make(chan chunk, len(chunks))
	for _, ch := range chunks {
		next <- ch
	}
	close(next)
	parseErrs := make(chan error, loadWorkers)
	var wg sync.WaitGroup
	for range loadWorkers {
		wg.Go(func() {
			for ch := range next {
				if err := parseLoadRecords(ch.records, charges[ch.first:ch.first+ch.count]); err != nil {
					parseErrs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(parseErrs)
	if err := <-parseErrs; err != nil {
		return nil, err
	}
	return charges, nil
}

// loadWorkers parse load records.
const loadWorkers = 2

// loadChunk is how many load records one query returns, joined in one string:
// a row read through database/sql costs a lock, a copy and an allocation, so
// reading a million records as a million rows took most of a load.
const loadChunk = 4096

// readLoadRecords hands the load records of all charges to emit in chunks of
// count records, concatenated (each record says where it ends), and stops at
// emit's first error.
func readLoadRecords(ctx context.Context, tx *txn, emit func(count int, records string) error) error {
	// Keyset paging on the primary key: each chunk starts where the last ended.
	page, err := tx.PrepareContext(ctx, `SELECT count(*), max(id), coalesce(`+tx.d.concat("detect_record", "id")+`, '')
		FROM (SELECT id, detect_record FROM charges WHERE id > ? ORDER BY id LIMIT ?) AS page`)
	if err != nil {
		return err
	}
	defer page.Close()
	after := ""
	for {
		var count int
		var last sql.NullString
		var records string
		if err := page.QueryRowContext(ctx, after, loadChunk).Scan(&count, &last, &records); err != nil {
			return err
		}
		if count == 0 {
			return nil
		}
		if err := emit(count, records); err != nil {
			return err
		}
		after = last.String
	}
}

func loadKeys(ctx context.Context, tx *txn) ([]reconcile.KeyRecord, error) {
	rows, err := tx.QueryContext(ctx, `SELECT key, charge_id, order_ref, sources, seen_at FROM key_records`)
	if err != nil {
		return nil, err
	}
	return scanKeys(rows, nil)
}

// scanKeys appends to keys the key records of rows, and closes them.
func scanKeys(rows *sql.Rows, keys []reconcile.KeyRecord) ([]reconcile.KeyRecord, error) {
	defer rows.Close()
	for rows.Next() {
		var k reconcile.KeyRecord
		var sources string
		var seen int64
		if err := rows.Scan(&k.Key, &k.ChargeID, &k.OrderRef, &sources, &seen); err != nil {
			return nil, err
		}
		k.Sources, k.SeenAt = splitSources(sources), decodeTime(seen)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

func loadRequests(ctx context.Context, tx *txn) ([]reconcile.RequestRecord, error) {
	rows, err := tx.QueryContext(ctx, `SELECT object_id, idempotency_key, seen_at FROM requests`)
	if err != nil {
		return nil, err
	}
	return scanRequests(rows, nil)
}

// scanRequests appends to out the request records of rows, and closes them.
func scanRequests(rows *sql.Rows, out []reconcile.RequestRecord) ([]reconcile.RequestRecord, error) {
	defer rows.Close()
	for rows.Next() {
		var r reconcile.RequestRecord
		var seen int64
		if err := rows.Scan(&r.Object, &r.Key, &seen); err != nil {
			return nil, err
		}
		r.SeenAt = decodeTime(seen)
		out = append(out, r)
	}
	return out, rows.Err()
}

func loadCheckouts(ctx context.Context, tx *txn) ([]reconcile.CheckoutRecord, error) {
	rows, err := tx.QueryContext(ctx, checkoutsQuery)
	if err != nil {
		return nil, err
	}
	return scanCheckouts(rows, nil)
}

// loadCheckoutsOf reads the Checkout Sessions of the PaymentIntents intents.
func loadCheckoutsOf(ctx context.Context, tx *txn, intents []string) (checkouts []reconcile.CheckoutRecord, err error) {
	err = queryIn(ctx, tx, checkoutsQuery+` WHERE payment_intent`, intents, "", func(rows *sql.Rows) (err error) {
		checkouts, err = scanCheckouts(rows, checkouts)
		return err
	})
	return checkouts, err
}

const checkoutsQuery = `SELECT id, payment_intent, client_reference_id, metadata, completed_at FROM checkout_sessions`

// scanCheckouts appends to out the Checkout Sessions of rows, and closes them.
func scanCheckouts(rows *sql.Rows, out []reconcile.CheckoutRecord) ([]reconcile.CheckoutRecord, error) {
	defer rows.Close()
	for rows.Next() {
		var c reconcile.CheckoutRecord
		var metadata string
		var at int64
		if err := rows.Scan(&c.Session, &c.PaymentIntent, &c.ClientReferenceID, &metadata, &at); err != nil {
			return nil, err
		}
		m, err := checkoutMetadata(c.Session, metadata)
		if err != nil {
			return nil, err
		}
		c.Metadata, c.CompletedAt = m, decodeTime(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// checkoutMetadata decodes the stored metadata of Checkout Session session.
func checkoutMetadata(session, metadata string) (map[string]string, error) {
	if metadata == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(metadata), &m); err != nil {
		return nil, fmt.Errorf("checkout session %s: metadata: %w", session, err)
	}
	return m, nil
}

func loadDecisions(ctx context.Context, tx *txn) ([]reconcile.Decision, error) {
	rows, err := tx.QueryContext(ctx, `SELECT group_id, charge_id, kind, operator, at, note, charge_ids FROM decisions ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var decisions []reconcile.Decision
	for rows.Next() {
		var d reconcile.Decision
		var at int64
		var covered string
		if err := rows.Scan(&d.GroupID, &d.ChargeID, &d.Kind, &d.Operator, &at, &d.Note, &covered); err != nil {
			return nil, err
		}
		d.At = decodeTime(at)
		if covered != "" {
			d.Charges = strings.Fields(covered)
		}
		decisions = append(decisions, d)
	}
	return decisions, rows.Err()
}
