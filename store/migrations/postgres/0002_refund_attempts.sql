-- PostgreSQL twin of ../0002_refund_attempts.sql.
CREATE TABLE refund_attempts (
    key           TEXT   NOT NULL REFERENCES refund_intents (key),
    attempt       BIGINT NOT NULL,
    operator      TEXT   NOT NULL,
    opened_by     TEXT   NOT NULL,
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT NOT NULL,
    status        TEXT   NOT NULL,
    refund_id     TEXT   NOT NULL,
    error_code    TEXT   NOT NULL,
    error_message TEXT   NOT NULL,
    PRIMARY KEY (key, attempt)
);

-- Append-only: a row is inserted when the attempt starts and completed once
-- with its outcome; after that nothing may change or remove it.
CREATE FUNCTION refund_attempts_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'refund attempts are an audit trail and cannot be deleted';
END $$;

CREATE TRIGGER refund_attempts_no_delete BEFORE DELETE ON refund_attempts
FOR EACH ROW EXECUTE FUNCTION refund_attempts_no_delete();

CREATE FUNCTION refund_attempts_finish_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a refund attempt is only ever completed once, with its outcome';
END $$;

CREATE TRIGGER refund_attempts_finish_once BEFORE UPDATE ON refund_attempts
FOR EACH ROW
WHEN (OLD.status <> 'started' OR NEW.key <> OLD.key OR NEW.attempt <> OLD.attempt
    OR NEW.operator <> OLD.operator OR NEW.opened_by <> OLD.opened_by
    OR NEW.started_at <> OLD.started_at)
EXECUTE FUNCTION refund_attempts_finish_once();
