-- Subscriptions: a reservation's billing key charged on a schedule (days of
-- the month, a time of day, an IANA time zone). Each due instant becomes one
-- period row, unique per subscription and instant: inserting it is the claim
-- that makes a period exist once across every worker and instance, and its
-- charge's order id is derived from it, so a resend after a crash is the same
-- order at the vendor, never a second charge.

-- The first due instant strictly after `after`: each day of `days` on or
-- past the month's end runs on its last day, `last_day` adds the last day
-- itself, and a month's days are a set, so 31 and `last` are one charge. The
-- local time becomes an instant in `zone` by PostgreSQL's own rules (a time
-- that a DST change skips is read in the offset before the change).
CREATE FUNCTION payment_subscription_next_due(days smallint[], last_day boolean, at time, zone text,
                                              after timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT min(due)
    FROM generate_series(0, 13) AS step,
         LATERAL (SELECT (date_trunc('month', after AT TIME ZONE zone) + step * interval '1 month')::date
                         AS first_day) AS month,
         LATERAL (SELECT extract(day FROM first_day + interval '1 month' - interval '1 day')::int
                         AS length) AS month_length,
         LATERAL (SELECT least(day, length) AS day FROM unnest(days) AS day
                  UNION SELECT length WHERE last_day) AS effective,
         LATERAL (SELECT ((first_day + (effective.day - 1)) + at) AT TIME ZONE zone AS due) AS instant
    WHERE due > after
$$;

CREATE TABLE payment_subscriptions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reservation_id uuid NOT NULL REFERENCES payment_reservations (id),
    amount         numeric NOT NULL CHECK (amount > 0),
    currency       text NOT NULL CHECK (currency <> ''),
    name           text NOT NULL CHECK (name <> ''),
    days           smallint[] NOT NULL CHECK (1 <= ALL (days) AND 31 >= ALL (days)),
    last_day       boolean NOT NULL DEFAULT false,
    time_of_day    time NOT NULL,
    time_zone      text NOT NULL,
    webhook_url    text,
    state          text NOT NULL DEFAULT 'active'
                   CHECK (state IN ('active', 'paused', 'cancelled', 'past_due')),
    -- The next instant to charge while active; the scheduler moves it on as
    -- it inserts that instant's period, in one statement.
    next_due_at    timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (cardinality(days) > 0 OR last_day)
);
CREATE INDEX payment_subscriptions_due_idx ON payment_subscriptions (next_due_at) WHERE state = 'active';
CREATE INDEX payment_subscriptions_reservation_idx ON payment_subscriptions (reservation_id);

-- One row per subscription and due instant. state: due (waiting for its
-- first attempt or a dunning retry at next_attempt_at), charging (claimed
-- until claimed_until; an expired claim is taken over, for the same
-- order), charged, failed (the dunning schedule ran out), skipped (the
-- subscription was cancelled or resumed past it).
CREATE TABLE payment_subscription_periods (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    subscription_id uuid NOT NULL REFERENCES payment_subscriptions (id),
    due_at          timestamptz NOT NULL,
    state           text NOT NULL DEFAULT 'due'
                    CHECK (state IN ('due', 'charging', 'charged', 'failed', 'skipped')),
    -- Charges of this period whose outcome was known (charged or refused);
    -- each charge is the order whose source is this row, so its vendor order
    -- id is the same at every attempt and a resend is never a second payment.
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    claimed_until   timestamptz,
    outcome         text, -- the last attempt's result, in words (never card data)
    history_id      uuid REFERENCES payment_histories (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payment_subscription_periods_due_key UNIQUE (subscription_id, due_at)
);
CREATE INDEX payment_subscription_periods_due_idx
    ON payment_subscription_periods (next_attempt_at) WHERE state = 'due';
CREATE INDEX payment_subscription_periods_charging_idx
    ON payment_subscription_periods (claimed_until) WHERE state = 'charging';

-- A subscription as the API answers it, made where the row is, so that a
-- statement's RETURNING gives the answer of the row it just wrote.
CREATE FUNCTION payment_subscription_document(s payment_subscriptions)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', s.id,
        'reservation_id', s.reservation_id,
        'amount', s.amount,
        'currency', s.currency,
        'name', s.name,
        'schedule', json_build_object(
            'days', (SELECT json_agg(day) FROM (SELECT to_json(d) AS day FROM unnest(s.days) AS d
                                                UNION ALL SELECT to_json(text 'last') WHERE s.last_day) AS days),
            'time', to_char(s.time_of_day, 'HH24:MI:SS'),
            'time_zone', s.time_zone),
        'webhook_url', s.webhook_url,
        'state', s.state,
        'next_due_at', CASE WHEN s.state = 'active' THEN
            to_char(s.next_due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
        'created_at', to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'updated_at', to_char(s.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
$$;

-- A period as notifications show it.
CREATE FUNCTION payment_subscription_period_document(p payment_subscription_periods)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', p.id,
        'due_at', to_char(p.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'state', p.state,
        'attempts', p.attempts,
        'next_attempt_at', CASE WHEN p.state = 'due' THEN
            to_char(p.next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
        'outcome', p.outcome,
        'history_id', p.history_id)
$$;

-- Subscription events (a period charged or refused, past due, paused,
-- resumed, cancelled) ride the outbox of history notifications: a webhook
-- record names a history or a subscription, never both. Its previous and
-- current are the subscription before and after the event, its event the
-- event itself (sealed like the others); a subscription's deliveries have
-- no history, so the outbox keeps no order among them: each event carries
-- its period and the subscription's state.
ALTER TABLE payment_webhooks
    ALTER COLUMN history_id DROP NOT NULL,
    ADD COLUMN subscription_id uuid REFERENCES payment_subscriptions (id),
    DROP CONSTRAINT payment_webhooks_origin_check,
    ADD CONSTRAINT payment_webhooks_origin_check CHECK (origin IN ('vendor', 'cancel', 'subscription')),
    ADD CONSTRAINT payment_webhooks_subject_check CHECK ((history_id IS NULL) <> (subscription_id IS NULL));
ALTER TABLE payment_webhook_deliveries ALTER COLUMN history_id DROP NOT NULL;
