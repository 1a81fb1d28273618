package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"doublecheck/reconcile"
)

const intentColumns = `key, charge_id, kept_charge_id, group_id, amount, currency, operator, reason,
	status, refund_id, error_code, error_message, attempts, created_at, finished_at`

// querier is what *sql.Tx and *sql.DB share for reads.
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
		&created, &finished)
	r.CreatedAt, r.FinishedAt = decodeTime(created), decodeTime(finished)
	return r, err
}

// queryIntents returns the intents with the given status (all when status is ""),
// oldest first.
func queryIntents(ctx context.Context, q querier, status string) ([]reconcile.RefundIntent, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+intentColumns+` FROM refund_intents
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
	switch {
	case r.Key == "":
		return errors.New("the idempotency key is empty")
	case len(r.Key) > reconcile.MaxIdempotencyKeyLen:
		return fmt.Errorf("the idempotency key is %d characters long; Stripe accepts at most %d", len(r.Key), reconcile.MaxIdempotencyKeyLen)
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
	err = s.withLedgerTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO refund_intents (`+intentColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO NOTHING`,
			intent.Key, intent.ChargeID, intent.KeptChargeID, intent.GroupID, intent.Amount, intent.Currency,
			intent.Operator, intent.Reason, intent.Status, intent.RefundID, intent.ErrorCode,
			intent.ErrorMessage, intent.Attempts, created, finished)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		inserted = n == 1
		stored, err = scanIntent(tx.QueryRowContext(ctx, `SELECT `+intentColumns+` FROM refund_intents WHERE key = ?`, intent.Key))
		return err
	})
	if err != nil {
		return reconcile.RefundIntent{}, false, fmt.Errorf("begin refund %s of charge %s in %s: %w", intent.Key, intent.ChargeID, s.path, err)
	}
	return stored, inserted, nil
}

// MarkAttempt counts one more attempt to send the refund with this key; it is
// called before each request so the audit shows retries, even ones cut short by
// a crash.
func (s *Store) MarkAttempt(ctx context.Context, key string) error {
	err := s.withLedgerTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE refund_intents SET attempts = attempts + 1 WHERE key = ?`, key)
		if err != nil {
			return err
		}
		return requireOneRow(res, key)
	})
	if err != nil {
		return fmt.Errorf("mark refund attempt %s in %s: %w", key, s.path, err)
	}
	return nil
}

// ErrNoIntent is returned for a refund key that has no intent in the ledger.
var ErrNoIntent = errors.New("no refund intent with this key")

func requireOneRow(res sql.Result, key string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %q", ErrNoIntent, key)
	}
	return nil
}

// FinishRefund records the outcome of the refund with this key and, when
// chargeAfter is not nil, the charge's new refund state (newest Observed wins, as
// in SaveCharges; a zero Observed means now), in one transaction. Status pending records an error that
// leaves the intent to be resumed. An intent recorded as refunded cannot be
// changed any more: money moved, and the ledger must keep saying so.
func (s *Store) FinishRefund(ctx context.Context, key, status, refundID, errCode, errMsg string, chargeAfter *reconcile.Charge) error {
	switch status {
	case reconcile.RefundPending, reconcile.RefundSucceeded, reconcile.RefundFailed, reconcile.RefundWouldRefund:
	default:
		return fmt.Errorf("finish refund %s: unknown status %q", key, status)
	}
	if status == reconcile.RefundSucceeded && refundID == "" {
		return fmt.Errorf("finish refund %s: a succeeded refund needs its refund id", key)
	}
	var finished int64
	if status != reconcile.RefundPending {
		finished = time.Now().UnixNano()
	}
	err := s.withLedgerTx(ctx, func(tx *sql.Tx) error {
		var current string
		err := tx.QueryRowContext(ctx, `SELECT status FROM refund_intents WHERE key = ?`, key).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", ErrNoIntent, key)
		}
		if err != nil {
			return err
		}
		if current == reconcile.RefundSucceeded && status != reconcile.RefundSucceeded {
			return fmt.Errorf("the intent is already recorded as refunded; refusing to change it to %q", status)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refund_intents SET status = ?, refund_id = ?, error_code = ?,
			error_message = ?, finished_at = ? WHERE key = ?`, status, refundID, errCode, errMsg, finished, key); err != nil {
			return err
		}
		if chargeAfter == nil {
			return nil
		}
		after := *chargeAfter
		if after.Observed.IsZero() {
			after.Observed = time.Now()
		}
		return saveCharges(ctx, tx, []reconcile.Charge{after})
	})
	if err != nil {
		return fmt.Errorf("finish refund %s in %s: %w", key, s.path, err)
	}
	return nil
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
