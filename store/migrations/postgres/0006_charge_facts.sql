-- PostgreSQL twin of ../0006_charge_facts.sql.
ALTER TABLE charges ADD COLUMN facts BYTEA NOT NULL DEFAULT ''::bytea;

CREATE INDEX charges_facts ON charges (id, facts);

ALTER TABLE charges RENAME COLUMN load_record TO detect_record;
