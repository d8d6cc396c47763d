-- Payments: one history per vendor payment, its cancels, and reservations
-- (billing keys). Vendor documents (data) are stored sealed, each table with
-- its own key (common/seal.h); record passwords only as hashes
-- (common/password.h). Names are unqualified: migrate sets search_path.

CREATE TABLE payment_histories (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    vendor_code     text NOT NULL CHECK (vendor_code <> ''),
    vendor_store_id text NOT NULL,
    vendor_uid      text NOT NULL CHECK (vendor_uid <> ''),
    source_schema   text NOT NULL CHECK (source_schema <> ''),
    source_table    text NOT NULL CHECK (source_table <> ''),
    source_id       uuid NOT NULL,
    webhook_url     text,
    password_hash   text NOT NULL,
    currency        text NOT NULL,
    price           numeric NOT NULL CHECK (price >= 0),
    refund          numeric CHECK (refund >= 0),
    data            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    paid_at         timestamptz,
    cancelled_at    timestamptz,
    CONSTRAINT payment_histories_source_key UNIQUE (source_schema, source_table, source_id),
    CONSTRAINT payment_histories_vendor_key UNIQUE (vendor_code, vendor_uid)
);

-- sequence is the cancel's position in the vendor's list (ordered by time),
-- so recording the same vendor answer twice inserts nothing new.
CREATE TABLE payment_history_cancels (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    history_id uuid NOT NULL REFERENCES payment_histories (id),
    sequence   integer NOT NULL CHECK (sequence >= 0),
    price      numeric NOT NULL CHECK (price >= 0),
    reason     text NOT NULL,
    data       text NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT payment_history_cancels_sequence_key UNIQUE (history_id, sequence)
);

CREATE TABLE payment_reservations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    vendor_code     text NOT NULL CHECK (vendor_code <> ''),
    vendor_store_id text NOT NULL,
    vendor_uid      text NOT NULL CHECK (vendor_uid <> ''),
    source_schema   text NOT NULL CHECK (source_schema <> ''),
    source_table    text NOT NULL CHECK (source_table <> ''),
    source_id       uuid NOT NULL,
    title           text NOT NULL,
    password_hash   text NOT NULL,
    data            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payment_reservations_source_key UNIQUE (source_schema, source_table, source_id),
    CONSTRAINT payment_reservations_vendor_key UNIQUE (vendor_code, vendor_uid)
);
