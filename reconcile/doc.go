// Package reconcile is doublecheck's domain: charges, idempotency-key evidence,
// duplicate detection, classification and the reconciliation report. It is pure:
// no I/O beyond io.Reader and io.Writer, no Stripe, SQL or terminal types.
//
// # Matching
//
// Only succeeded, captured charges take part. Two of them are linked when they have
// the same currency and amount, are not on the same PaymentIntent, and either share
// an identity (customer id, card fingerprint or trimmed lower-case email) within
// the window (default 10 minutes), or share an idempotency key, or share an order
// reference (metadata field order_id by default), however far apart. A group is a
// connected component of these links; its earliest charge is kept, the rest are
// suspects. Detection sorts and sweeps each kind of evidence and joins them with
// union-find: O(n log n).
//
// # Confidence
//
// A group is low confidence ("likely legitimate") when its charges carry two or
// more different order references: separate orders usually mean separate
// purchases. Otherwise it is high when two charges share an idempotency key or an
// order reference, or when all charges share a customer id or a card fingerprint
// and no two consecutive charges are more than 2 minutes apart. Everything else
// (charges tied only by an email, or minutes apart within the window) is medium.
//
// # Causes
//
// The first that applies wins: different orders → unknown (likely legitimate);
// the same key on charges more than 24 h apart → key_reused_after_expiry; one
// order with two or more application keys → new_key_per_retry; a charge without
// an application key (none, or only a library-generated `<19 digits>_<6 chars>`
// key) → no_key;
// charges under 10 s apart with different keys and no order reference →
// double_submit; otherwise unknown. Each cause's reason says what to fix.
//
// # Status
//
// A group is dismissed when the latest dismissed/undismissed decision for its id
// is a dismissal (ids derive from the kept charge, so this survives re-detection),
// else resolved when every suspect is fully refunded (by Stripe's figure or by a
// succeeded refund in doublecheck's ledger, whichever is larger), else open.
package reconcile
