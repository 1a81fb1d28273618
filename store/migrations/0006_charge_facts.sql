-- Each charge's reconcile.ChargeFacts (store.encodeFacts: 43 bytes of
-- fixed-width numbers), written with the charge by every write. Detection
-- reads the index, which holds only the ids and facts (about 85 bytes a charge
-- against 600 of table pages), then the full rows of the charges
-- reconcile.Narrow picks. The index is in id order, as imports write. Charges
-- stored before this migration get their facts from the Go step that runs
-- with it (store.backfillFacts).
ALTER TABLE charges ADD COLUMN facts BLOB NOT NULL DEFAULT x'';

CREATE INDEX charges_facts ON charges (id, facts);

-- A doublecheck from before this migration that is still running (a dashboard
-- left open, another operator's process on a shared store) would write
-- charges without facts, or leave a changed charge's facts stale, and
-- detection would miss its groups. Every statement of such a process names
-- load_record, so renaming it makes them fail instead.
ALTER TABLE charges RENAME COLUMN load_record TO detect_record;
