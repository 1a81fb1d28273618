package reconcile

import (
	"fmt"
	"time"
)

// RefundLease is how long an attempt to settle a refund intent holds it
// against every other process on the same store: meanwhile another
// operator's attempt on the same charge and amount sends nothing. An attempt
// still unfinished after the lease (its process crashed, its laptop closed)
// can be taken over and resumed with the same idempotency key, so the
// provider replays the first answer rather than refunding twice. It is longer
// than any refund deadline an attempt may wait for the provider
// (MaxRefundDeadline).
const RefundLease = 2 * time.Minute

// MaxRefundDeadline is the longest an attempt may wait for the provider: a
// live attempt is never taken over.
const MaxRefundDeadline = RefundLease - 15*time.Second

// RefundHeldError is a refund another process is settling right now: the
// intent's latest attempt, begun by Operator at Since, is unfinished and
// within its lease. Nothing was sent.
type RefundHeldError struct {
	Key, ChargeID, Operator string
	Since                   time.Time
}

func (e *RefundHeldError) Error() string {
	return fmt.Sprintf("the refund of %s is held by %s since %s (another doublecheck is sending it); nothing was sent; if that attempt never finishes it can be resumed after %s",
		e.ChargeID, e.Operator, e.Since.UTC().Format("15:04:05 UTC"), e.Since.Add(RefundLease).UTC().Format("15:04:05 UTC"))
}

// RefundSettledError is a claim on an intent that is no longer pending:
// another attempt (another process, after this one listed it pending) has
// recorded its outcome, Status. Nothing may be sent for it.
type RefundSettledError struct {
	Key, ChargeID string
	Status        RefundStatus
	RefundID      string // the provider's refund, when Status has one
}

func (e *RefundSettledError) Error() string {
	return fmt.Sprintf("the refund of %s is already recorded as %s (another attempt settled it); nothing was sent", e.ChargeID, e.Status)
}
