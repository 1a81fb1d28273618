package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// Times are stored as Unix nanoseconds, 0 for the zero time. UnixNano is defined
// from 1678 to 2262; anything outside is bad input, not a Stripe time.
var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

func encodeTime(t time.Time, what string) (int64, error) {
	if t.IsZero() {
		return 0, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return 0, fmt.Errorf("%s %s is out of range", what, t.Format(time.RFC3339))
	}
	return t.UnixNano(), nil
}

func decodeTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// chargeColumns are the columns of charges in the order appendChargeArgs gives
// them.
const chargeColumns = `id, created, amount, amount_refunded, currency, status, captured, refunded,
	disputed, customer, email, card_fingerprint, card_brand, card_last4, payment_intent, description,
	metadata, livemode, provider, observed, detect_record, facts`

const chargeColumnCount = 22

// derivedColumns are the columns of chargeColumns computed from the others
// (and observed, which says when they were true): a charge whose other
// columns are unchanged is unchanged.
var derivedColumns = map[string]bool{"observed": true, "detect_record": true, "facts": true}

// intColumns are the columns of chargeColumns that hold integers (times,
// amounts, flags); facts holds bytes and the others text.
var intColumns = map[string]bool{"created": true, "amount": true, "amount_refunded": true, "captured": true,
	"refunded": true, "disputed": true, "livemode": true, "observed": true}

// chunkRows is how many charges one upsert statement writes, so that the costs
// paid per statement (set-up, halt, database/sql bookkeeping) are paid once per
// fifty charges.
const chunkRows = 50

// chargeUpsert ends an INSERT into charges: per charge, the newest observation
// wins (ties go to the later write).
const chargeUpsert = `
ON CONFLICT (id) DO UPDATE SET
	created = excluded.created, amount = excluded.amount, amount_refunded = excluded.amount_refunded,
	currency = excluded.currency, status = excluded.status, captured = excluded.captured,
	refunded = excluded.refunded, disputed = excluded.disputed, customer = excluded.customer,
	email = excluded.email, card_fingerprint = excluded.card_fingerprint,
	card_brand = excluded.card_brand, card_last4 = excluded.card_last4,
	payment_intent = excluded.payment_intent, description = excluded.description,
	metadata = excluded.metadata, livemode = excluded.livemode, provider = excluded.provider,
	observed = excluded.observed,
	detect_record = excluded.detect_record, facts = excluded.facts
WHERE excluded.observed >= charges.observed`

// chunkStatements upsert n charges and their raw JSON; stored counts, before
// the upsert, the charges it will change (prepared on a writer's first count:
// an import never counts).
type chunkStatements struct {
	charges, raw statement
	stored       *sql.Stmt
}

// statement is a prepared statement that writes: database/sql's, or the
// driver's own (see driverPreparer).
type statement interface {
	exec(ctx context.Context, args []any) error
	Close() error
}

// sqlStatement is a statement of database/sql.
type sqlStatement struct{ *sql.Stmt }

func (s sqlStatement) exec(ctx context.Context, args []any) error {
	_, err := s.ExecContext(ctx, args...)
	return err
}

