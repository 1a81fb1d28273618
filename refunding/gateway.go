// Package refunding is the one exactly-once refund protocol (DESIGN.md
// "Refunds: exactly once"), the same for every payment provider: the intent is
// committed to the Ledger before anything is sent, the refund is sent through
// the charge's provider's Gateway with the intent's deterministic idempotency
// key, and the outcome is recorded. A crash or a lost answer leaves the intent
// pending; Resume sends it again with the same key, or first looks for the
// refund (Find) once the key may have expired.
package refunding

import (
	"context"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// Gateway is one provider's side of the protocol; each provider package
// (stripeapi, paypalapi, adyenapi) makes one from its client.
type Gateway interface {
	Provider() reconcile.Provider
	// KeyTrust: intents older than this are looked up (Find) before being
	// resent (the provider's key lifetime minus a margin).
	KeyTrust() time.Duration
	// Send refunds it.Amount of it.ChargeID with it.Key as the provider's
	// idempotency key.
	Send(ctx context.Context, it reconcile.RefundIntent) (Receipt, error)
	// Find looks for a refund this intent already made; found=false when none.
	// Among the provider's refunds of it.ChargeID that could be the intent's
	// (its amount, not failed), the one to adopt is recorded.Pick's.
	Find(ctx context.Context, it reconcile.RefundIntent, recorded Recorded) (r Receipt, found bool, err error)
	// Classify reads a Send/Find error: Unknown (no answer, timeout, 5xx,
	// 429: intent stays pending), KeyConflict (key already used with other
	// parameters: Find and adopt), Code and Message for the ledger (secrets
	// masked).
	Classify(err error) Failure
}

// Failure is what a Gateway reads off a failed Send or Find.
type Failure struct {
	// Unknown: the provider's answer is not known or may change on a retry
	// with the same key; the intent stays pending.
	Unknown bool
	// KeyConflict: the key was used before with other parameters (another
	// operator or version sent it first): that refund exists; Find adopts it.
	KeyConflict bool
	// Code and Message are the provider's answer as the ledger keeps it
	// (secrets masked); an empty Code means no answer came: the ledger keeps
	// "network" and why.
	Code, Message string
	// Reason says in a few words why an answer did not settle the refund
	// ("HTTP 503: try again"), for the sentence of an Unknown failure; empty
	// for an error the protocol words itself (a timeout, no connection).
	Reason string
}

// Receipt is a refund the provider has, sent or found.
type Receipt struct {
	RefundID string
	// AwaitingConfirmation: the provider accepted the refund and confirms it
	// later (Adyen's REFUND notification); the intent is recorded as
	// reconcile.RefundReceived until Ledger.ConfirmRefund.
	AwaitingConfirmation bool
	// ChargeAfter, when not nil, is the charge's refund state after the
	// refund, observed on the provider's clock.
	ChargeAfter *reconcile.Charge
}

// Recorded is what the ledger records of the refunds of an intent's charge,
// handed to Gateway.Find so that every provider's refunds are matched to
// intents by one rule (Pick).
type Recorded struct {
	key    string          // the intent's key
	others map[string]bool // refund ids the ledger records for the charge's other intents
}

// NewRecorded is the record for Find of it: othersRefundIDs are the refund
// ids the ledger records for the other intents of its charge.
func NewRecorded(it reconcile.RefundIntent, othersRefundIDs ...string) Recorded {
	r := Recorded{key: it.Key, others: make(map[string]bool, len(othersRefundIDs))}
	for _, id := range othersRefundIDs {
		r.others[id] = true
	}
	return r
}

// Pick is the one of n candidate refunds the intent adopts, or -1 for none.
// The candidates are the provider's refunds of the intent's charge that could
// be its (its amount, not failed), in the provider's order; candidate(i) is
// the i-th one's refund id and the intent key it carries ("" when it carries
// none: made outside doublecheck, or by a version that sent no key).
//
// A refund carrying the intent's key is its refund, wherever it stands. One
// carrying another key is that intent's (perhaps in another ledger) and is
// never adopted. One carrying no key is adopted, first come, unless the
// ledger records it for another intent: two equal refunds of one charge are
// two intents' refunds, and one must not take the other's. A refund of the
// same amount made outside doublecheck cannot be told apart from it.
func (r Recorded) Pick(n int, candidate func(i int) (refundID, key string)) int {
	first := -1
	for i := 0; i < n; i++ {
		id, key := candidate(i)
		switch {
		case key == r.key:
			return i
		case key == "" && first < 0 && !r.others[id]:
			first = i
		}
	}
	return first
}

// Explainer is a Gateway that words some of its provider's refusals itself,
// in one sentence an operator can act on (a disputed charge, a key without
// permission). Explain returns "" for the general sentence, "charge <id> was
// not refunded: <err>".
type Explainer interface {
	Explain(it reconcile.RefundIntent, err error) string
}

// Ledger is the refund ledger the protocol writes to; *store.Store
// satisfies it.
type Ledger interface {
	// BeginRefund commits a pending intent keyed by intent.Key, or returns the
	// existing intent for that key with false; with a
	// *reconcile.RefundHeldError when another process is settling it now.
	BeginRefund(ctx context.Context, intent reconcile.RefundIntent) (reconcile.RefundIntent, bool, error)
	// MarkAttempt begins one more attempt, run by operator, to settle the
	// intent: its attempts count and an audit row of the attempt, committed
	// before the attempt looks up or sends anything. The attempt claims the
	// intent for reconcile.RefundLease against every other process on the
	// ledger: while another holds it, MarkAttempt records nothing and returns
	// a *reconcile.RefundHeldError, and nothing may be sent.
	MarkAttempt(ctx context.Context, key, operator string) error
	// FinishRefund records the outcome (reconcile.RefundAdopted records the
	// intent as refunded) in the intent and in the attempt this ledger last
	// began for it and, when outcome.ChargeAfter is non-nil, the charge's new
	// refund state, in one transaction.
	FinishRefund(ctx context.Context, key string, outcome reconcile.RefundOutcome) error
	// PendingRefunds lists the intents whose outcome is unknown.
	PendingRefunds(ctx context.Context) ([]reconcile.RefundIntent, error)
	// RefundIntents lists every intent: Find's record of the refund ids
	// other intents of a charge hold (Recorded) comes from it.
	RefundIntents(ctx context.Context) ([]reconcile.RefundIntent, error)
	// ConfirmRefund records a provider's confirmation (outcome Succeeded,
	// Failed or Reversed, from its notification) of a received refund, found
	// by its refund id (reconcile.RefundStatus.Confirm says what changes). The Refunder never calls it; a provider's notification
	// handler does.
	ConfirmRefund(ctx context.Context, refundID string, outcome reconcile.RefundOutcome) error
}
