package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// intentColumns are the columns of refund_intents as migration 1 made them;
// intentRow adds the later ones.
const intentColumns = `key, charge_id, kept_charge_id, group_id, amount, currency, operator, reason,
	status, refund_id, error_code, error_message, attempts, created_at, finished_at`

const intentRow = intentColumns + `, provider`

// querier is what *txn and *sql.DB share for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type scanner interface{ Scan(dest ...any) error }

func scanIntent(row scanner) (reconcile.RefundIntent, error) {
	var r reconcile.RefundIntent
	var created, finished int64
	err := row.Scan(&r.Key, &r.ChargeID, &r.KeptChargeID, &r.GroupID, &r.Amount, &r.Currency,
		&r.Operator, &r.Reason, &r.Status, &r.RefundID, &r.ErrorCode, &r.ErrorMessage, &r.Attempts,
		&created, &finished, &r.Provider)
	r.CreatedAt, r.FinishedAt = decodeTime(created), decodeTime(finished)
	return r, err
}

// queryIntents returns the intents with the given status (all when status is ""),
// oldest first.
func queryIntents(ctx context.Context, q querier, status reconcile.RefundStatus) ([]reconcile.RefundIntent, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+intentRow+` FROM refund_intents
		WHERE ? = '' OR status = ? ORDER BY created_at, key`, status, status)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var intents []reconcile.RefundIntent
	for rows.Next() {
		r, err := scanIntent(rows)
		if err != nil {
			return nil, err
		}
		intents = append(intents, r)
	}
	return intents, rows.Err()
}

func validateIntent(r reconcile.RefundIntent) error {
	if err := r.Provider.CheckRefundKey(r.Key); err != nil {
		return err
	}
	switch {
	case r.ChargeID == "":
		return errors.New("no charge to refund")
	case r.Amount <= 0:
		return fmt.Errorf("refund amount %d is not positive", r.Amount)
	case r.Currency == "":
		return errors.New("the currency is empty")
	}
	switch r.Status {
	case reconcile.RefundPending, reconcile.RefundWouldRefund:
		return nil
	}
	return fmt.Errorf("a new intent must be %q or %q, not %q", reconcile.RefundPending, reconcile.RefundWouldRefund, r.Status)
}

