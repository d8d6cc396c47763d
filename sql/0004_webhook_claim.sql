-- The claim walks pending notifications in sequence order and stops after a
-- batch: with this index it reads about a batch of rows however long the
-- backlog is. The index on next_attempt_at goes: while the statistics still
-- describe the outbox as nearly empty (right after a burst), the planner
-- preferred it, then sorted every due row and checked its order on each
-- claim, which made draining a backlog quadratic.
CREATE INDEX payment_webhook_deliveries_pending_idx
    ON payment_webhook_deliveries (sequence) WHERE status = 'pending';
DROP INDEX payment_webhook_deliveries_due_idx;
