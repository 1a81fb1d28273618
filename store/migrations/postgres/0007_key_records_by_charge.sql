-- PostgreSQL twin of ../0007_key_records_by_charge.sql. The ids sort in byte
-- order, as charges_facts does (charges.id is COLLATE "C"), so that the two
-- join in one pass. Only the ids: a PostgreSQL index entry holds at most
-- 2704 bytes, and order refs from a key log have no bound (the order refs and
-- sources are read from the table).
CREATE INDEX key_records_by_charge ON key_records (charge_id COLLATE "C", key COLLATE "C");

CREATE INDEX checkout_sessions_by_intent ON checkout_sessions (payment_intent);
