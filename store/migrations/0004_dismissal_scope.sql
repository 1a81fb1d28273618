-- A dismissal covers the charges the operator saw: their ids, space-separated,
-- recorded with the decision. Decisions older than this migration have none;
-- detection treats one as covering the charges created by its time (see
-- reconcile.Decision.Covers), since later ones cannot have been seen.
ALTER TABLE decisions ADD COLUMN charge_ids TEXT NOT NULL DEFAULT '';
