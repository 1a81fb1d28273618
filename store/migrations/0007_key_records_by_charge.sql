-- Key records in charge id order, with what detection needs of each: a
-- narrowed detection reads this index alongside charges_facts (both in id
-- order, so they join in one pass) and reads the full records only of the
-- charges reconcile.Narrow picks. Without it, every detection read every key
-- record row by row: most of a scan of a synced store.
CREATE INDEX key_records_by_charge ON key_records (charge_id, key, order_ref, sources);

-- Checkout Sessions by PaymentIntent: a narrowed detection reads only those of
-- the PaymentIntents of the charges it picks.
CREATE INDEX checkout_sessions_by_intent ON checkout_sessions (payment_intent);
