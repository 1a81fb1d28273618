package reconcile

import (
	"strings"
	"time"
)

// Confidence of a duplicate group.
type Confidence string

const (
	High   Confidence = "high"
	Medium Confidence = "medium"
	Low    Confidence = "low"
)

// Status of a duplicate group.
type Status string

const (
	Open Status = "open"
	// Pending: a refund of a suspect was begun and not finished (a crash, no
	// answer from its provider), so the money may have moved; ResumeCommand (or the
	// dashboard, which resumes at start and after each sync) finishes it.
	Pending   Status = "pending"
	Resolved  Status = "resolved"  // every suspect fully refunded
	Dismissed Status = "dismissed" // the operator judged it legitimate
	// Received: every suspect is refunded or has a refund its provider
	// received and has yet to confirm (Adyen confirms with a notification);
	// it becomes resolved on confirmation, open again on a refusal.
	Received Status = "received"
)

// ResumeTarget is what the resume command must name to reach a store's
// pending refunds, beyond the credentials in the environment.
type ResumeTarget struct {
	// PayPalEnv is the environment ("sandbox", "live") of a store synced from
	// a PayPal account: such a store is found, and its refunds sent, through
	// the PayPal credentials (--provider paypal), not a Stripe key.
	PayPalEnv string
	// PayPalBase is the --paypal-base the store's command was given, if any.
	PayPalBase string
	// StripeBase is the --api-base the store's command was given, if any.
	StripeBase string
	// Store is the store as --db takes it, when the command would not find it
	// by itself ("" for the default store of the credentials' account).
	Store string
}

// ResumeCommand is the command that finishes the refunds a crash or a network
// failure left pending in the store t describes, as an operator can paste it.
func ResumeCommand(t ResumeTarget) string {
	cmd := "doublecheck refund --resume"
	if t.PayPalEnv != "" {
		cmd += " --provider paypal --paypal-env " + shellWord(t.PayPalEnv)
		if t.PayPalBase != "" {
			cmd += " --paypal-base " + shellWord(t.PayPalBase)
		}
	}
	if t.StripeBase != "" {
		cmd += " --api-base " + shellWord(t.StripeBase)
	}
	if t.Store != "" {
		cmd += " --db " + shellWord(t.Store)
	}
	return cmd
}