// BeginRefund commits a refund intent before any refund request is sent. When an
// intent with the same key already exists (a retry, a resumed run or another
// process that got there first), that intent is returned with created=false and
// nothing is written, whatever its status. (A --dry-run record never shares a
// key with a real refund: stripeapi prefixes dry-run keys.) An empty Status
// means pending, a zero CreatedAt means now.
// Exactly one caller creates an intent for a key, across connections and
// processes: the insert and the read back run in one IMMEDIATE transaction.
// A pending intent another process is settling right now (see MarkAttempt)
// comes back with a *reconcile.RefundHeldError.
func (s *Store) BeginRefund(ctx context.Context, intent reconcile.RefundIntent) (reconcile.RefundIntent, bool, error) {
	if intent.Status == "" {
		intent.Status = reconcile.RefundPending
	}
	if intent.CreatedAt.IsZero() {
		intent.CreatedAt = time.Now()
	}
	if err := validateIntent(intent); err != nil {
		return reconcile.RefundIntent{}, false, fmt.Errorf("begin refund of charge %s: %w", intent.ChargeID, err)
	}
	provider, err := reconcile.ParseProvider(string(intent.Provider))
	if err != nil {
		return reconcile.RefundIntent{}, false, fmt.Errorf("begin refund of charge %s: %w", intent.ChargeID, err)
	}
	created, err := encodeTime(intent.CreatedAt, "intent time")
	if err != nil {
		return reconcile.RefundIntent{}, false, fmt.Errorf("begin refund of charge %s: %w", intent.ChargeID, err)
	}
	finished, err := encodeTime(intent.FinishedAt, "finish time")
	if err != nil {
		return reconcile.RefundIntent{}, false, fmt.Errorf("begin refund of charge %s: %w", intent.ChargeID, err)
	}

	var stored reconcile.RefundIntent
	var inserted bool
	var held *reconcile.RefundHeldError
	err = s.withLedgerTx(ctx, func(tx *txn) error {
		held = nil // set afresh by a rerun (see withTx)
		res, err := tx.ExecContext(ctx, `INSERT INTO refund_intents (`+intentRow+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO NOTHING`,
			intent.Key, intent.ChargeID, intent.KeptChargeID, intent.GroupID, intent.Amount, intent.Currency,
			intent.Operator, intent.Reason, intent.Status, intent.RefundID, intent.ErrorCode,
			intent.ErrorMessage, intent.Attempts, created, finished, provider)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		inserted = n == 1
		stored, err = scanIntent(tx.QueryRowContext(ctx, `SELECT `+intentRow+` FROM refund_intents WHERE key = ?`, intent.Key))
		if err != nil || inserted || stored.Status != reconcile.RefundPending {
			return err
		}
		now, err := s.leaseClock(ctx, tx)
		if err != nil {
			return err
		}
		if h, err := s.holder(ctx, tx, stored.Key, stored.ChargeID, now); err != nil || h != nil {
			held = h
			return err
		}
		return nil
	})
	if err == nil && held != nil {
		err = held
	}
	var heldErr *reconcile.RefundHeldError
	if err != nil && !errors.As(err, &heldErr) {
		return reconcile.RefundIntent{}, false, fmt.Errorf("begin refund %s of charge %s in %s: %w", intent.Key, intent.ChargeID, s.path, err)
	}
	return stored, inserted, err
}

// holder is the claim another Store holds on the intent with this key at
// now (the database's clock): its latest attempt begun by another handle,
// unfinished, within reconcile.RefundLease, unless its process is known to
// have ended; nil when there is none.
func (s *Store) holder(ctx context.Context, tx *txn, key, chargeID string, now time.Time) (*reconcile.RefundHeldError, error) {
	var operator, openedBy string
	var started int64
	err := tx.QueryRowContext(ctx, `SELECT operator, opened_by, started_at FROM refund_attempts
		WHERE key = ? AND status = ? AND opened_by <> ? AND started_at > ?
		ORDER BY attempt DESC LIMIT 1`,
		key, reconcile.RefundAttemptStarted, s.handle, now.Add(-reconcile.RefundLease).UnixNano()).Scan(&operator, &openedBy, &started)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the claim on refund %s: %w", key, err)
	}
	if handleGone(openedBy) {
		return nil, nil // its process crashed on this machine: resume now
	}
	return &reconcile.RefundHeldError{Key: key, ChargeID: chargeID, Operator: operator, Since: decodeTime(started)}, nil
}

// clock is this machine's time.
func (s *Store) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// leaseClock is the time refund claims begin and are judged by: the
// database server's on PostgreSQL, so operators whose machines' clocks
// disagree judge a lease alike (the skew would otherwise eat the margin
// between the refund deadline and the lease); this machine's for SQLite,
// whose store is one machine's file.
func (s *Store) leaseClock(ctx context.Context, tx *txn) (time.Time, error) {
	switch {
	case s.dbNow != nil:
		return s.dbNow(), nil
	case !s.d.postgres:
		return s.clock(), nil
	}
	var micros int64
	if err := tx.QueryRowContext(ctx, `SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint`).Scan(&micros); err != nil {
		return time.Time{}, fmt.Errorf("read the database's clock: %w", err)
	}
	return time.UnixMicro(micros), nil
}

// MarkAttempt begins one more attempt, run by operator, to settle the intent
// with this key: the intent's attempts count goes up and an attempt row
// (status started, numbered by the new count) is added in one transaction,
// before the attempt sends or looks up anything, so the audit shows every
// attempt, even one cut short by a crash.
//
// The attempt is also the claim on the intent across processes sharing the
// store: while another handle's latest attempt is unfinished and younger
// than reconcile.RefundLease, MarkAttempt records nothing and returns a
// *reconcile.RefundHeldError naming its operator and start, and the caller
// sends nothing. After the lease the intent can be taken over; the abandoned
// attempt stays "started" (no outcome known) in the audit. An intent that is
// no longer pending (settled by another attempt since the caller read it) is
// not claimed either: MarkAttempt returns a *reconcile.RefundSettledError.
func (s *Store) MarkAttempt(ctx context.Context, key, operator string) error {
	err := s.withLedgerTx(ctx, func(tx *txn) error {
		// The intent's row is locked first (in SQLite the transaction locks
		// the store), so two processes' claims on it are judged one after
		// the other.
		var chargeID, refundID string
		var status reconcile.RefundStatus
		err := tx.QueryRowContext(ctx, `SELECT charge_id, status, refund_id FROM refund_intents WHERE key = ?`+tx.d.forUpdate(), key).Scan(&chargeID, &status, &refundID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", ErrNoIntent, key)
		}
		if err != nil {
			return err
		}
		if status != reconcile.RefundPending {
			// Settled since the caller read it (another process's attempt):
			// sending now could refund twice, or undo a refusal.
			return &reconcile.RefundSettledError{Key: key, ChargeID: chargeID, Status: status, RefundID: refundID}
		}
		now, err := s.leaseClock(ctx, tx)
		if err != nil {
			return err
		}
		if held, err := s.holder(ctx, tx, key, chargeID, now); err != nil || held != nil {
			if held != nil {
				return held
			}
			return err
		}
		var attempt int
		if err := tx.QueryRowContext(ctx, `UPDATE refund_intents SET attempts = attempts + 1 WHERE key = ?
			RETURNING attempts`, key).Scan(&attempt); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO refund_attempts (key, attempt, operator, opened_by,
			started_at, finished_at, status, refund_id, error_code, error_message)
			VALUES (?, ?, ?, ?, ?, 0, ?, '', '', '')`,
			key, attempt, operator, s.handle, now.UnixNano(), reconcile.RefundAttemptStarted)
		return err
	})
	var held *reconcile.RefundHeldError
	if errors.As(err, &held) {
		return held
	}
	var settled *reconcile.RefundSettledError
	if errors.As(err, &settled) {
		return settled
	}
	if err != nil {
		return fmt.Errorf("mark refund attempt %s in %s: %w", key, s.path, err)
	}
	return nil
}