// prepareChunk prepares the statements that write n charges: upserts, or
// with fresh plain inserts, for a SQLite transaction that began on a store
// holding no charges and writes each charge once (an import: see
// ChargeImport).
func prepareChunk(ctx context.Context, d *dialect, prepare preparer, n int, fresh bool) (*chunkStatements, error) {
	values := strings.TrimSuffix(strings.Repeat("(?"+strings.Repeat(", ?", chargeColumnCount-1)+"), ", n), ", ")
	rawRow := "(" + d.param(kindText) + ", " + d.param(kindBytes) + ", " + d.param(kindInt) + "), "
	rawValues := strings.TrimSuffix(strings.Repeat(rawRow, n), ", ")
	chargesQuery := `INSERT INTO charges (` + chargeColumns + `) VALUES ` + values + chargeUpsert
	// The raw JSON follows the typed columns: it is written only where the row
	// now holds this observation, that is where the upsert above won (or tied).
	// A row without raw JSON (NULL) keeps the last raw JSON received. Its rows
	// are taken in the order of ids whatever join the planner picks.
	rawQuery := `INSERT INTO charge_raw (id, raw)
SELECT v.column1, v.column2 FROM (VALUES ` + rawValues + `) AS v
JOIN charges AS c ON c.id = v.column1 AND c.observed = v.column3
WHERE v.column2 IS NOT NULL
ORDER BY c.id
ON CONFLICT (id) DO UPDATE SET raw = excluded.raw`
	if fresh {
		// Every charge is new and wins, so neither the upsert nor the join
		// to charges has anything to decide: plain inserts wrote a million
		// charges into a new store in 8–9 s against 14–15 s. OR FAIL stops
		// a failing statement where it is rather than undo it alone, and
		// SQLite then keeps no statement journal (a copy of each page it
		// changes): its failure rolls back the whole import anyway. Only
		// SQLite imports are fresh (see ImportCharges).
		chargesQuery = `INSERT OR FAIL INTO charges (` + chargeColumns + `) VALUES ` + values
		rawQuery = `INSERT OR FAIL INTO charge_raw (id, raw)
SELECT v.column1, v.column2 FROM (VALUES ` + rawValues + `) AS v
WHERE v.column2 IS NOT NULL`
	}
	charges, err := prepare(ctx, chargesQuery)
	if err != nil {
		return nil, fmt.Errorf("prepare charge upsert: %w", err)
	}
	raw, err := prepare(ctx, rawQuery)
	if err != nil {
		charges.Close()
		return nil, fmt.Errorf("prepare raw charge upsert: %w", err)
	}
	return &chunkStatements{charges: charges, raw: raw}, nil
}

// preparer prepares a statement that writes.
type preparer func(ctx context.Context, query string) (statement, error)

// sqlPreparer prepares statements of tx.
func sqlPreparer(tx *txn) preparer {
	return func(ctx context.Context, query string) (statement, error) {
		st, err := tx.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		return sqlStatement{st}, nil
	}
}

// driverPreparer prepares statements on the driver's own connection, which
// is usable only during a sql.Conn's Raw: an import writes a million charges
// through them, and database/sql's conversion of each of their arguments was
// a twentieth of the time of the writer, whose one core bounds the import.
// The arguments must be the driver's values already (appendChargeArgs gives
// only int64, string, []byte and nil).
func driverPreparer(conn driver.ConnPrepareContext) preparer {
	return func(ctx context.Context, query string) (statement, error) {
		st, err := conn.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		exec, ok := st.(driver.StmtExecContext)
		if !ok {
			st.Close()
			return nil, fmt.Errorf("the database driver's statements (%T) take no context", st)
		}
		return &driverStatement{Stmt: st, execer: exec}, nil
	}
}

// driverStatement is a statement of the driver, with its arguments' buffer.
type driverStatement struct {
	driver.Stmt
	execer driver.StmtExecContext
	args   []driver.NamedValue
}

