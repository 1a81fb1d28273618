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
// connected component of these links. Detection sorts and sweeps each kind of
// evidence and joins them with union-find: O(n log n).
//
// # Roles
//
// The earliest charge is kept (it also names the group) and the rest are
// suspects, with one exception. When an order reference is carried by two or
// more charges the group is about that duplicated order, and the first charge of
// every order reference is kept as well: the first charge of the duplicated order
// is the payment the customer meant, and a charge whose order reference no other
// charge carries is a separate purchase ("ch_… is order_id o-2, a separate
// purchase: kept"). Kept charges are never refundable and never money at risk.
// Group.KeptFor names the kept charge a suspect duplicates.
//
// # Confidence
//
// A group is low confidence ("likely legitimate") when its charges carry two or
// more different order references and none is shared: separate orders usually
// mean separate purchases. Otherwise it is high when two charges share an
// idempotency key or an order reference, or when all charges share a customer id
// or a card fingerprint and no two consecutive charges are more than 2 minutes
// apart. Everything else (charges tied only by an email, or minutes apart within
// the window) is medium. Separate purchases take no part in the confidence, the
// cause or the timing and identity reasons.
//
// # Evidence
//
// A charge's key evidence (Member.KeyEvidence) is the application's key (a key
// record from an event, the key log or metadata, or the key of the
// payment_intent.created request of its PaymentIntent), "sent without an
// application key" (a RequestRecord of the charge — only without a
// PaymentIntent, whose charge event may be the browser's confirmation — or of
// its PaymentIntent with no key, or only keys a Stripe library made), or not
// known (nothing recorded the request: Stripe lists events for 30 days only,
// and imported files carry none), or made by Stripe Checkout (a completed
// Checkout Session paid it: Stripe created the PaymentIntent, so no request of
// the application's exists). A completed Checkout Session's
// client_reference_id, else its metadata order field, is the order reference
// of its PaymentIntent's charges.
//
// # Causes
//
// The first that applies wins: different orders, none shared → unknown (likely
// legitimate); one order paid through two or more completed Checkout Sessions
// → double_checkout; the same key on charges more than 24 h apart →
// key_reused_after_expiry; one order with two or more application keys →
// new_key_per_retry (across PaymentIntents its fix is to reuse the order's
// PaymentIntent); a charge known to have been sent without an application key
// → no_key; a charge whose key evidence is not known → unknown, with a reason
// naming those charges and how to supply the evidence; charges under 10 s
// apart with different application keys and no order reference →
// double_submit; otherwise unknown. A group Stripe Checkout made wholly, with
// no shared cart, is unknown too (after new_key_per_retry), its reason naming
// the sessions and, for those without client_reference_id, saying to set it.
// Each cause's reason says what to fix.
// Application keys that are bare UUIDs add an "ambiguous:" reason to
// new_key_per_retry and double_submit: stripe-python, -java and -dotnet put
// one on every POST sent without a key, one per call, so two of them may be
// two keyless calls (no_key).
//
// no_key deliberately covers a group where some charges carry an application key
// and others are known to carry none: the application sent no key on that
// request, and that is the bug. Its reason names the request: "the retry ch_b
// was sent without the Idempotency-Key k-1 that the first attempt ch_a used",
// or, when the keyless charge came first, "the first attempt ch_a was sent
// without an Idempotency-Key, unlike ch_b (k-1)".
//
// # Status
//
// A group is dismissed when the latest dismissed/undismissed decision for its id
// is a dismissal (ids derive from the kept charge, so this survives re-detection),
// else resolved when every suspect is fully refunded (by Stripe's figure or by a
// succeeded refund in doublecheck's ledger, whichever is larger), else open. A
// group whose suspects are refunded only thanks to refunds the provider received
// and has yet to confirm (Adyen) is received instead of resolved, until the
// provider confirms them or its own figure for the charge shows the refund.
//
// # Decisions and refund ids
//
// A charge's decision, operator and time are those of the latest of: an
// operator's decision about it or its group, and its refund-ledger state. The
// ledger state is the latest refund intent, except that a refused attempt
// (refund_failed) after a succeeded refund shows that refund ("refunded", its operator and time): the report never says a charge
// failed to refund when money went back. A pending intent after a refund shows
// as pending. The refund id is always that of the latest succeeded (or received)
// refund, if any, whatever decision is shown, so the CSV stays an audit trail of
// money out.
package reconcile
