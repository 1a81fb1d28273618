package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// stateSyncEnded is when the last sync of a shared store ended (Unix
// nanoseconds), written as its lock is released.
const stateSyncEnded = "doublecheck.sync.ended"

// Activity is the latest thing an operator did to the store: a decision, a
// refund attempt or its outcome, or a sync.
type Activity struct {
	Operator string
	At       time.Time
	What     string // "dismissed grp_…", "refunded ch_…", "synced", …
}

// Activity reads the store's change mark, which changes whenever a decision,
// a refund attempt or outcome, or a sync lands, by any process, and the
// latest activity. A dashboard polls it every few seconds: a few indexed
// reads, whatever the number of charges.
func (s *Store) Activity(ctx context.Context) (mark string, latest Activity, err error) {
	tx, err := s.reader.BeginTx(ctx, s.d.snapshot())
	if err != nil {
		return "", Activity{}, fmt.Errorf("read activity from %s: %w", s.path, err)
	}
	defer tx.Rollback()
	var decision, attempts, finished int64
	var syncStarted, syncEnded string
	err = tx.QueryRowContext(ctx, `SELECT (SELECT coalesce(max(id), 0) FROM decisions),
		(SELECT count(*) FROM refund_attempts), (SELECT count(*) FROM refund_attempts WHERE finished_at <> 0),
		coalesce((SELECT value FROM state WHERE name = ?), ''), coalesce((SELECT value FROM state WHERE name = ?), '')`,
		stateSyncStarted, stateSyncEnded).Scan(&decision, &attempts, &finished, &syncStarted, &syncEnded)
	if err != nil {
		return "", Activity{}, fmt.Errorf("read activity from %s: %w", s.path, err)
	}
	mark = fmt.Sprintf("%d/%d/%d/%s/%s", decision, attempts, finished, syncStarted, syncEnded)

	var candidates []Activity
	var a Activity
	var at int64
	var kind, group, charge string
	err = tx.QueryRowContext(ctx, `SELECT operator, at, kind, group_id, charge_id FROM decisions ORDER BY id DESC LIMIT 1`).
		Scan(&a.Operator, &at, &kind, &group, &charge)
	if err == nil {
		a.At, a.What = decodeTime(at), kind+" "+group
		if group == "" {
			a.What = kind + " " + charge
		}
		candidates = append(candidates, a)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", Activity{}, fmt.Errorf("read activity from %s: %w", s.path, err)
	}
	var started, ended int64
	var status reconcile.RefundStatus
	a = Activity{}
	err = tx.QueryRowContext(ctx, `SELECT a.operator, a.started_at, a.finished_at, a.status, i.charge_id
		FROM refund_attempts AS a JOIN refund_intents AS i ON i.key = a.key
		ORDER BY CASE WHEN a.finished_at > a.started_at THEN a.finished_at ELSE a.started_at END DESC LIMIT 1`).
		Scan(&a.Operator, &started, &ended, &status, &charge)
	if err == nil {
		a.At, a.What = decodeTime(max(started, ended)), attemptWords(status)+" "+charge
		candidates = append(candidates, a)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", Activity{}, fmt.Errorf("read activity from %s: %w", s.path, err)
	}
	if syncStarted != "" {
		var operator string
		if err := tx.QueryRowContext(ctx, `SELECT value FROM state WHERE name = ?`, stateSyncOperator).Scan(&operator); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", Activity{}, fmt.Errorf("read activity from %s: %w", s.path, err)
		}
		startNs, _ := strconv.ParseInt(syncStarted, 10, 64)
		endNs, _ := strconv.ParseInt(syncEnded, 10, 64)
		a = Activity{Operator: operator, At: decodeTime(startNs), What: "started a sync"}
		if endNs >= startNs {
			a.At, a.What = decodeTime(endNs), "synced"
		}
		candidates = append(candidates, a)
	}
	for _, c := range candidates {
		if c.At.After(latest.At) {
			latest = c
		}
	}
	return mark, latest, nil
}

// attemptWords says what a refund attempt of this status did.
func attemptWords(status reconcile.RefundStatus) string {
	switch status {
	case reconcile.RefundAttemptStarted:
		return "is refunding"
	case reconcile.RefundSucceeded, reconcile.RefundAdopted:
		return "refunded"
	case reconcile.RefundFailed:
		return "was refused a refund of"
	case reconcile.RefundPending:
		return "got no answer refunding"
	}
	return "attempted a refund of"
}
