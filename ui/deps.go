// Package ui is doublecheck's operator dashboard: a Bubble Tea program that shows
// the duplicate groups found in the store, explains them, and lets the operator
// dismiss, refund, sync and export from the keyboard.
//
// The package declares the small interfaces it consumes (Loader, Decider, Syncer,
// Refunder); the command line wires the store, stripeapi and reconcile behind them.
package ui

import (
	"context"
	"time"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// Loader reads the store and runs detection. It is the dashboard's only source of
// groups and is called again after every sync, decision and refund.
type Loader interface {
	Load(ctx context.Context) (reconcile.Report, error)
}

// Decider persists operator decisions (dismiss / undismiss) so they survive
// re-syncs and re-detection.
type Decider interface {
	Decide(ctx context.Context, decisions []reconcile.Decision) error
}

// SyncResult is what one incremental sync brought in, for the status bar.
type SyncResult struct {
	Charges int // charges the sync added or changed, not those it fetched as they were stored
	Events  int // events read
	// Note is what the operator should know about what the sync could bring
	// ("PayPal through 10:23 UTC: it lists transactions up to 3 h late"),
	// said after a sync the operator asked for.
	Note string
}

// SyncProgress is how far a running sync is: what `doublecheck sync` shows.
type SyncProgress struct {
	Charges  int           // charges fetched so far
	Rate     float64       // charges per second so far
	Fraction float64       // share of the charges fetched, 0..1; 0 when unknown
	ETA      time.Duration // estimated time left; 0 when unknown
}

// Syncer runs one incremental sync of the account into the store, reporting
// its progress through progress as it goes (from its own goroutine).
type Syncer interface {
	Sync(ctx context.Context, progress func(SyncProgress)) (SyncResult, error)
}

// RefundResult is the outcome of one planned refund. Err, when set, is one sentence
// a person can act on; Pending means the outcome is unknown (network failure) and
// the intent will be resumed with the same idempotency key.
type RefundResult struct {
	ChargeID string
	RefundID string
	Pending  bool
	// Received means the provider accepted the refund and confirms it later
	// (Adyen): not refunded yet.
	Received bool
	Provider reconcile.Provider
	Err      error
}

// Refunder refunds a batch of suspects, reporting each outcome through progress as
// it happens. The returned error is for the batch as a whole (e.g. the ledger could
// not be opened); per-charge failures arrive through progress.
type Refunder interface {
	Refund(ctx context.Context, plans []reconcile.RefundRequest, progress func(RefundResult)) error
}

// Resumer finishes the refunds that earlier runs left pending (a crash, a
// network failure), each with its own idempotency key, and returns one result per
// intent it touched; none when nothing was pending. The dashboard runs it at
// start and after every successful sync, and shows the outcomes.
type Resumer interface {
	Resume(ctx context.Context) ([]RefundResult, error)
}

// Clipboard puts text on the operator's clipboard. The command line's writes an
// OSC 52 sequence to the terminal, which the terminal (even at the far end of
// SSH) copies.
type Clipboard interface {
	Copy(text string) error
}

// Browser opens a link in the operator's browser. It returns an error when no
// browser can open here (no display, no opener, the opener failed); the
// dashboard then shows the link instead.
type Browser interface {
	Open(ctx context.Context, url string) error
}

// Deps are the dashboard's collaborators. Loader and Decider are required; Syncer
// is nil when there is no account to sync (e.g. an imported store); Refunder is nil
// in --read-only mode; Resumer is nil when pending refunds are not resumed
// (--read-only, --dry-run). A nil Clipboard turns `c` off; with a nil Browser
// `o` shows the link.
type Deps struct {
	Loader    Loader
	Decider   Decider
	Syncer    Syncer
	Refunder  Refunder
	Resumer   Resumer
	Clipboard Clipboard
	Browser   Browser
	// Watcher, when set, is polled for others' work on a shared store.
	Watcher Watcher
}

// Config is what the dashboard shows and how it behaves.
type Config struct {
	Account string // account name or id, shown in the header
	// Resume is what the resume command names to reach the store: a pending
	// refund's messages say that command (reconcile.ResumeCommand).
	Resume reconcile.ResumeTarget
	Live   bool // live-mode key: LIVE badge in red, typed refund confirmation
	// Providers are the providers the dashboard is connected to; until the
	// loaded data says which providers' modes to show, the header shows
	// theirs, in Live's mode ("PayPal SANDBOX"). Empty: Stripe's TEST or LIVE.
	Providers []reconcile.Provider
	ReadOnly  bool          // refunds are turned off
	DryRun    bool          // refunds are rehearsed: shown as "would refund", nothing is sent or recorded
	Watch     time.Duration // background sync interval; 0 turns it off
	Operator  string        // recorded with every decision and refund
	ExportDir string        // the directory `e` proposes for CSV reports (the command line's choice)
	LastSync  time.Time     // when the store was last synced, zero if never
	SyncOff   string        // why sync is off, when it is (default "no account")
	Now       func() time.Time
}
