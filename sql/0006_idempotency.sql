-- Idempotency keys of our own API: a request carrying an Idempotency-Key
-- header claims its row before doing anything, and its answer (status,
-- content type and the body exactly as sent: encrypted, or a plain error)
-- is kept there for the retries until expires_at. The key is an HMAC of the
-- header with the route, the body's source and the record password (see
-- worker/api/idempotency_key.h), so no plaintext and no password is stored.

CREATE TABLE payment_idempotency_keys (
    key          text PRIMARY KEY CHECK (length(key) = 64),
    body_hash    text NOT NULL CHECK (length(body_hash) = 64),
    -- The claim of the request executing it: only that request may store
    -- its answer or release the key, even once another took it over.
    lease        uuid NOT NULL,
    -- While in flight (status NULL): a retry is refused with 409 until then,
    -- after which a key left behind by a crashed worker may be taken over.
    locked_until timestamptz NOT NULL,
    status       integer CHECK (status BETWEEN 200 AND 499),
    content_type text,
    body         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    CHECK ((status IS NULL) = (body IS NULL))
);
-- Expired keys are purged a few at a time by each new claim.
CREATE INDEX payment_idempotency_keys_expires_idx ON payment_idempotency_keys (expires_at);
