-- What Stripe events recorded about the API request that created a charge
-- (charge.succeeded/failed) or a PaymentIntent (payment_intent.created): its
-- Idempotency-Key, '' when it carried none. A charge with neither a row here
-- (for itself or its PaymentIntent) nor a key record has no known key evidence.
CREATE TABLE requests (
    object_id       TEXT    NOT NULL PRIMARY KEY, -- ch_…, py_… or pi_…
    idempotency_key TEXT    NOT NULL,
    seen_at         INTEGER NOT NULL
) WITHOUT ROWID;

-- Completed Checkout Sessions (checkout.session.completed): the cart their
-- PaymentIntent's charges pay for.
CREATE TABLE checkout_sessions (
    id                  TEXT    NOT NULL PRIMARY KEY,
    payment_intent      TEXT    NOT NULL,
    client_reference_id TEXT    NOT NULL,
    metadata            TEXT    NOT NULL, -- compact JSON object, '' when empty
    completed_at        INTEGER NOT NULL
) WITHOUT ROWID;
