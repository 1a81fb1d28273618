-- PostgreSQL twin of ../0005_provider.sql.
ALTER TABLE charges ADD COLUMN provider TEXT NOT NULL DEFAULT 'stripe';

ALTER TABLE refund_intents ADD COLUMN provider TEXT NOT NULL DEFAULT 'stripe';
