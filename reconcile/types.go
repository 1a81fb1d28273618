package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Charge is the part of a Stripe charge that detection and the report need.
type Charge struct {
	ID              string
	Created         time.Time // UTC
	Amount          int64     // minor units, as Stripe gives them
	AmountRefunded  int64
	AmountCaptured  int64  // as Stripe gives it: checked on the way in (0 ≤ it ≤ Amount), not stored
	Currency        string // lower case, e.g. "usd"
	Status          string // "succeeded", "failed", "pending"
	Captured        bool
	Refunded        bool // fully refunded
	Disputed        bool
	Customer        string // customer id, may be empty (guest checkout)
	Email           string // billing_details.email, else receipt_email, as given
	CardFingerprint string
	CardBrand       string
	CardLast4       string
	PaymentIntent   string
	Description     string
	Metadata        map[string]string
	// MetadataJSON is the metadata as one JSON object, where Metadata is nil:
	// loads from the store keep it so, because detection reads only one or two
	// fields of it (MetadataField), and a map per charge was about a third of a
	// million-charge load's memory and time.
	MetadataJSON string
	Livemode     bool
	// Provider took the charge; empty (stores and files from before
	// providers) is Stripe.
	Provider Provider
	// Observed is when this state of the charge was true (the fetch time of a list
	// page, or the created time of the event that carried it); the store keeps the
	// newest observation, so an old event never overwrites a newer refund state.
	Observed time.Time
	// Raw is the Stripe JSON as received. The store keeps it; loads for detection
	// leave it nil to stay fast.
	Raw []byte
}

// Counts reports whether the charge is money actually taken: only those can be
// duplicates.
func (c *Charge) Counts() bool { return c.Status == "succeeded" && c.Captured }

// Unrefunded is what is left to refund on the charge.
func (c *Charge) Unrefunded() int64 { return c.Amount - c.AmountRefunded }

// Key sources: where an idempotency key record was seen.
const (
	SourceEvent    = "event"    // request.idempotency_key of the charge's charge.succeeded event
	SourceLog      = "log"      // the merchant's own key log (doublecheck keys import)
	SourceMetadata = "metadata" // a charge metadata field
	// SourcePaymentIntent: the key of the request that created the charge's
	// PaymentIntent (its payment_intent.created event). With Stripe.js the
	// charge's own event is the browser's confirmation (whether Stripe.js puts a
	// key of its own on it is not verified); this is the server's call.
	SourcePaymentIntent = "payment_intent"
)

// RequestRecord is what a Stripe event recorded about the API request that
// created a charge (charge.succeeded, charge.failed) or a PaymentIntent
// (payment_intent.created): its Idempotency-Key, "" when it carried none. It is
// the evidence that tells "sent without a key" from "not known": Stripe lists
// events for 30 days only and imported files carry none.
type RequestRecord struct {
	Object string // ch_…, py_… or pi_…
	Key    string // "" when the request carried no Idempotency-Key
	SeenAt time.Time
}

// Observations are what a sync learned from events besides charges and keys.
type Observations struct {
	Requests  []RequestRecord
	Checkouts []CheckoutRecord
}

// CheckoutRecord is a completed Checkout Session: the cart its PaymentIntent's
// charges pay for.
type CheckoutRecord struct {
	Session           string // cs_…
	PaymentIntent     string
	ClientReferenceID string            // the merchant's cart or order reference, if set
	Metadata          map[string]string // the session's own metadata (not copied to the charge)
	CompletedAt       time.Time
}

// orderRef is the session's order reference: client_reference_id, else the
// order field of its metadata.
func (c *CheckoutRecord) orderRef(field string) string {
	if c.ClientReferenceID != "" {
		return c.ClientReferenceID
	}
	return c.Metadata[field]
}

