-- An Idempotency-Key follows the operation its request committed: a request
-- that ends in 5xx (vendor timeout, database down after the vendor call)
-- while its operation may still have happened keeps its key, awaiting that
-- operation, instead of releasing it; a retry then answers what the
-- operation became rather than running a second one (worker/api/idempotency.c).
ALTER TABLE payment_idempotency_keys
    ADD COLUMN operation_id uuid REFERENCES payment_operations (id),
    -- Awaiting: no answer yet, and neither the lease nor the key expires
    -- (locked_until and expires_at are 'infinity') until a retry finds the
    -- operation settled.
    ADD COLUMN awaiting_operation boolean NOT NULL DEFAULT false,
    ADD CHECK (NOT awaiting_operation OR (operation_id IS NOT NULL AND status IS NULL));
