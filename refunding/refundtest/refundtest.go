// Package refundtest holds test doubles of the refund protocol for the
// protocol's own tests and each provider's gateway tests: an in-memory Ledger
// with the store's semantics (provider packages never import store, even in
// tests) and an event log that proves the order of ledger writes and
// requests.
package refundtest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// Events is an ordered, concurrency-safe list of what happened; a nil
// *Events ignores additions.
type Events struct {
	mu     sync.Mutex
	events []string
}

// Add appends one event.
func (e *Events) Add(s string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.events = append(e.events, s)
	e.mu.Unlock()
}

// List is every event so far, oldest first.
func (e *Events) List() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.events)
}

// Ledger is an in-memory refunding.Ledger with the store's semantics. Every
// write is added to its Events: "begin <key>", "attempt <key> by <operator>",
// "finish <key> <status>", "confirm <refund id> <status>".
type Ledger struct {
	Now func() time.Time // the ledger's clock; time.Now by default

	mu       sync.Mutex
	intents  map[string]reconcile.RefundIntent
	attempts map[string][]reconcile.RefundAttempt
	charges  map[string]reconcile.Charge // ChargeAfter of each FinishRefund
	events   *Events
}

// NewLedger is an empty ledger adding its writes to events (which may be nil).
func NewLedger(events *Events) *Ledger {
	return &Ledger{
		Now:      func() time.Time { return time.Now().UTC() },
		intents:  map[string]reconcile.RefundIntent{},
		attempts: map[string][]reconcile.RefundAttempt{},
		charges:  map[string]reconcile.Charge{},
		events:   events,
	}
}

