-- PostgreSQL twin of ../0004_dismissal_scope.sql.
ALTER TABLE decisions ADD COLUMN charge_ids TEXT NOT NULL DEFAULT '';