func (s *driverStatement) exec(ctx context.Context, args []any) error {
	s.args = s.args[:0]
	for i, a := range args {
		s.args = append(s.args, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	_, err := s.execer.ExecContext(ctx, s.args)
	clear(s.args) // they hold the charges' strings and raw JSON
	return err
}

func (c *chunkStatements) Close() {
	c.charges.Close()
	c.raw.Close()
	if c.stored != nil {
		c.stored.Close()
	}
}

// changes counts the charges of a chunk (chargeArgs, n rows of
// chargeColumns) the upsert will add or change: new ones, and those whose
// observation wins and differs in a stored column (derivedColumns aside). SQLite compares, so no row comes back to Go.
func (c *chunkStatements) changes(ctx context.Context, chargeArgs []any) (int, error) {
	var n int
	if err := c.stored.QueryRowContext(ctx, chargeArgs...).Scan(&n); err != nil {
		return 0, fmt.Errorf("compare with stored charges: %w", err)
	}
	return n, nil
}

// changedQuery counts the rows of a VALUES list of n rows of chargeColumns that
// an upsert would add or change.
func changedQuery(d *dialect, n int) string {
	cols := strings.Split(chargeColumns, ",")
	params := make([]string, len(cols))
	for i, col := range cols {
		kind := kindText
		switch col := strings.TrimSpace(col); {
		case intColumns[col]:
			kind = kindInt
		case col == "facts":
			kind = kindBytes
		}
		params[i] = d.param(kind)
	}
	values := strings.TrimSuffix(strings.Repeat("("+strings.Join(params, ", ")+"), ", n), ", ")
	var differs []string
	observed := 0
	for i, col := range cols[1:] { // the id is what rows are joined on
		switch col = strings.TrimSpace(col); {
		case col == "observed":
			observed = i + 2
		case !derivedColumns[col]:
			differs = append(differs, fmt.Sprintf("c.%s IS DISTINCT FROM v.column%d", col, i+2))
		}
	}
	return `SELECT count(*) FROM (VALUES ` + values + `) AS v LEFT JOIN charges AS c ON c.id = v.column1
WHERE c.id IS NULL OR (v.column` + strconv.Itoa(observed) + ` >= c.observed AND (` + strings.Join(differs, " OR ") + `))`
}

var errNoChargeID = errors.New("charge has no id")

// appendChargeArgs appends the upsert arguments of c: chargeColumns to
// chargeArgs, and id, raw JSON and observed time to rawArgs.
func appendChargeArgs(chargeArgs, rawArgs []any, c *reconcile.Charge) ([]any, []any, error) {
	created, observed, provider, err := storableValues(c)
	if err != nil {
		return nil, nil, err
	}
	metadata := c.MetadataJSON // a charge loaded from a store carries it so
	if len(c.Metadata) > 0 {
		if metadata, err = metadataJSON(c.Metadata); err != nil {
			return nil, nil, fmt.Errorf("charge %s: encode metadata: %w", c.ID, err)
		}
	}
	facts, err := chargeFactsColumn(*c, provider)
	if err != nil {
		return nil, nil, fmt.Errorf("charge %s: %w", c.ID, err)
	}
	chargeArgs = append(chargeArgs, c.ID, created, c.Amount, c.AmountRefunded, c.Currency, c.Status,
		boolInt(c.Captured), boolInt(c.Refunded), boolInt(c.Disputed), c.Customer, c.Email,
		c.CardFingerprint, c.CardBrand, c.CardLast4, c.PaymentIntent, c.Description, metadata,
		boolInt(c.Livemode), string(provider), observed, loadRecord(c, provider, created, observed, metadata), facts)
	var raw any // NULL: no raw JSON in this observation
	if len(c.Raw) > 0 {
		raw = c.Raw
	}
	return chargeArgs, append(rawArgs, c.ID, raw, observed), nil
}

// A charge's values for charge_raw, as appendChargeArgs appends them: its
// id, raw JSON and observed time; rawArgRaw is where the raw JSON is.
const (
	rawArgCount = 3
	rawArgRaw   = 1
)

// storableValues refuses a charge the store cannot hold, and gives the values
// of it that take checking to encode: its times and its provider. An import
// calls it as it reads each charge, so that the first such charge of the
// file is the one refused (see ChargeImport.Add).
func storableValues(c *reconcile.Charge) (created, observed int64, provider reconcile.Provider, err error) {
	if c.ID == "" {
		return 0, 0, "", errNoChargeID
	}
	if err := checkIDLength(len(c.ID)); err != nil {
		return 0, 0, "", err
	}
	if created, err = encodeTime(c.Created, "created time"); err != nil {
		return 0, 0, "", fmt.Errorf("charge %s: %w", c.ID, err)
	}
	if observed, err = encodeTime(c.Observed, "observed time"); err != nil {
		return 0, 0, "", fmt.Errorf("charge %s: %w", c.ID, err)
	}
	if provider, err = reconcile.ParseProvider(string(c.Provider)); err != nil {
		return 0, 0, "", fmt.Errorf("charge %s: %w", c.ID, err)
	}
	return created, observed, provider, nil
}

// metadataJSON is metadata as stored: json.Marshal's compact object, keys
// sorted, or "" when there is none. Keys and values of printable ASCII that
// JSON need not escape (nearly all metadata) are written here directly, at a
// tenth of json.Marshal's cost on an import of a million charges; anything
// else goes through json.Marshal, whose escapes are the stored form.
func metadataJSON(metadata map[string]string) (string, error) {
	if len(metadata) == 0 {
		return "", nil
	}
	keys := make([]string, 0, len(metadata))
	size := 2
	for k, v := range metadata {
		if !plainJSON(k) || !plainJSON(v) {
			b, err := json.Marshal(metadata)
			return string(b), err
		}
		keys = append(keys, k)
		size += len(k) + len(v) + 6
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":"`...)
		b = append(b, metadata[k]...)
		b = append(b, '"')
	}
	return string(append(b, '}')), nil
}

// plainJSON is whether json.Marshal writes s between quotes as it is:
// printable ASCII without a quote, a backslash or the characters it escapes
// for HTML (<, >, &).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// chargeFactsColumn is the facts column of c as the store holds it, with its
// provider's name as stored.
func chargeFactsColumn(c reconcile.Charge, provider reconcile.Provider) ([]byte, error) {
	c.Provider = provider
	return encodeFacts(reconcile.FactsOf(&c), len(c.ID))
}

// chargeWriter upserts charges in chunks, keeping its prepared statements
// for the transaction: an import writes a million charges through one.
type chargeWriter struct {
	tx *txn
	// fresh: the SQLite transaction began on a store without charges,
	// and the writer is given each charge once, so it inserts (see
	// prepareChunk).
	fresh bool
	// prepare prepares its writes: on tx, or during an import on the
	// driver's connection (see ChargeImport.write).
	prepare    preparer
	statements map[int]*chunkStatements
	chargeArgs []any
	rawArgs    []any
	inChunk    map[string]bool
}

func newChargeWriter(tx *txn) *chargeWriter {
	return &chargeWriter{tx: tx, prepare: sqlPreparer(tx), statements: map[int]*chunkStatements{},
		chargeArgs: make([]any, 0, chunkRows*chargeColumnCount), rawArgs: make([]any, 0, chunkRows*rawArgCount),
		inChunk: make(map[string]bool, chunkRows)}
}

func (w *chargeWriter) Close() {
	for n, st := range w.statements {
		st.Close()
		delete(w.statements, n)
	}
}

// write upserts charges; per charge the newest Observed wins. A chunk never
// holds one charge twice, so that within a batch too the later of two equal
// observations wins, raw JSON included. With count it returns how many charges
// it added or changed (a comparison that costs a fifth of the upsert's time,
// so only a sync pays it).
func (w *chargeWriter) write(ctx context.Context, charges []reconcile.Charge, count bool) (int, error) {
	changed := 0
	for first := 0; first < len(charges); {
		chargeArgs, rawArgs := w.chargeArgs[:0], w.rawArgs[:0]
		clear(w.inChunk)
		end := first
		for ; end < len(charges) && end-first < chunkRows && !w.inChunk[charges[end].ID]; end++ {
			var err error
			if chargeArgs, rawArgs, err = appendChargeArgs(chargeArgs, rawArgs, &charges[end]); err != nil {
				return 0, fmt.Errorf("charge %d of %d: %w", end+1, len(charges), err)
			}
			w.inChunk[charges[end].ID] = true
		}
		c, err := w.exec(ctx, end-first, chargeArgs, rawArgs, count)
		// The arguments hold the charges' strings and raw JSON: let them go.
		clear(chargeArgs)
		clear(rawArgs)
		if err != nil {
			return 0, fmt.Errorf("charges %d to %d of %d: %w", first+1, end, len(charges), err)
		}
		changed += c
		first = end
	}
	return changed, nil
}

// exec upserts one chunk of n distinct charges, given as appendChargeArgs
// gives them; with count it returns how many it added or changed.
func (w *chargeWriter) exec(ctx context.Context, n int, chargeArgs, rawArgs []any, count bool) (changed int, err error) {
	st := w.statements[n]
	if st == nil {
		if st, err = prepareChunk(ctx, w.tx.d, w.prepare, n, w.fresh); err != nil {
			return 0, err
		}
		w.statements[n] = st
	}
	if count {
		// Prepared on tx: never during an import's Conn.Raw, which holds
		// the connection tx would wait for; imports do not count.
		if st.stored == nil {
			if st.stored, err = w.tx.PrepareContext(ctx, changedQuery(w.tx.d, n)); err != nil {
				return 0, fmt.Errorf("prepare stored charge read: %w", err)
			}
		}
		if changed, err = st.changes(ctx, chargeArgs); err != nil {
			return 0, err
		}
	}
	if err := st.charges.exec(ctx, chargeArgs); err != nil {
		return 0, fmt.Errorf("save charges: %w", err)
	}
	if err := st.raw.exec(ctx, rawArgs); err != nil {
		return 0, fmt.Errorf("save raw JSON: %w", err)
	}
	return changed, nil
}

// saveCharges upserts charges in chunks (see chargeWriter.write), in the
// order of their ids, as an import copies them: PostgreSQL locks each row as
// it writes it, and two transactions taking some of the same rows in one
// order wait for each other instead of deadlocking. The sort is stable: of
// one charge's observations in a batch, the later still wins a tie.
func saveCharges(ctx context.Context, tx *txn, charges []reconcile.Charge, count bool) (int, error) {
	byID := func(a, b reconcile.Charge) int { return strings.Compare(a.ID, b.ID) }
	if !slices.IsSortedFunc(charges, byID) {
		// Errors name a charge by its id; one without is named by its place
		// in the caller's batch, before the sort moves it.
		if i := slices.IndexFunc(charges, func(c reconcile.Charge) bool { return c.ID == "" }); i >= 0 {
			return 0, fmt.Errorf("charge %d of %d: %w", i+1, len(charges), errNoChargeID)
		}
		charges = slices.Clone(charges) // the caller's slice stays as it was
		slices.SortStableFunc(charges, byID)
	}
	w := newChargeWriter(tx)
	defer w.Close()
	return w.write(ctx, charges, count)
}

// SaveCharges stores charges in one transaction: all of them or, on any error,
// none. Per charge, the newest Observed wins (ties go to the later write), so an
// old event never overwrites a newer refund state.
func (s *Store) SaveCharges(ctx context.Context, charges []reconcile.Charge) error {
	return s.withTx(ctx, func(tx *txn) error {
		if _, err := saveCharges(ctx, tx, charges, false); err != nil {
			return fmt.Errorf("save charges to %s: %w", s.path, err)
		}
		return nil
	})
}

// ChargesChanged is how many charges the SaveSyncBatch calls of this Store
// added or changed since it was opened (a charge saved as it was stored
// already changes nothing): its difference over a sync is what the sync
// updated.
func (s *Store) ChargesChanged() int64 { return s.changed.Load() }

// ChargeModes reports whether the store holds live charges and whether it holds
// test charges.
func (s *Store) ChargeModes(ctx context.Context) (live, test bool, err error) {
	return s.chargeModes(ctx, s.reader)
}

func (s *Store) chargeModes(ctx context.Context, q querier) (live, test bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM charges WHERE livemode = 1),
		EXISTS (SELECT 1 FROM charges WHERE livemode = 0)`).Scan(&live, &test)
	if err != nil {
		return false, false, fmt.Errorf("read the modes of %s: %w", s.path, err)
	}
	return live, test, nil
}

// StateLivemode is the state that fixes a store's mode ("true" for live,
// "false" for test), recorded by the first command that writes into it.
const StateLivemode = "doublecheck.livemode"

// ModeError is a write of one mode into a store of the other: test charges
// among live ones would be offered for refund as live duplicates, and live
// ones among test charges hidden as test data.
type ModeError struct {
	Path           string
	StoreLive, Got bool
}

func (e *ModeError) Error() string {
	return fmt.Sprintf("the store %s is a %s store and cannot take %s data", e.Path, modeName(e.StoreLive), modeName(e.Got))
}

func modeName(live bool) string {
	if live {
		return "LIVE"
	}
	return "test-mode"
}

// Mode is the store's mode: the one recorded when it was first written, else
// (a store written before modes were recorded) that of the charges it holds.
// known is false for a store never written.
func (s *Store) Mode(ctx context.Context) (live, known bool, err error) {
	return s.mode(ctx, s.reader)
}

func (s *Store) mode(ctx context.Context, q querier) (live, known bool, err error) {
	value, err := s.state(ctx, q, StateLivemode)
	if err != nil || value != "" {
		return value == "true", value != "", err
	}
	hasLive, hasTest, err := s.chargeModes(ctx, q)
	if err != nil {
		return false, false, err
	}
	if hasLive && hasTest {
		return false, false, fmt.Errorf("the store %s holds both live and test charges; use a store of its own for each mode (--db PATH)", s.path)
	}
	return hasLive, hasLive || hasTest, nil
}

// FixMode records live as the store's mode when it has none, and refuses
// (*ModeError) when it has the other one. Every command that writes calls it
// before writing, with the mode of its key or of its file: a store's mode is
// fixed by its first write and never changes.
func (s *Store) FixMode(ctx context.Context, live bool) error {
	if !s.d.postgres {
		return s.fixMode(ctx, s.reader, live, func(value string) error { return s.SetState(ctx, StateLivemode, value) })
	}
	// PostgreSQL takes no lock at BEGIN: this waits for an import (or
	// another FixMode) between its reading of the mode and its commit.
	return s.withTx(ctx, func(tx *txn) error {
		if err := lockMode(ctx, tx); err != nil {
			return fmt.Errorf("fix the mode of %s: %w", s.path, err)
		}
		return s.fixMode(ctx, tx, live, func(value string) error { return setState(ctx, tx, StateLivemode, value) })
	})
}

// fixMode is FixMode reading through q and recording with set.
func (s *Store) fixMode(ctx context.Context, q querier, live bool, set func(value string) error) error {
	storeLive, known, err := s.mode(ctx, q)
	switch {
	case err != nil:
		return err
	case known && storeLive != live:
		return &ModeError{Path: s.path, StoreLive: storeLive, Got: live}
	case known:
		if v, err := s.state(ctx, q, StateLivemode); err != nil || v != "" {
			return err
		}
	}
	return set(strconv.FormatBool(live))
}

// lockMode makes a PostgreSQL transaction that reads the store's mode and
// then writes wait for any other doing so (an import, FixMode) to end.
func lockMode(ctx context.Context, tx *txn) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, modeLock)
	return err
}

