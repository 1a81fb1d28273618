-- Each charge's reconcile.ChargeFacts (store.encodeFacts: 43 bytes of
-- fixed-width numbers), written with the charge by every write. Detection
-- reads the index, which holds only the ids and facts (about 85 bytes a charge
-- against 600 of table pages), then the full rows of the charges
-- reconcile.Narrow picks. The index is in id order, as imports write. Charges
-- stored before this migration get their facts from the Go step that runs
-- with it (store.backfillFacts).
ALTER TABLE charges ADD COLUMN facts BLOB NOT NULL DEFAULT x'';

CREATE INDEX charges_facts ON charges (id, facts);
