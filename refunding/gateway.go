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
	Find(ctx context.Context, it reconcile.RefundIntent) (r Receipt, found bool, err error)
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
	// ConfirmRefund records a provider's confirmation (outcome Succeeded,
	// Failed or Reversed, from its notification) of a received refund, found
	// by its refund id (reconcile.RefundStatus.Confirm says what changes). The Refunder never calls it; a provider's notification
	// handler does.
	ConfirmRefund(ctx context.Context, refundID string, outcome reconcile.RefundOutcome) error
}
