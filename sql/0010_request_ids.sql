-- Request ids: the id of the request that caused an operation, and the one
-- that caused a notification, so that an operator holding the X-Request-Id
-- of a complaint finds the vendor call and the webhook it led to (and their
-- log lines, which carry the same id). NULL for what no request caused (the
-- reconciler's work) and for rows older than this migration.
ALTER TABLE payment_operations ADD COLUMN request_id text;
ALTER TABLE payment_webhook_deliveries ADD COLUMN request_id text;
CREATE INDEX payment_operations_request_id_idx ON payment_operations (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX payment_webhook_deliveries_request_id_idx
    ON payment_webhook_deliveries (request_id) WHERE request_id IS NOT NULL;