// ErrNoIntent is returned for a refund key that has no intent in the ledger.
var ErrNoIntent = errors.New("no refund intent with this key")

// FinishRefund records the outcome of the refund with this key and, when
// outcome.ChargeAfter is not nil, the charge's new refund state (newest Observed wins, as
// in SaveCharges; a zero Observed means now), in one transaction. Status pending
// records an error that leaves the intent to be resumed; status adopted (a
// refund found in Stripe rather than sent) records the intent as refunded.
// The same transaction completes, with this outcome, the latest attempt this
// Store began for the key with MarkAttempt that is still open; with none open
// (a dry run) only the intent changes.
// An intent recorded as refunded cannot be changed any more: money moved, and
// the ledger must keep saying so. A pending outcome for it (another process's
// attempt settled it meanwhile) is kept in its attempt only; any other
// outcome is refused. An intent recorded as received (the provider has the
// refund) changes only to refunded here; ConfirmRefund records a refusal.
// A refused intent is never reopened: its key is not sent again, and asking
// again is a new intent under a new key (reconcile.Group.RefundRequest).
func (s *Store) FinishRefund(ctx context.Context, key string, outcome reconcile.RefundOutcome) error {
	status, refundID, errCode, errMsg, chargeAfter := outcome.Status, outcome.RefundID, outcome.ErrorCode, outcome.ErrorMessage, outcome.ChargeAfter
	intentStatus := status
	switch status {
	case reconcile.RefundPending, reconcile.RefundSucceeded, reconcile.RefundReceived, reconcile.RefundFailed, reconcile.RefundWouldRefund:
	case reconcile.RefundAdopted:
		intentStatus = reconcile.RefundSucceeded
	default:
		return fmt.Errorf("finish refund %s: unknown status %q", key, status)
	}
	if (intentStatus == reconcile.RefundSucceeded || intentStatus == reconcile.RefundReceived) && refundID == "" {
		return fmt.Errorf("finish refund %s: a %s intent needs its refund id", key, intentStatus)
	}
	now := time.Now().UnixNano()
	var intentFinished int64
	if status != reconcile.RefundPending {
		intentFinished = now
	}
	err := s.withLedgerTx(ctx, func(tx *txn) error {
		var current reconcile.RefundStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM refund_intents WHERE key = ?`+tx.d.forUpdate(), key).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", ErrNoIntent, key)
		}
		if err != nil {
			return err
		}
		settled := (current == reconcile.RefundSucceeded && intentStatus != reconcile.RefundSucceeded) ||
			(current == reconcile.RefundReceived && intentStatus != reconcile.RefundSucceeded && intentStatus != reconcile.RefundReceived) ||
			(current.EndedWithoutRefund() && intentStatus != current)
		if settled && intentStatus != reconcile.RefundPending {
			return fmt.Errorf("the intent is already recorded as %s; refusing to change it to %q", current, status)
		}
		if !settled {
			if _, err := tx.ExecContext(ctx, `UPDATE refund_intents SET status = ?, refund_id = ?, error_code = ?,
				error_message = ?, finished_at = ? WHERE key = ?`, intentStatus, refundID, errCode, errMsg, intentFinished, key); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refund_attempts SET status = ?, refund_id = ?, error_code = ?,
			error_message = ?, finished_at = ?
			WHERE key = ? AND attempt = (SELECT max(attempt) FROM refund_attempts
				WHERE key = ? AND opened_by = ? AND status = ?)`,
			status, refundID, errCode, errMsg, now, key, key, s.handle, reconcile.RefundAttemptStarted); err != nil {
			return err
		}
		if chargeAfter == nil {
			return nil
		}
		after := *chargeAfter
		if after.Observed.IsZero() {
			after.Observed = time.Now()
		}
		_, err = saveCharges(ctx, tx, []reconcile.Charge{after}, false)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish refund %s in %s: %w", key, s.path, err)
	}
	return nil
}

