-- Webhooks: every change of a history (a vendor event, or a cancel through
-- our API) is recorded with the history before and after it, and queued as a
-- notification to the history's webhook_url in the same transaction. The
-- deliveries table is a durable outbox: any worker claims due rows with
-- FOR UPDATE SKIP LOCKED, one history's notifications go out in the order of
-- their sequence, and every attempt leaves a row in the responses.
-- Documents (previous, current, the vendor's event) are sealed with the
-- history key ring, like payment_histories.data.

CREATE TABLE payment_webhooks (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    history_id  uuid NOT NULL REFERENCES payment_histories (id),
    vendor_code text NOT NULL,
    -- vendor: a vendor's webhook; cancel: a cancel through our own API.
    origin      text NOT NULL CHECK (origin IN ('vendor', 'cancel')),
    event       text,          -- the vendor's raw event, sealed; NULL for a cancel
    previous    text NOT NULL, -- IPaymentHistory before the change, sealed
    current     text NOT NULL, -- IPaymentHistory after the change, sealed
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_webhooks_history_idx ON payment_webhooks (history_id, created_at);

-- sequence orders the notifications of one history: writers of a history
-- hold its row lock until COMMIT, so its deliveries are numbered in the
-- order their changes happened.
CREATE TABLE payment_webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    webhook_id      uuid NOT NULL UNIQUE REFERENCES payment_webhooks (id),
    history_id      uuid NOT NULL REFERENCES payment_histories (id),
    sequence        bigint GENERATED ALWAYS AS IDENTITY,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivering', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- attempts that do not count toward the retry schedule: those made
    -- before an operator re-sent a failed notification, and those a stopping
    -- worker interrupted.
    schedule_start  integer NOT NULL DEFAULT 0 CHECK (schedule_start >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_until   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
-- The claim: due pending rows, expired claims, and the earlier unfinished
-- notifications of the same history.
CREATE INDEX payment_webhook_deliveries_due_idx
    ON payment_webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX payment_webhook_deliveries_claimed_idx
    ON payment_webhook_deliveries (claimed_until) WHERE status = 'delivering';
CREATE INDEX payment_webhook_deliveries_open_idx
    ON payment_webhook_deliveries (history_id, sequence) WHERE status IN ('pending', 'delivering');
CREATE INDEX payment_webhook_deliveries_failed_idx
    ON payment_webhook_deliveries (history_id) WHERE status = 'failed';

-- One row per attempt: the receiver's HTTP status and body (truncated), or
-- why no answer came (refused, timed out, the delivering worker stopped).
CREATE TABLE payment_webhook_responses (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    delivery_id uuid NOT NULL REFERENCES payment_webhook_deliveries (id),
    attempt     integer NOT NULL CHECK (attempt >= 1),
    status      integer,
    body        text,
    error       text,
    duration_ms integer NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_webhook_responses_delivery_idx ON payment_webhook_responses (delivery_id, attempt);

-- What POST /payments/internal/webhook (the test receiver, local mode only)
-- received, for tests to read back; the document sealed.
CREATE TABLE payment_internal_webhooks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    history_id  uuid NOT NULL,
    webhook_id  uuid NOT NULL,
    signed      boolean NOT NULL, -- the signature headers verified
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_internal_webhooks_history_idx ON payment_internal_webhooks (history_id, id);