// SaveSyncBatch stores one unit of sync progress in one transaction: charges, key
// records, what events said about requests and Checkout Sessions, and the sync
// state (cursors) that says they were fetched. A sync killed at any point
// resumes from a cursor that matches the data.
func (s *Store) SaveSyncBatch(ctx context.Context, charges []reconcile.Charge, keys []reconcile.KeyRecord, obs reconcile.Observations, state map[string]string) error {
	changed := 0
	err := s.withTx(ctx, func(tx *txn) (err error) {
		if changed, err = saveCharges(ctx, tx, charges, true); err != nil {
			return fmt.Errorf("save sync batch to %s: %w", s.path, err)
		}
		if err := saveKeys(ctx, tx, keys); err != nil {
			return fmt.Errorf("save sync batch to %s: %w", s.path, err)
		}
		if err := saveObservations(ctx, tx, obs); err != nil {
			return fmt.Errorf("save sync batch to %s: %w", s.path, err)
		}
		for _, name := range slices.Sorted(maps.Keys(state)) { // rows in one order (see withTx)
			if err := setState(ctx, tx, name, state[name]); err != nil {
				return fmt.Errorf("save sync batch to %s: %w", s.path, err)
			}
		}
		return nil
	})
	if err == nil {
		s.changed.Add(int64(changed))
	}
	return err
}

