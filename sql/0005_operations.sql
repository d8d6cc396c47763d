-- Operations: every vendor call that moves money (a Toss confirm, a cancel,
-- the cancel of an iamport payment refused for another order or amount) is
-- committed here before it is made, with the idempotency key it carries, so
-- that a crash, a timeout or a failed write between the vendor's answer and
-- our record leaves a row the reconciler settles by asking the vendor.
-- Inputs and answers are sealed with the history key ring.
CREATE TABLE payment_operations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind            text NOT NULL CHECK (kind IN ('confirm', 'cancel', 'mismatch_cancel')),
    vendor_code     text NOT NULL,
    vendor_store_id text NOT NULL,
    vendor_uid      text NOT NULL,
    -- NULL for a confirm until its history exists, and for a mismatch cancel.
    history_id      uuid REFERENCES payment_histories (id),
    amount          numeric NOT NULL CHECK (amount >= 0),
    reason          text NOT NULL DEFAULT '',
    -- What we had recorded as refunded before a cancel (0 for a new payment).
    refund_before   numeric NOT NULL DEFAULT 0 CHECK (refund_before >= 0),
    -- A confirm: the pending history's input; a cancel: the refund account.
    input           text,
    -- Toss Idempotency-Key, or the iamport checksum as text.
    idempotency_key text NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'succeeded', 'refused', 'unknown')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    claimed_until   timestamptz,
    answer          text,  -- the vendor's answer, sealed, once known
    decision        text,  -- why it was settled so, in words an operator reads
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    settled_at      timestamptz
);
-- The reconciler's claim: the oldest pending operations.
CREATE INDEX payment_operations_pending_idx
    ON payment_operations (created_at) WHERE state = 'pending';
-- One unsettled operation per vendor payment: a new cancel (or a confirm
-- racing another) is refused while an earlier one may still have happened.
CREATE UNIQUE INDEX payment_operations_open_payment_key
    ON payment_operations (vendor_code, vendor_uid) WHERE state = 'pending';
CREATE INDEX payment_operations_state_idx ON payment_operations (state, created_at);