func (l *Ledger) BeginRefund(ctx context.Context, it reconcile.RefundIntent) (reconcile.RefundIntent, bool, error) {
	if err := ctx.Err(); err != nil {
		return reconcile.RefundIntent{}, false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.intents[it.Key]; ok {
		return old, false, nil
	}
	// Like the store: a new intent is pending or would_refund.
	switch it.Status {
	case "":
		it.Status = reconcile.RefundPending
	case reconcile.RefundPending, reconcile.RefundWouldRefund:
	default:
		return reconcile.RefundIntent{}, false, fmt.Errorf("begin refund: new intent with status %q", it.Status)
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = l.Now()
	}
	it.Provider = it.Provider.Resolved()
	l.intents[it.Key] = it
	l.events.Add("begin " + it.Key)
	return it, true, nil
}

func (l *Ledger) MarkAttempt(ctx context.Context, key, operator string) error {
	if err := ctx.Err(); err != nil { // as the store: a cancelled write is not made
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	it, ok := l.intents[key]
	if !ok {
		return fmt.Errorf("mark attempt: no intent %q", key)
	}
	if it.Status != reconcile.RefundPending { // as the store: a settled intent is not claimed
		return &reconcile.RefundSettledError{Key: key, ChargeID: it.ChargeID, Status: it.Status, RefundID: it.RefundID}
	}
	it.Attempts++
	l.intents[key] = it
	l.attempts[key] = append(l.attempts[key], reconcile.RefundAttempt{Key: key, Attempt: it.Attempts,
		Operator: operator, StartedAt: l.Now(), Status: reconcile.RefundAttemptStarted})
	l.events.Add("attempt " + key + " by " + operator)
	return nil
}

// FinishRefund has the store's semantics: adopted records the intent as
// refunded; a refunded intent takes no other outcome, a received one only
// refunded, except that a pending one is kept in its attempt; the latest
// open attempt gets the outcome.
func (l *Ledger) FinishRefund(ctx context.Context, key string, out reconcile.RefundOutcome) error {
	status, refundID, errCode, errMsg, chargeAfter := out.Status, out.RefundID, out.ErrorCode, out.ErrorMessage, out.ChargeAfter
	if err := ctx.Err(); err != nil { // as the store: a cancelled write is not made
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	it, ok := l.intents[key]
	if !ok {
		return fmt.Errorf("finish refund: no intent %q", key)
	}
	intentStatus := status
	if status == reconcile.RefundAdopted {
		intentStatus = reconcile.RefundSucceeded
	}
	if (intentStatus == reconcile.RefundSucceeded || intentStatus == reconcile.RefundReceived) && refundID == "" {
		return fmt.Errorf("finish refund %q: %s without a refund id", key, intentStatus)
	}
	settled := (it.Status == reconcile.RefundSucceeded && intentStatus != reconcile.RefundSucceeded) ||
		(it.Status == reconcile.RefundReceived && intentStatus != reconcile.RefundSucceeded && intentStatus != reconcile.RefundReceived) ||
		(it.Status.EndedWithoutRefund() && intentStatus != it.Status)
	if settled && intentStatus != reconcile.RefundPending {
		return fmt.Errorf("finish refund %q: already %s, refusing %q", key, it.Status, status)
	}
	if !settled {
		it.Status, it.RefundID, it.ErrorCode, it.ErrorMessage = intentStatus, refundID, errCode, errMsg
		it.FinishedAt = time.Time{} // a pending intent is not finished
		if intentStatus != reconcile.RefundPending {
			it.FinishedAt = l.Now()
		}
		l.intents[key] = it
	}
	attempts := l.attempts[key]
	for i := len(attempts) - 1; i >= 0; i-- {
		if a := &attempts[i]; a.Status == reconcile.RefundAttemptStarted {
			a.Status, a.RefundID, a.ErrorCode, a.ErrorMessage, a.FinishedAt = status, refundID, errCode, errMsg, l.Now()
			break
		}
	}
	if chargeAfter != nil {
		l.charges[chargeAfter.ID] = *chargeAfter
	}
	l.events.Add("finish " + key + " " + string(status))
	return nil
}

func (l *Ledger) PendingRefunds(ctx context.Context) ([]reconcile.RefundIntent, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []reconcile.RefundIntent
	for _, it := range l.intents {
		if it.Status == reconcile.RefundPending {
			out = append(out, it)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// RefundIntents is every intent, oldest first (by creation, then key).
func (l *Ledger) RefundIntents(ctx context.Context) ([]reconcile.RefundIntent, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]reconcile.RefundIntent, 0, len(l.intents))
	for _, it := range l.intents {
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// ConfirmRefund has the store's semantics (reconcile.RefundStatus.Confirm):
// a received intent takes the outcome, a refunded one only a reversal; the
// same outcome again, or any after a reversal, does nothing; anything else is
// refused.
func (l *Ledger) ConfirmRefund(ctx context.Context, refundID string, out reconcile.RefundOutcome) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, it := range l.intents {
		if it.RefundID != refundID || refundID == "" {
			continue
		}
		changed, err := it.Status.Confirm(out.Status)
		if err != nil || !changed {
			if err != nil {
				err = fmt.Errorf("confirm refund %s: %w", refundID, err)
			}
			return err
		}
		it.Status = out.Status
		if out.Status != reconcile.RefundSucceeded {
			it.ErrorCode, it.ErrorMessage = out.ErrorCode, out.ErrorMessage
		}
		l.intents[key] = it
		l.events.Add("confirm " + refundID + " " + string(out.Status))
		return nil
	}
	return fmt.Errorf("confirm refund: no intent records refund id %q", refundID)
}

// Intent is the intent recorded under key (zero when none).
func (l *Ledger) Intent(key string) reconcile.RefundIntent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.intents[key]
}

// Len is the number of intents recorded.
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.intents)
}

// Attempts are the attempts recorded for key, oldest first.
func (l *Ledger) Attempts(key string) []reconcile.RefundAttempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.attempts[key])
}

// Charge is the charge's refund state the last FinishRefund recorded.
func (l *Ledger) Charge(id string) (reconcile.Charge, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.charges[id]
	return c, ok
}