// ConfirmRefund records the provider's confirmation of one received refund,
// found by the provider's refund id: ConfirmRefunds with one confirmation,
// and ErrNoIntent when no intent records the refund id.
func (s *Store) ConfirmRefund(ctx context.Context, refundID string, outcome reconcile.RefundOutcome) error {
	done, err := s.ConfirmRefunds(ctx, []RefundConfirmation{{RefundID: refundID, Outcome: outcome}})
	if err != nil {
		var ce *ConfirmationError
		if errors.As(err, &ce) {
			err = ce.Err
		}
		return fmt.Errorf("confirm refund %s in %s: %w", refundID, s.path, err)
	}
	if done[0].Intent.Key == "" {
		return fmt.Errorf("confirm refund %s in %s: %w: no intent records refund id %q", refundID, s.path, ErrNoIntent, refundID)
	}
	return nil
}

// RefundConfirmation is one provider notification about a refund.
type RefundConfirmation struct {
	RefundID string // the provider's refund id
	// Key is the refund request's reference, when the provider echoes it
	// (doublecheck sends the intent's key): it finds an intent whose answer
	// was lost, which does not record the refund id yet.
	Key string
	// Outcome is refunded, refund_failed (with ErrorCode and ErrorMessage)
	// or refund_reversed (with the event and the provider's reason).
	Outcome reconcile.RefundOutcome
}

// ConfirmedRefund is what one confirmation found and did.
type ConfirmedRefund struct {
	// Intent is the intent that records the refund id, as the batch's
	// earlier confirmations left it, before this one; a zero Key when none
	// does (a refund made elsewhere, or one whose answer was lost).
	Intent reconcile.RefundIntent
	// Lost is the pending intent whose key the confirmation names, when no
	// intent records its refund id: the answer to it was lost, and a resume
	// (the resend with the same key) gets its refund id.
	Lost reconcile.RefundIntent
	// Changed is whether the intent took the outcome (see
	// reconcile.RefundStatus.Confirm); not for one delivered again.
	Changed bool
}

// ConfirmationError is a batch of confirmations refused at one of them
// (Index, from 0): nothing of the batch was recorded.
type ConfirmationError struct {
	Index int
	Err   error
}

func (e *ConfirmationError) Error() string {
	return fmt.Sprintf("confirmation %d: %v; nothing was recorded", e.Index+1, e.Err)
}
func (e *ConfirmationError) Unwrap() error { return e.Err }

// ConfirmRefunds records a provider's confirmations of received refunds
// (a file of notifications), in order, in one transaction: all or nothing.
// Each reads its intent as the earlier ones left it, so a success followed
// by a reversal of the same refund ends reversed. Only the intent's status
// and error change (its attempts, the charge: the next sync or report brings
// the charge's refund state). Providers deliver notifications at least once,
// so a confirmation the intent already has does nothing; one that
// contradicts the ledger (reconcile.RefundStatus.Confirm) refuses the batch
// with a *ConfirmationError. A refund id no intent records is no error: the
// result says so, with the pending intent its Key names, if any.
func (s *Store) ConfirmRefunds(ctx context.Context, confirmations []RefundConfirmation) ([]ConfirmedRefund, error) {
	for i, c := range confirmations {
		if c.RefundID == "" {
			return nil, &ConfirmationError{Index: i, Err: errors.New("the refund id is empty")}
		}
		// A received intent takes every outcome: only one that is no outcome errs.
		if _, err := reconcile.RefundReceived.Confirm(c.Outcome.Status); err != nil {
			return nil, &ConfirmationError{Index: i, Err: err}
		}
	}
	var done []ConfirmedRefund
	err := s.withLedgerTx(ctx, func(tx *txn) error {
		done = make([]ConfirmedRefund, len(confirmations)) // afresh if the transaction is run again
		for i, c := range confirmations {
			res, err := confirmIn(ctx, tx, c)
			if err != nil {
				return &ConfirmationError{Index: i, Err: err}
			}
			done[i] = res
		}
		return nil
	})
	var ce *ConfirmationError
	if errors.As(err, &ce) {
		return nil, ce
	}
	if err != nil {
		return nil, fmt.Errorf("confirm refunds in %s: %w", s.path, err)
	}
	return done, nil
}

