-- The refund audit: one row per attempt to settle a refund intent, who ran it,
-- when, and its outcome. refund_intents keeps only the latest outcome; this
-- table keeps them all. Intents older than this migration keep their attempts
-- count, so their next attempt is numbered after the uncounted ones.
CREATE TABLE refund_attempts (
    key           TEXT    NOT NULL REFERENCES refund_intents (key),
    attempt       INTEGER NOT NULL, -- 1, 2, 3… per key: refund_intents.attempts when it began
    operator      TEXT    NOT NULL, -- who ran this attempt (a resume may be someone else)
    -- The store handle (one per process) that began the attempt: FinishRefund
    -- completes its own attempt, never one another process has in flight.
    opened_by     TEXT    NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER NOT NULL, -- 0 while status is 'started'
    status        TEXT    NOT NULL, -- started, pending, refunded, refund_failed, adopted
    refund_id     TEXT    NOT NULL,
    error_code    TEXT    NOT NULL,
    error_message TEXT    NOT NULL,
    PRIMARY KEY (key, attempt)
) WITHOUT ROWID;

-- Append-only: a row is inserted when the attempt starts and completed once
-- with its outcome; after that nothing may change or remove it.
CREATE TRIGGER refund_attempts_no_delete BEFORE DELETE ON refund_attempts
BEGIN
    SELECT RAISE(ABORT, 'refund attempts are an audit trail and cannot be deleted');
END;

CREATE TRIGGER refund_attempts_finish_once BEFORE UPDATE ON refund_attempts
WHEN OLD.status != 'started' OR NEW.key != OLD.key OR NEW.attempt != OLD.attempt
    OR NEW.operator != OLD.operator OR NEW.opened_by != OLD.opened_by
    OR NEW.started_at != OLD.started_at
BEGIN
    SELECT RAISE(ABORT, 'a refund attempt is only ever completed once, with its outcome');
END;
