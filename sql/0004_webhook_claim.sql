-- The claim walks pending notifications in sequence order and stops after a
-- batch: with this index it reads about a batch of rows however long the
-- backlog is. The index on next_attempt_at goes: while the statistics still
-- describe the outbox as nearly empty (right after a burst), the planner
-- preferred it, then sorted every due row and checked its order on each
-- claim, which made draining a backlog quadratic.
-- Building the index holds off writers of the outbox while it scans the
-- table; waiting for a lock is bounded, so that a long transaction makes the
-- migration (and so the update) fail, with the old version serving, rather
-- than queue every payment's webhook record behind it.
SET LOCAL lock_timeout = '5s';
CREATE INDEX payment_webhook_deliveries_pending_idx
    ON payment_webhook_deliveries (sequence) WHERE status = 'pending';
DROP INDEX payment_webhook_deliveries_due_idx;
