-- Times are INTEGER Unix nanoseconds (0 = unknown): compact, and loading a million
-- charges never parses a date string.

-- The columns detection and the report need. The raw Stripe JSON lives in
-- charge_raw so that a full scan of charges (every detection run) reads about
-- 200 bytes a row instead of the 1.5 KB of JSON behind it.
CREATE TABLE charges (
    id               TEXT    NOT NULL PRIMARY KEY,
    created          INTEGER NOT NULL,
    amount           INTEGER NOT NULL,
    amount_refunded  INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    captured         INTEGER NOT NULL,
    refunded         INTEGER NOT NULL,
    disputed         INTEGER NOT NULL,
    customer         TEXT    NOT NULL,
    email            TEXT    NOT NULL,
    card_fingerprint TEXT    NOT NULL,
    card_brand       TEXT    NOT NULL,
    card_last4       TEXT    NOT NULL,
    payment_intent   TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    metadata         TEXT    NOT NULL, -- compact JSON object, '' when empty
    livemode         INTEGER NOT NULL,
    observed         INTEGER NOT NULL, -- when this state was true: the newest wins
    -- Every column above that detection reads, packed into one value by
    -- store.loadRecord (changing its format needs a migration that rewrites
    -- it). Loading charges reads this instead of nineteen columns: each column
    -- read costs the driver a lock and an allocation, and a million charges
    -- must load in under two seconds.
    load_record      TEXT    NOT NULL
) WITHOUT ROWID;

-- No foreign key to charges: raw JSON is only ever written right after its
-- charge, in the same transaction, and the check would cost every insert a lookup.
CREATE TABLE charge_raw (
    id  TEXT NOT NULL PRIMARY KEY,
    raw BLOB NOT NULL
) WITHOUT ROWID;

-- One record per key and charge: a key reused after Stripe pruned it names two
-- charges, and that is the evidence of key_reused_after_expiry. charge_id is ''
-- for a key whose charge is unknown (a logged request that never charged).
CREATE TABLE key_records (
    key       TEXT    NOT NULL,
    charge_id TEXT    NOT NULL,
    order_ref TEXT    NOT NULL,
    sources   TEXT    NOT NULL, -- sorted, distinct, comma-separated
    seen_at   INTEGER NOT NULL,
    PRIMARY KEY (key, charge_id)
) WITHOUT ROWID;

-- Append-only: the latest decision for a group or charge wins.
CREATE TABLE decisions (
    id        INTEGER PRIMARY KEY,
    group_id  TEXT    NOT NULL,
    charge_id TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    operator  TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    note      TEXT    NOT NULL
);

-- The refund ledger: a row is committed before any refund request is sent.
CREATE TABLE refund_intents (
    key            TEXT    NOT NULL PRIMARY KEY, -- the Stripe Idempotency-Key
    charge_id      TEXT    NOT NULL,
    kept_charge_id TEXT    NOT NULL,
    group_id       TEXT    NOT NULL,
    amount         INTEGER NOT NULL,
    currency       TEXT    NOT NULL,
    operator       TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    refund_id      TEXT    NOT NULL,
    error_code     TEXT    NOT NULL,
    error_message  TEXT    NOT NULL,
    attempts       INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    finished_at    INTEGER NOT NULL
);

CREATE INDEX refund_intents_status ON refund_intents (status);

-- Sync cursors and small facts (account name, last sync time).
CREATE TABLE state (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
