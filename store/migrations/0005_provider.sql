-- The payment provider that took each charge ('stripe', 'paypal', 'adyen';
-- reconcile.Provider). Charges stored before providers existed are Stripe's.
-- load_record carries the provider in its flags field (no provider bit is
-- Stripe), so the records already written stay valid.
ALTER TABLE charges ADD COLUMN provider TEXT NOT NULL DEFAULT 'stripe';

-- The provider a refund intent is sent through, so a resume finds its
-- gateway without the charge. Intents recorded before providers existed are
-- Stripe's.
ALTER TABLE refund_intents ADD COLUMN provider TEXT NOT NULL DEFAULT 'stripe';