// SaveKeys stores idempotency-key records in one transaction. There is one
// record per key and charge, merged when seen again: its sources become the
// union, an empty order ref is filled in (a known one is kept), and SeenAt keeps
// the earliest time. A
// record without a charge joins the key's records that have one (the same key
// seen in the merchant's log and in an event is one record listing both).
func (s *Store) SaveKeys(ctx context.Context, keys []reconcile.KeyRecord) error {
	return s.withTx(ctx, func(tx *txn) error {
		if err := saveKeys(ctx, tx, keys); err != nil {
			return fmt.Errorf("save key records to %s: %w", s.path, err)
		}
		return nil
	})
}

// saveObservations upserts request records and Checkout Sessions: an event
// read again (an overlapping sync) says the same thing.
func saveObservations(ctx context.Context, tx *txn, obs reconcile.Observations) error {
	if len(obs.Requests) > 0 {
		put, err := tx.PrepareContext(ctx, `INSERT INTO requests (object_id, idempotency_key, seen_at) VALUES (?, ?, ?)
			ON CONFLICT (object_id) DO UPDATE SET idempotency_key = excluded.idempotency_key, seen_at = excluded.seen_at`)
		if err != nil {
			return fmt.Errorf("prepare request upsert: %w", err)
		}
		defer put.Close()
		for _, r := range obs.Requests {
			seen, err := encodeTime(r.SeenAt, "seen time")
			if err != nil {
				return fmt.Errorf("request of %s: %w", r.Object, err)
			}
			if _, err := put.ExecContext(ctx, r.Object, r.Key, seen); err != nil {
				return fmt.Errorf("save request of %s: %w", r.Object, err)
			}
		}
	}
	if len(obs.Checkouts) > 0 {
		put, err := tx.PrepareContext(ctx, `INSERT INTO checkout_sessions (id, payment_intent, client_reference_id, metadata, completed_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET payment_intent = excluded.payment_intent,
				client_reference_id = excluded.client_reference_id, metadata = excluded.metadata, completed_at = excluded.completed_at`)
		if err != nil {
			return fmt.Errorf("prepare checkout session upsert: %w", err)
		}
		defer put.Close()
		for _, c := range obs.Checkouts {
			at, err := encodeTime(c.CompletedAt, "completed time")
			if err != nil {
				return fmt.Errorf("checkout session %s: %w", c.Session, err)
			}
			metadata, err := metadataJSON(c.Metadata)
			if err != nil {
				return fmt.Errorf("checkout session %s: encode metadata: %w", c.Session, err)
			}
			if _, err := put.ExecContext(ctx, c.Session, c.PaymentIntent, c.ClientReferenceID, metadata, at); err != nil {
				return fmt.Errorf("save checkout session %s: %w", c.Session, err)
			}
		}
	}
	return nil
}