// KeyRecord is one idempotency key and what is known about it. A key seen from
// several sources is one record listing them all.
type KeyRecord struct {
	Key      string
	ChargeID string // empty when the key never produced a charge we know of
	OrderRef string
	Sources  []string // sorted, distinct: SourceEvent, SourceLog, SourceMetadata
	SeenAt   time.Time
}

// DecisionKind is what an operator decided about a group.
type DecisionKind string

// Decision kinds an operator records against a group.
const (
	DecisionDismissed   DecisionKind = "dismissed"   // the operator says the group is legitimate
	DecisionUndismissed DecisionKind = "undismissed" // undo of a dismissal; the latest decision wins
)

// Decision is an operator's verdict on a group, stored so it survives re-syncs and
// re-detection. GroupID is the stable group id; ChargeID may be empty for a
// decision about the whole group.
type Decision struct {
	GroupID  string
	ChargeID string
	Kind     DecisionKind
	Operator string
	At       time.Time
	Note     string
	// Charges are the charges of the group the operator saw when deciding: a
	// dismissal covers them and no other (a suspect that joins the group
	// later reopens it).
	Charges []string
}

// GroupDecision is an operator's decision on the whole of g, as the dashboard
// and the dismiss and undo commands record it. It lists the charges g holds
// now: a dismissal covers them, so one that joins the group later reopens it,
// and both find the group by them under whatever id it has later.
func GroupDecision(g *Group, kind DecisionKind, operator, note string, at time.Time) Decision {
	d := Decision{GroupID: g.ID, Kind: kind, Operator: operator, At: at.UTC(), Note: note}
	for _, c := range g.Charges {
		d.Charges = append(d.Charges, c.ID)
	}
	return d
}

// Covers is whether the decision was made with charge m in view: m is among
// its Charges or, for a decision recorded before they were kept, m was
// created by the time of the decision (a later charge cannot have been seen).
func (d *Decision) Covers(m *Member) bool {
	if len(d.Charges) > 0 {
		return slices.Contains(d.Charges, m.ID)
	}
	return !m.Created.After(d.At)
}

// RefundStatus is the state of a refund intent or of one attempt at it.
type RefundStatus string

// Refund intent states.
const (
	RefundPending   RefundStatus = "pending"       // intent committed, outcome unknown: resume with the same key
	RefundSucceeded RefundStatus = "refunded"      // the provider returned a refund
	RefundFailed    RefundStatus = "refund_failed" // the provider refused it; ErrorCode/ErrorMessage say why
	// RefundReceived: the provider accepted the refund (RefundID is its
	// reference) and confirms it later, as Adyen does with a notification;
	// Ledger.ConfirmRefund records that outcome. Never resent by a resume.
	RefundReceived RefundStatus = "received"
	// RefundReversed: the provider reported the refund failed or reversed
	// after it received or confirmed it (Adyen's REFUND_FAILED,
	// REFUNDED_REVERSED): the money came back to the merchant, so it no
	// longer counts as refunded and the charge is at risk again. Never
	// resent under its key.
	RefundReversed RefundStatus = "refund_reversed"
	// RefundWouldRefund is a --dry-run outcome: shown, never sent, never
	// recorded. Older versions recorded rehearsals in the ledger with this
	// status, under keys starting with DryRunKeyPrefix; detection ignores them.
	RefundWouldRefund RefundStatus = "would_refund"
)

// DryRunKeyPrefix began the ledger keys of the rehearsals older versions
// recorded, so they never equal a real refund's key.
const DryRunKeyPrefix = "dry-run-"

// Describe is the status as an operator reads it, for a refund through p.
func (s RefundStatus) Describe(p Provider) string {
	switch s {
	case RefundReceived:
		return "received, awaiting " + p.Title() + " confirmation"
	case RefundReversed:
		return "reversed by " + p.Title()
	}
	return string(s)
}

