-- PostgreSQL twin of ../0003_request_evidence.sql.
CREATE TABLE requests (
    object_id       TEXT   NOT NULL PRIMARY KEY,
    idempotency_key TEXT   NOT NULL,
    seen_at         BIGINT NOT NULL
);

CREATE TABLE checkout_sessions (
    id                  TEXT   NOT NULL PRIMARY KEY,
    payment_intent      TEXT   NOT NULL,
    client_reference_id TEXT   NOT NULL,
    metadata            TEXT   NOT NULL,
    completed_at        BIGINT NOT NULL
);