// storedKey is one key_records row.
type storedKey struct {
	chargeID, orderRef, sources string
	seen                        int64
}

// saveKeys writes keys in the order of their keys, so that two writers take
// their rows in one order (see withTx); stable, since one key's records
// merge in the order given.
func saveKeys(ctx context.Context, tx *txn, keys []reconcile.KeyRecord) error {
	if len(keys) == 0 {
		return nil
	}
	for i, k := range keys {
		if k.Key == "" {
			return fmt.Errorf("key record %d of %d: the idempotency key is empty", i+1, len(keys))
		}
	}
	byKey := func(a, b reconcile.KeyRecord) int { return strings.Compare(a.Key, b.Key) }
	if !slices.IsSortedFunc(keys, byKey) {
		keys = slices.Clone(keys)
		slices.SortStableFunc(keys, byKey)
	}
	get, err := tx.PrepareContext(ctx, `SELECT charge_id, order_ref, sources, seen_at FROM key_records WHERE key = ?`)
	if err != nil {
		return fmt.Errorf("prepare key lookup: %w", err)
	}
	defer get.Close()
	put, err := tx.PrepareContext(ctx, `INSERT INTO key_records (key, charge_id, order_ref, sources, seen_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (key, charge_id) DO UPDATE SET order_ref = excluded.order_ref,
			sources = excluded.sources, seen_at = excluded.seen_at`)
	if err != nil {
		return fmt.Errorf("prepare key upsert: %w", err)
	}
	defer put.Close()
	dropUnattached, err := tx.PrepareContext(ctx, `DELETE FROM key_records WHERE key = ? AND charge_id = ''`)
	if err != nil {
		return fmt.Errorf("prepare key merge: %w", err)
	}
	defer dropUnattached.Close()

	for i := range keys {
		k := keys[i]
		seen, err := encodeTime(k.SeenAt, "seen time")
		if err != nil {
			return fmt.Errorf("key record %q: %w", k.Key, err)
		}
		stored, err := keyRows(ctx, get, k.Key)
		if err != nil {
			return fmt.Errorf("key record %q: %w", k.Key, err)
		}
		for _, merged := range mergeKey(k, seen, stored) {
			if _, err := put.ExecContext(ctx, k.Key, merged.chargeID, merged.orderRef, merged.sources, merged.seen); err != nil {
				return fmt.Errorf("save key record %q: %w", k.Key, err)
			}
		}
		if k.ChargeID != "" && slices.ContainsFunc(stored, func(r storedKey) bool { return r.chargeID == "" }) {
			// The charge of a key known without one: the two are now one record.
			if _, err := dropUnattached.ExecContext(ctx, k.Key); err != nil {
				return fmt.Errorf("merge key record %q: %w", k.Key, err)
			}
		}
	}
	return nil
}

