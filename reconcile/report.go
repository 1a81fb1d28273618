package reconcile

import "time"

// Finding kinds: reconciliation beyond duplicates.
const (
	KindDuplicate        = "duplicate"
	KindKeyWithoutCharge = "key_without_charge"          // a logged key whose charge is not in Stripe
	KindOrderMultiCharge = "order_with_multiple_charges" // an order with more than one succeeded charge
	KindChargeWithoutKey = "charge_without_key"          // created outside the application
)

// Finding is one reconciliation row that is not a duplicate group.
type Finding struct {
	Kind      string
	ChargeID  string    // the charge concerned; for an order, its first charge
	ChargeIDs []string  // for an order with several charges: all of them, oldest first
	Created   time.Time // the charge's created time, or when the key was seen
	Key       string
	OrderRef  string
	Amount    int64
	Currency  string
	Detail    string
	// Provider took the finding's charges; empty for a key without a charge.
	Provider Provider
}

// CurrencyTotals are the summary figures for one currency, in minor units.
type CurrencyTotals struct {
	Currency        string
	AtRisk          int64 // open suspects' unrefunded amounts
	RefundedByUs    int64 // refunded through doublecheck's ledger
	Dismissed       int64 // suspects in dismissed groups
	OpenGroups      int   // open or pending
	ResolvedGroups  int
	DismissedGroups int
	// AwaitingConfirmation is refunded through doublecheck's ledger and
	// received by the provider, not confirmed yet (not in RefundedByUs).
	AwaitingConfirmation int64
	ReceivedGroups       int
}

// ProviderCharges counts one provider's charges by mode, so the dashboard can
// show each provider's test or live mode.
type ProviderCharges struct {
	Provider   Provider
	Live, Test int
}

// Summary totals a report.
type Summary struct {
	Charges           int // charges considered (all loaded)
	Groups            int
	Open              int
	Pending           int // groups with a refund begun and not finished
	Resolved          int
	Dismissed         int
	Received          int              // groups whose refunds await their provider's confirmation
	Reversed          int              // groups with a refund its provider reversed: the money came back
	ByCurrency        []CurrencyTotals // sorted by currency
	Causes            map[Cause]int
	ChargesWithoutKey int
	// FirstCharge and LastCharge bound the charges considered (the synced
	// range), zero when there are none: the trend spans them.
	FirstCharge, LastCharge time.Time
	// Providers are the providers of the charges considered, in Providers
	// order; none without charges.
	Providers []ProviderCharges
}

// Report is the result of detection over a store.
type Report struct {
	Groups   []Group // ordered: open first, then by confidence, then the newest
	Findings []Finding
	Summary  Summary
	// Account and Live say whose data the report covers, when the caller knows
	// (detection does not): the JSON summary and the table show them.
	Account string
	Live    bool
	// Environment, when set, names the account's environment in the table in
	// place of TEST or LIVE mode ("PAYPAL SANDBOX").
	Environment string
	// Resume is what the resume command of the report's store names: the next
	// step of a pending group says it (see ResumeCommand).
	Resume ResumeTarget
}