// Confirm is what a provider's confirmation with outcome (refunded,
// refund_failed or refund_reversed, from its notification) does to an intent
// of status s: changed when the intent takes the outcome; neither for a
// notification delivered again, or a success or refusal arriving after the
// reversal that followed it; an error for one that contradicts the ledger
// (a refunded intent refused, a refused one confirmed, a pending one, whose
// refund the provider has not answered for yet).
func (s RefundStatus) Confirm(outcome RefundStatus) (changed bool, err error) {
	switch outcome {
	case RefundSucceeded, RefundFailed, RefundReversed:
	default:
		return false, fmt.Errorf("the outcome must be %q, %q or %q, not %q", RefundSucceeded, RefundFailed, RefundReversed, outcome)
	}
	switch {
	case s == outcome, s == RefundReversed, s == RefundFailed && outcome == RefundReversed:
		return false, nil // nothing left to change: no money is out
	case s == RefundReceived, s == RefundSucceeded && outcome == RefundReversed:
		return true, nil
	}
	return false, fmt.Errorf("the intent is %s, not awaiting confirmation; refusing to record it as %s", s, outcome)
}

// EndedWithoutRefund is whether an intent of this status is over and moved
// no money: the provider refused it, or reversed it (the money came back). Its key is never sent again (the
// provider would replay that answer, or for Adyen its first answer, for the
// key's lifetime); asking again plans a new intent under a new key
// (Group.RefundRequest).
func (s RefundStatus) EndedWithoutRefund() bool {
	return s == RefundFailed || s == RefundReversed
}

// Rehearsal is whether the intent is a dry run an older version recorded: not
// a refund, not a decision.
func (r *RefundIntent) Rehearsal() bool {
	return r.Status == RefundWouldRefund || strings.HasPrefix(r.Key, DryRunKeyPrefix)
}

// Refund attempt states beyond the intent states above, which an attempt also
// takes (pending: Stripe gave no answer; refunded; refund_failed).
const (
	// RefundAttemptStarted is an attempt with no outcome recorded: still
	// running, or the process died during it.
	RefundAttemptStarted RefundStatus = "started"
	// RefundAdopted is an attempt that found the intent's refund among Stripe's
	// refunds for the charge instead of sending it (an intent older than the
	// key lifetime, or a key Stripe had seen with other parameters). Its
	// intent is recorded as refunded.
	RefundAdopted RefundStatus = "adopted"
)

// RefundOutcome is what one attempt at a refund intent came to, as the ledger
// records it.
type RefundOutcome struct {
	// Status is pending (no answer: resume with the same key), refunded,
	// received (accepted, confirmed later), adopted (found at the provider:
	// the intent is recorded as refunded), refund_failed or would_refund.
	Status       RefundStatus
	RefundID     string // the provider's refund, when refunded, received or adopted
	ErrorCode    string // the provider's error code (Stripe's, else its type), or "network"
	ErrorMessage string
	// ChargeAfter, when not nil, is the charge's refund state after the refund.
	ChargeAfter *Charge
}

// RefundAttempt is one try at settling a refund intent, kept for the audit: an
// intent's attempts are numbered 1, 2, 3… per Key and never rewritten once
// finished. Operator is who ran the attempt, which may differ from the
// intent's creator on a resume.
type RefundAttempt struct {
	Key          string
	Attempt      int
	Operator     string
	StartedAt    time.Time
	FinishedAt   time.Time // zero while Status is RefundAttemptStarted
	Status       RefundStatus
	RefundID     string
	ErrorCode    string
	ErrorMessage string
}

// RefundIntent is one row of the refund ledger: written and committed before any
// network call, finished with the outcome. Key is the provider's idempotency key and is
// deterministic per charge and amount, so a retry after a crash replays the first
// result instead of refunding twice.
type RefundIntent struct {
	RefundRequest // what was asked: the charge, the amount and the key
	Operator      string
	Reason        string
	Status        RefundStatus
	RefundID      string
	ErrorCode     string
	ErrorMessage  string
	Attempts      int
	CreatedAt     time.Time
	FinishedAt    time.Time
}