// mergeKey is what saving k (first seen at seen) writes, given the key's stored
// records: k merged into its own charge's record and into a record of the key
// without a charge; or, for k without a charge, into every record of the key.
func mergeKey(k reconcile.KeyRecord, seen int64, stored []storedKey) []storedKey {
	merge := func(chargeID string, rows ...storedKey) storedKey {
		out := storedKey{chargeID: chargeID, seen: seen}
		sources := slices.Clone(k.Sources)
		for _, row := range rows {
			sources = append(sources, splitSources(row.sources)...)
			if out.orderRef == "" {
				out.orderRef = row.orderRef // a known order ref is kept
			}
			if row.seen != 0 && (out.seen == 0 || row.seen < out.seen) {
				out.seen = row.seen
			}
		}
		if out.orderRef == "" {
			out.orderRef = k.OrderRef
		}
		out.sources = joinSources(sources)
		return out
	}
	if k.ChargeID == "" && len(stored) > 0 {
		out := make([]storedKey, len(stored))
		for i, row := range stored {
			out[i] = merge(row.chargeID, row)
		}
		return out
	}
	var rows []storedKey
	for _, row := range stored {
		if row.chargeID == k.ChargeID || row.chargeID == "" {
			rows = append(rows, row)
		}
	}
	return []storedKey{merge(k.ChargeID, rows...)}
}

