-- Alerts: what operators are told on PAYMENT_ALERT_WEBHOOK_URL is an
-- incident, opened by the transaction that records the charge outcome making
-- it (a run of refused subscription charges, or a subscription past due),
-- with its message queued in the outbox by that same transaction: a crash
-- after the commit loses nothing, and every worker of every instance sees the
-- same incidents, so one incident makes one alert.

-- At most one open incident per kind and subject: a second opening while one
-- is open does nothing (ON CONFLICT), which is "one alert per incident". The
-- run's subject is '' (one run for the whole database); a past due one's is
-- the failed period, which fails once. A charge that succeeds closes them.
-- text is the message as sent ({"text": ...}): ids, names and the vendor's
-- refusal, never card data nor a secret; webhook_url the destination when it
-- was opened (NULL: no alert was configured, nothing queued).
CREATE TABLE payment_alert_incidents (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind        text NOT NULL CHECK (kind IN ('refusal_run', 'past_due')),
    subject     text NOT NULL DEFAULT '',
    text        text NOT NULL,
    webhook_url text,
    opened_at   timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz
);
CREATE UNIQUE INDEX payment_alert_incidents_open_key
    ON payment_alert_incidents (kind, subject) WHERE closed_at IS NULL;

-- The run of refused subscription charges, in the database's order: one row,
-- updated by each recorded outcome (a refusal adds one, a success sets 0),
-- so its row lock puts every worker's and instance's outcomes in one order.
CREATE TABLE payment_alert_refusal_run (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    refusals integer NOT NULL DEFAULT 0 CHECK (refusals >= 0)
);
INSERT INTO payment_alert_refusal_run DEFAULT VALUES;

-- An alert rides the outbox like a notification: a webhook record naming
-- the incident (no vendor, no documents: the incident holds its text), and
-- a delivery retried and signed like the others. The new checks hold for
-- new rows (NOT VALID: the old ones were written under the old checks).
ALTER TABLE payment_webhooks
    ADD COLUMN alert_id uuid REFERENCES payment_alert_incidents (id),
    ALTER COLUMN vendor_code DROP NOT NULL,
    ALTER COLUMN previous DROP NOT NULL,
    ALTER COLUMN current DROP NOT NULL,
    DROP CONSTRAINT payment_webhooks_origin_check,
    ADD CONSTRAINT payment_webhooks_origin_check
        CHECK (origin IN ('vendor', 'cancel', 'subscription', 'alert')) NOT VALID,
    DROP CONSTRAINT payment_webhooks_subject_check,
    ADD CONSTRAINT payment_webhooks_subject_check
        CHECK (num_nonnulls(history_id, subscription_id, alert_id) = 1) NOT VALID,
    ADD CONSTRAINT payment_webhooks_documents_check
        CHECK (origin = 'alert' OR (vendor_code IS NOT NULL AND previous IS NOT NULL AND current IS NOT NULL))
        NOT VALID;

-- The refused charges of a period's orders (payment_charge_attempts) that
-- its attempts already count. A refusal decided before any vendor call
-- leaves no attempt row, so attempts alone cannot say whether a vendor's
-- refusal was counted; this can: a refused attempt beyond it is one whose
-- worker died before counting it. Rows older than this count as before.
ALTER TABLE payment_subscription_periods ADD COLUMN counted_refusals integer NOT NULL DEFAULT 0;
UPDATE payment_subscription_periods SET counted_refusals = attempts WHERE attempts > 0;
