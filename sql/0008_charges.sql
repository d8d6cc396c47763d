-- Charges of a billing key (POST /payments/charges, the subscriptions'
-- scheduler): each is an operation of kind 'charge', committed before the
-- vendor call with the key it carries (its vendor_uid is our vendor order id,
-- derived from the order's source, so that one order is never pending
-- twice), and every answer the vendor gave, paid or refused, is kept as an
-- attempt. The vendor's raw answer is sealed with the history key ring.
ALTER TABLE payment_operations DROP CONSTRAINT payment_operations_kind_check;
ALTER TABLE payment_operations ADD CONSTRAINT payment_operations_kind_check
    CHECK (kind IN ('confirm', 'cancel', 'mismatch_cancel', 'charge'));

CREATE TABLE payment_charge_attempts (
    -- The operation's id: one attempt per operation, so that a settlement
    -- made twice (a request and the reconciler) records it once.
    id              uuid PRIMARY KEY REFERENCES payment_operations (id),
    reservation_id  uuid NOT NULL REFERENCES payment_reservations (id),
    -- The history the charge became; NULL for a refusal.
    history_id      uuid REFERENCES payment_histories (id),
    source_schema   text NOT NULL,
    source_table    text NOT NULL,
    source_id       uuid NOT NULL,
    vendor_code     text NOT NULL,
    vendor_store_id text NOT NULL,
    order_id        text NOT NULL,
    amount          numeric NOT NULL CHECK (amount >= 0),
    currency        text NOT NULL,
    result          text NOT NULL CHECK (result IN ('succeeded', 'refused')),
    -- The vendor's own code and message of a refusal ('' when none).
    vendor_error    text NOT NULL DEFAULT '',
    message         text NOT NULL DEFAULT '',
    answer          text,  -- the vendor's raw answer, sealed
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_charge_attempts_reservation_idx ON payment_charge_attempts (reservation_id, created_at);
-- An order's refusals choose the vendor order id of its next charge.
CREATE INDEX payment_charge_attempts_source_idx
    ON payment_charge_attempts (source_schema, source_table, source_id);