// keyRows are the stored records of one key.
func keyRows(ctx context.Context, get *sql.Stmt, key string) ([]storedKey, error) {
	rows, err := get.QueryContext(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedKey
	for rows.Next() {
		var r storedKey
		if err := rows.Scan(&r.chargeID, &r.orderRef, &r.sources, &r.seen); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// joinSources encodes a set of sources: sorted, distinct, comma-separated.
func joinSources(sources []string) string {
	set := make([]string, 0, len(sources))
	for _, src := range sources {
		if src = strings.TrimSpace(src); src != "" {
			set = append(set, src)
		}
	}
	slices.Sort(set)
	return strings.Join(slices.Compact(set), ",")
}

func splitSources(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// State returns the value stored under name, "" when it was never set.
func (s *Store) State(ctx context.Context, name string) (string, error) {
	return s.state(ctx, s.reader, name)
}

func (s *Store) state(ctx context.Context, q querier, name string) (string, error) {
	var value string
	err := q.QueryRowContext(ctx, `SELECT value FROM state WHERE name = ?`, name).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read state %q from %s: %w", name, s.path, err)
	}
	return value, nil
}

// SetState stores value under name.
func (s *Store) SetState(ctx context.Context, name, value string) error {
	return s.withTx(ctx, func(tx *txn) error {
		if err := setState(ctx, tx, name, value); err != nil {
			return fmt.Errorf("save state to %s: %w", s.path, err)
		}
		return nil
	})
}

func setState(ctx context.Context, tx *txn, name, value string) error {
	if name == "" {
		return errors.New("state name is empty")
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO state (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("state %q: %w", name, err)
	}
	return nil
}

// RecordDecisions appends operators' decisions in one transaction (marked groups
// dismissed together are all dismissed or none is); the latest one for a group or
// charge wins when detection reads them.
func (s *Store) RecordDecisions(ctx context.Context, decisions []reconcile.Decision) error {
	ats := make([]int64, len(decisions))
	for i, d := range decisions {
		switch {
		case d.GroupID == "" && d.ChargeID == "":
			return errors.New("record decision: it names neither a group nor a charge")
		case d.Kind == "":
			return errors.New("record decision: the decision kind is empty")
		case slices.ContainsFunc(d.Charges, func(id string) bool { return id == "" || strings.ContainsAny(id, " \t\n") }):
			return fmt.Errorf("record decision on %s: a charge id it covers is empty or holds white space", d.GroupID)
		}
		if d.At.IsZero() {
			d.At = time.Now()
		}
		at, err := encodeTime(d.At, "decision time")
		if err != nil {
			return fmt.Errorf("record decision: %w", err)
		}
		ats[i] = at
	}
	return s.withTx(ctx, func(tx *txn) error {
		for i, d := range decisions {
			if _, err := tx.ExecContext(ctx, `INSERT INTO decisions (group_id, charge_id, kind, operator, at, note, charge_ids)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, d.GroupID, d.ChargeID, d.Kind, d.Operator, ats[i], d.Note, strings.Join(d.Charges, " ")); err != nil {
				return fmt.Errorf("record decision in %s: %w", s.path, err)
			}
		}
		return nil
	})
}