// confirmIn applies one confirmation in tx.
func confirmIn(ctx context.Context, tx *txn, c RefundConfirmation) (ConfirmedRefund, error) {
	var res ConfirmedRefund
	rows, err := tx.QueryContext(ctx, `SELECT `+intentRow+` FROM refund_intents WHERE refund_id = ?`+tx.d.forUpdate(), c.RefundID)
	if err != nil {
		return res, err
	}
	var found []reconcile.RefundIntent
	for rows.Next() {
		it, err := scanIntent(rows)
		if err != nil {
			rows.Close()
			return res, err
		}
		found = append(found, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}
	switch len(found) {
	case 0:
		if c.Key == "" {
			return res, nil
		}
		lost, err := scanIntent(tx.QueryRowContext(ctx, `SELECT `+intentRow+` FROM refund_intents WHERE key = ?`, c.Key))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return res, nil
		case err != nil:
			return res, err
		case lost.Status == reconcile.RefundPending:
			res.Lost = lost
		}
		return res, nil
	case 1:
	default:
		keys := make([]string, len(found))
		for i, it := range found {
			keys[i] = it.Key
		}
		return res, fmt.Errorf("refund id %q is recorded for %d intents (%v); refusing to guess which it confirms", c.RefundID, len(found), keys)
	}
	res.Intent = found[0]
	res.Changed, err = res.Intent.Status.Confirm(c.Outcome.Status)
	if err != nil || !res.Changed {
		if err != nil {
			err = fmt.Errorf("refund %s of charge %s (intent %s): %w", c.RefundID, res.Intent.ChargeID, res.Intent.Key, err)
		}
		return res, err
	}
	errCode, errMsg := "", ""
	if c.Outcome.Status != reconcile.RefundSucceeded {
		errCode, errMsg = c.Outcome.ErrorCode, c.Outcome.ErrorMessage
	}
	_, err = tx.ExecContext(ctx, `UPDATE refund_intents SET status = ?, error_code = ?, error_message = ? WHERE key = ?`,
		c.Outcome.Status, errCode, errMsg, res.Intent.Key)
	return res, err
}

// refundAttempts returns every attempt recorded for the intent with this key,
// in the order they began (none for an unknown key or a dry run).
func (s *Store) refundAttempts(ctx context.Context, key string) ([]reconcile.RefundAttempt, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT key, attempt, operator, started_at, finished_at, status,
		refund_id, error_code, error_message FROM refund_attempts WHERE key = ? ORDER BY attempt`, key)
	if err != nil {
		return nil, fmt.Errorf("read refund attempts %s from %s: %w", key, s.path, err)
	}
	defer rows.Close()
	var attempts []reconcile.RefundAttempt
	for rows.Next() {
		var a reconcile.RefundAttempt
		var started, finished int64
		if err := rows.Scan(&a.Key, &a.Attempt, &a.Operator, &started, &finished, &a.Status,
			&a.RefundID, &a.ErrorCode, &a.ErrorMessage); err != nil {
			return nil, fmt.Errorf("read refund attempts %s from %s: %w", key, s.path, err)
		}
		a.StartedAt, a.FinishedAt = decodeTime(started), decodeTime(finished)
		attempts = append(attempts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read refund attempts %s from %s: %w", key, s.path, err)
	}
	return attempts, nil
}

// RefundIntents returns every intent of the ledger, oldest first: what a
// provider's notifications are matched against.
func (s *Store) RefundIntents(ctx context.Context) ([]reconcile.RefundIntent, error) {
	intents, err := queryIntents(ctx, s.reader, "")
	if err != nil {
		return nil, fmt.Errorf("read refund intents from %s: %w", s.path, err)
	}
	return intents, nil
}

// PendingRefunds returns the intents whose outcome is unknown, oldest first: the
// ones to resume with the same key.
func (s *Store) PendingRefunds(ctx context.Context) ([]reconcile.RefundIntent, error) {
	intents, err := queryIntents(ctx, s.reader, reconcile.RefundPending)
	if err != nil {
		return nil, fmt.Errorf("read pending refunds from %s: %w", s.path, err)
	}
	return intents, nil
}