// shellWord is s quoted for a POSIX shell when it holds anything but the
// characters paths and URLs are usually made of.
func shellWord(s string) string {
	plain := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:@%,~", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// NextStep is what the operator must do about the group before anything else,
// or "": for a pending group, finish its refund in flight with resume (see
// ResumeCommand).
func (g *Group) NextStep(resume string) string {
	if g.Status != Pending {
		return ""
	}
	return "a refund is pending and the money may have moved: " + resume + " finishes it"
}

// NeedsAction is whether the group is open or has a refund pending: both count
// in the money at risk and in scan --exit-code.
func (g *Group) NeedsAction() bool { return g.Status == Open || g.Status == Pending }

// Unsettled is whether the group is not done with: it needs action, or a
// refund of it awaits its provider's confirmation.
func (g *Group) Unsettled() bool { return g.NeedsAction() || g.Status == Received }

// Role of a charge in its group.
type Role string

const (
	Keep      Role = "keep"      // the earliest charge, or the first of an order (see doc.go "Roles"): never refunded
	Duplicate Role = "duplicate" // a suspect to refund
)

// Cause says why a duplicate happened, so engineering can fix it.
type Cause string

const (
	CauseNoKey           Cause = "no_key"
	CauseNewKeyPerRetry  Cause = "new_key_per_retry"
	CauseKeyReusedExpiry Cause = "key_reused_after_expiry"
	CauseDoubleSubmit    Cause = "double_submit"
	CauseDoubleCheckout  Cause = "double_checkout"
	CauseUnknown         Cause = "unknown"
)

// KeyEvidence is what is known about the key of the request that created a
// charge (or its PaymentIntent).
type KeyEvidence string

const (
	// EvidenceAppKey: the application's key is known (an event, the key log or metadata).
	EvidenceAppKey KeyEvidence = "application_key"
	// EvidenceNoAppKey: the request is known to have carried no key of the
	// application's (an event recorded none, or a key a Stripe library made).
	EvidenceNoAppKey KeyEvidence = "no_application_key"
	// EvidenceUnknown: nothing recorded the request (no event within Stripe's
	// 30 days, an imported file, no key-log entry).
	EvidenceUnknown KeyEvidence = "not_known"
	// EvidenceCheckout: Stripe Checkout (a session the application created, or
	// a Payment Link's) created the PaymentIntent, so no request or key of the
	// application's exists to know.
	EvidenceCheckout KeyEvidence = "made_by_checkout"
)

// Verdict is the explanation of a group: how sure, why it happened, and the human
// reasons behind it (Reasons[0] is the headline).
type Verdict struct {
	Confidence Confidence
	Cause      Cause
	Reasons    []string
}

// Member is one charge of a group with what detection worked out about it.
type Member struct {
	Charge
	Role           Role
	IdempotencyKey string   // the key that created the charge, if any record names it
	KeySources     []string // where that key was seen
	OrderRef       string   // the order reference from metadata (Options.OrderField), else its Checkout Session's
	// KeyEvidence says whether the application's key, its absence, or nothing
	// is known about the request that created the charge.
	KeyEvidence     KeyEvidence
	CheckoutSession string // the completed Checkout Session that paid it, if known
	// keyFromIntent: the key evidence is the request that created the
	// charge's PaymentIntent.
	keyFromIntent bool
	// Refundable is what may still be refunded on a duplicate: 0 for a kept
	// charge, a disputed, fully refunded or already-refunding charge.
	Refundable int64
	// NotRefundable says why a duplicate cannot be refunded ("disputed: …"), empty
	// when it can or when it is a kept charge.
	NotRefundable string
	Decision      string    // latest decision or refund state, e.g. "dismissed", "refunded"
	RefundID      string    // the latest succeeded or received refund in the ledger, whatever Decision says
	Operator      string    // who decided
	DecidedAt     time.Time // when
	Note          string    // the operator's note on that decision (why a group was dismissed); empty for refund states
	// InFlight are the refunds of this charge begun and not finished (a crash,
	// no answer from Stripe), with their stored keys: the money may have moved.
	InFlight []RefundRequest
	// EndedKeys are the keys of this charge's refunds that ended without
	// moving money (RefundStatus.EndedWithoutRefund): never sent again, so a
	// new refund of the same money is keyed past them.
	EndedKeys []string
}

// DismissedAsLegitimate is whether an operator's dismissal covers this charge
// (in a group a newer suspect reopened, the earlier ones stay judged).
func (m *Member) DismissedAsLegitimate() bool { return m.Decision == string(DecisionDismissed) }

// AlreadyRefunded is what has been refunded on a refundable duplicate so far:
// Stripe's figure, or doublecheck's own recorded refunds when a sync has not
// brought them in yet. It is the refundedBefore of RefundKey, so the dashboard
// and the refund command derive the same key for the same money, and the next
// part of a charge refunded in parts never reuses the previous part's key.
func (m *Member) AlreadyRefunded() int64 { return m.Amount - m.Refundable }

// RefundRequest is the refund of amount on the duplicate m of g: the charge it
// duplicates, and the idempotency key, so the same money always gets the same key.
func (g *Group) RefundRequest(m *Member, amount int64) RefundRequest {
	return RefundRequest{
		Key:      askedAgainKey(RefundKey(m.ID, m.AlreadyRefunded(), amount), m.EndedKeys),
		ChargeID: m.ID, KeptChargeID: g.KeptFor(m).ID, GroupID: g.ID,
		Amount: amount, Currency: m.Currency, Provider: m.Provider,
	}
}

// Group is a set of charges that look like one payment taken more than once.
// Charges are ordered by created time; Charges[0] is kept and names the group,
// and in a group about a duplicated order the first charge of each order is
// kept too (Role Keep): loop over Role, not Charges[1:].
type Group struct {
	ID       string // stable: derived from the earliest charge
	Amount   int64
	Currency string
	Identity string // what ties the charges: a customer id, an email or "card …4242"
	Status   Status
	Verdict
	Charges []Member
}

// Provider took the group's charges: detection never groups charges of
// different providers.
func (g *Group) Provider() Provider {
	if len(g.Charges) == 0 {
		return ProviderStripe
	}
	return g.Charges[0].Provider.Resolved()
}

// Span is the time between the first and the last charge.
func (g *Group) Span() time.Duration {
	if len(g.Charges) == 0 {
		return 0
	}
	return g.Charges[len(g.Charges)-1].Created.Sub(g.Charges[0].Created)
}

// Headline is the first reason, the one-line summary of the group.
func (g *Group) Headline() string {
	if len(g.Reasons) == 0 {
		return ""
	}
	return g.Reasons[0]
}

// Options configure detection.
type Options struct {
	Window     time.Duration // default 10 minutes
	OrderField string        // metadata field holding the merchant's order reference, default "order_id"
	// KeyFields are metadata fields holding an idempotency key, default
	// ["idempotency_key"].
	KeyFields []string
	// MinConfidence drops groups below it; empty keeps all.
	MinConfidence Confidence
	// ListChargesWithoutKey lists every eligible charge without any key record as a
	// finding; otherwise they are only counted in Summary.ChargesWithoutKey.
	ListChargesWithoutKey bool
}

// Input is everything detection reads, as loaded from the store.
type Input struct {
	Charges   []Charge
	Keys      []KeyRecord
	Decisions []Decision
	Refunds   []RefundIntent
	Requests  []RequestRecord  // what events recorded about creating requests
	Checkouts []CheckoutRecord // completed Checkout Sessions
	// Unloaded tallies the store's charges not in Charges, when a load read
	// only those Narrow picked; the summary counts them.
	Unloaded ChargeTally
}
