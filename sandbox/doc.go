// Package sandbox is a stateful, Stripe-compatible HTTP server for doublecheck's
// demo, tests and benchmarks. It uses the standard library only; its JSON has the
// shape of Stripe's API objects (API version 2023-10-16), so stripe-go v76 and
// curl talk to it as to Stripe.
//
// Endpoints: GET /v1/account; GET /v1/charges (created[gt|gte|lt|lte] and
// created=, customer, payment_intent, limit 1..100, starting_after,
// ending_before, has_more, newest first with ties by id) and /v1/charges/{id};
// GET /v1/events (type, with a trailing * wildcard, types[], created; only the
// last 30 days) and /v1/events/{id}; POST /v1/charges/{id}/capture (amount,
// default all; the rest of the authorisation is released and shows as
// amount_refunded; emits charge.captured; refuses charge_already_captured, a
// failed charge, charge_expired_for_capture after 7 days and amount_too_large);
// POST /v1/refunds (charge or payment_intent, amount, reason, metadata[k]) with
// Stripe's refusals; GET /v1/refunds (charge, payment_intent) and
// /v1/refunds/{id}. expand[] is accepted and ignored; other unknown parameters
// get Stripe's 400.
//
// Keys: TestKey, LiveKey (livemode objects over the same data), RestrictedKey
// (everything doublecheck needs), NoReadKey (403 permission_error on reads),
// NoRefundKey (403 on POST /v1/refunds), NoIntentKey (403 on PaymentIntents and
// payment_intent.* events). GET /v1/account answers 403 to every
// restricted key, with Stripe's message naming the account; with
// Options.NoAccount it answers 404 to all. Missing or unknown keys get 401. Errors use Stripe's envelope
// {"error":{"type","code","message","param","doc_url"}}; keys are never echoed.
//
// Idempotency: a POST with an Idempotency-Key is stored per API key for
// Options.KeyTTL (24 h on the server clock): the same key and parameters replay
// the first response byte for byte (with its Request-Id and
// "Idempotent-Replayed: true"), different parameters get 400 idempotency_error.
// As at Stripe, results of requests that began executing are kept, errors
// included; parameter validation failures and injected faults are not.
//
// Faults (Options): Latency per request, RateLimit/RateBurst (429 rate_limit,
// without Stripe-Should-Retry, so stripe-go does not retry it), WindowLimit (a
// strict sliding window: at most N requests in any second; the limiter alone
// is SlidingWindow, for a client's tests on a fake clock), ErrorRate (500
// or 503 api_error), TimeoutRate (hang until the client gives up),
// FailAfterCommitRate (a refund is made and stored, then the answer is a 500 or
// a hang), NoEvents (/v1/events is 404), NoAccount (/v1/account is 404). They draw from an RNG seeded by
// Options.Seed, so a sequence of requests meets the same faults every run.
//
// Data: Options.Ordinary (3000) everyday charges over Options.Span (60 days) —
// web orders with metadata order_id, guest checkouts, subscription invoices,
// Dashboard wholesale charges; some declined, refunded or disputed; none of them
// duplicates — plus the scenarios below, each instance named "kind/n" (odd n
// within the last 30 days, so their events exist; even n older):
//
//	double_click             2 charges seconds apart: /1 library keys, /2 a new app key each and no order, /3 no key
//	retry_new_key            one order_id, 2 app keys, 30-90 s apart; the log has the first without a charge id
//	key_reused_after_expiry  one app key (and order) 26 h apart; /2 also copies the key into metadata
//	guest_same_card          guests, one card fingerprint, different emails
//	email_only               guests, one email, different cards, no order_id
//	legit_repeat             one customer and amount minutes apart, different orders (not duplicates)
//	subscription             monthly invoices of one customer (not duplicates)
//	declined_then_paid       a failed then a succeeded charge of one order (not duplicates)
//	other_currency           /1 eur, /2 jpy (zero-decimal) duplicates
//	uncaptured               the second charge is captured=false (not a duplicate until captured)
//	already_refunded         the duplicate is fully refunded
//	partly_refunded          the duplicate is a quarter refunded
//	disputed                 the duplicate is disputed (refunds answer charge_disputed)
//	same_payment_intent      two succeeded charges on one PaymentIntent (not duplicates)
//	triple_retry             3 charges in under a minute: /1 library keys, /2 a new app key each
//
// With Options.ArrivalEvery, new web orders keep arriving as the clock moves,
// every fourth a fresh double_click, retry_new_key, triple_retry or
// guest_same_card instance (numbered after the seeded ones). Lists never show
// objects dated after the server clock.
//
// PayPal (paypal.go, paypal_data.go): the same server is one PayPal merchant
// account (PayPalAccountNumber): POST /v1/oauth2/token (client credentials
// PayPalClientID:PayPalSecret as basic auth), GET /v1/reporting/transactions
// (Transaction Search: start_date/end_date at most 31 days apart, three
// years back, page/page_size ≤ 500, fields, balance_affecting_records_only,
// transaction_id; each row listed only after its lag, Options.PayPalLag, up
// to three hours) and POST /v2/payments/captures/{id}/refund with
// PayPal-Request-Id kept 45 days; GET /v2/payments/refunds/{id}. Seeded:
// Options.PayPalOrdinary everyday payments, a non-balance-affecting twin row
// for one payment in seven, and the paypal_* duplicate scenarios.
//
// Adyen (adyen.go) is a separate sandbox of Adyen: the Checkout API's refund
// endpoint with Adyen's idempotency, the merchant account's Received payment
// details and Settlement details reports, and signed REFUND notifications.
//
// Scenarios, ScenarioList, KeyLog/WriteKeyLogCSV (the merchant's own key log),
// Charges, ChargeJSON, RefundsFor, AddCharge, Capture, Stats, Now and Advance
// let tests look inside and move the clock.
package sandbox
