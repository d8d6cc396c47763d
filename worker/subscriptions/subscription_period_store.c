/* subscription_period_store: parameterized SQL over periods. Due-ness reads
 * the scheduler's clock (the test clock when set); claims and their expiry
 * read PostgreSQL's own now(), so a test moving time never cuts a charge's
 * claim short. */
#include "subscription_period_store.h"

#include "db_row.h"
#include "db_transaction.h"
#include "subscription_alert.h"
#include "subscription_event.h"
#include "subscription_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
#define COLUMN(name) DB_ROW_COLUMN(subscription_period, name)
static const db_column period_columns[] = {
    COLUMN(id), COLUMN(subscription_id), COLUMN(reservation_id), COLUMN(amount), COLUMN(currency), COLUMN(name),
    COLUMN(webhook_url), COLUMN(attempts), COLUMN(history_id), COLUMN(unrecorded_refusal),
};
#undef COLUMN
static const db_row_type period_type = DB_ROW_TYPE("subscription period", subscription_period, period_columns);

static const char open_due_sql[] =
    "WITH due AS (SELECT id, next_due_at FROM payment_subscriptions"
    "  WHERE state = 'active' AND next_due_at <= " SUBSCRIPTION_CLOCK_SQL("$1")
    "  ORDER BY next_due_at LIMIT 64 FOR UPDATE SKIP LOCKED),"
    " opened AS (INSERT INTO payment_subscription_periods (subscription_id, due_at, next_attempt_at)"
    "  SELECT id, next_due_at, next_due_at FROM due ON CONFLICT DO NOTHING)"
    " UPDATE payment_subscriptions s SET updated_at = now(),"
    "  next_due_at = payment_subscription_next_due(s.days, s.last_day, s.time_of_day, s.time_zone, due.next_due_at)"
    " FROM due WHERE s.id = due.id";

static const char claim_sql[] =
    "WITH claimable AS (SELECT p.id FROM payment_subscription_periods p"
    "  JOIN payment_subscriptions s ON s.id = p.subscription_id"
    "  WHERE (p.state = 'due' AND s.state = 'active' AND p.next_attempt_at <= " SUBSCRIPTION_CLOCK_SQL("$1") ")"
    "   OR (p.state = 'charging' AND p.claimed_until < now())"
    "  ORDER BY p.next_attempt_at LIMIT $3 FOR UPDATE OF p SKIP LOCKED)"
    " UPDATE payment_subscription_periods p SET state = 'charging', updated_at = now(),"
    "  claimed_until = now() + $2::bigint * interval '1 millisecond'"
    " FROM claimable, payment_subscriptions s"
    " WHERE p.id = claimable.id AND s.id = p.subscription_id"
    " RETURNING p.id, p.subscription_id, s.reservation_id, s.amount::text AS amount, s.currency, s.name,"
    "  s.webhook_url, p.attempts::text AS attempts,"
    "  (SELECT h.id FROM payment_histories h WHERE h.source_schema = '" SUBSCRIPTION_ORDER_SCHEMA "'"
    "   AND h.source_table = '" SUBSCRIPTION_ORDER_TABLE "' AND h.source_id = p.id) AS history_id,"
    "  (SELECT CASE WHEN count(*) > p.counted_refusals THEN"
    "    'refused by ' || (array_agg(a.vendor_code || ': ' || a.vendor_error || ' ' || a.message"
    "     ORDER BY a.created_at DESC))[1] END"
    "   FROM payment_charge_attempts a WHERE a.source_schema = '" SUBSCRIPTION_ORDER_SCHEMA "'"
    "   AND a.source_table = '" SUBSCRIPTION_ORDER_TABLE "' AND a.source_id = p.id AND a.result = 'refused')"
    "  AS unrecorded_refusal";

/* The outcomes answer the subscription before and after, and the event,
 * for the notification queued in the same transaction. A charge leaves the
 * subscription as it was. */
static const char charged_sql[] =
    "UPDATE payment_subscription_periods p SET state = 'charged', history_id = $2, outcome = 'charged',"
    " claimed_until = NULL, updated_at = now()"
    " FROM payment_subscriptions s WHERE p.id = $1 AND p.state = 'charging' AND s.id = p.subscription_id"
    " RETURNING s.id AS subscription_id, payment_subscription_document(s)::text AS previous,"
    "  payment_subscription_document(s)::text AS current, 'charged' AS type,"
    "  json_build_object('type', 'charged', 'period', payment_subscription_period_document(p))::text AS event";

/* A refusal with a retry left waits for it; the last one fails the period
 * and makes its subscription past due; a subscription cancelled meanwhile
 * skips the period. Every refusal counts once in attempts, whether a vendor
 * made it or it came before any call; counted_refusals notes the vendor's
 * refusals counted so far, so that the claim finds one a dead worker left
 * uncounted however the two kinds interleave.
 * The final SELECT reads the subscription as the statement found it. */
static const char refused_sql[] =
    "WITH period AS (UPDATE payment_subscription_periods p SET attempts = p.attempts + 1, outcome = $2,"
    "  counted_refusals = (SELECT count(*) FROM payment_charge_attempts a"
    "   WHERE a.source_schema = '" SUBSCRIPTION_ORDER_SCHEMA "' AND a.source_table = '" SUBSCRIPTION_ORDER_TABLE "'"
    "   AND a.source_id = p.id AND a.result = 'refused'),"
    "  claimed_until = NULL, updated_at = now(),"
    "  state = CASE WHEN o.state = 'cancelled' THEN 'skipped' WHEN $3::bigint IS NULL THEN 'failed' ELSE 'due' END,"
    "  next_attempt_at = CASE WHEN $3::bigint IS NULL THEN p.next_attempt_at"
    "   ELSE " SUBSCRIPTION_CLOCK_SQL("$4") " + $3::bigint * interval '1 millisecond' END"
    "  FROM payment_subscriptions o WHERE p.id = $1 AND p.state = 'charging' AND o.id = p.subscription_id"
    "  RETURNING p.subscription_id, p.state, payment_subscription_period_document(p) AS document),"
    " became AS (UPDATE payment_subscriptions s SET state = 'past_due', updated_at = now() FROM period"
    "  WHERE s.id = period.subscription_id AND period.state = 'failed' AND s.state IN ('active', 'paused')"
    "  RETURNING s.id, payment_subscription_document(s)::text AS document)"
    " SELECT s.id AS subscription_id, payment_subscription_document(s)::text AS previous,"
    "  coalesce(became.document, payment_subscription_document(s)::text) AS current,"
    "  CASE WHEN became.id IS NULL THEN 'refused' ELSE 'past_due' END AS type,"
    "  json_build_object('type', CASE WHEN became.id IS NULL THEN 'refused' ELSE 'past_due' END,"
    "   'period', period.document)::text AS event"
    " FROM period JOIN payment_subscriptions s ON s.id = period.subscription_id"
    " LEFT JOIN became ON became.id = s.id";
/* clang-format on */

void subscription_period_free(subscription_period *period)
{
    db_row_delete(&period_type, period);
}

void subscription_period_store_open_due(pg_pool *pool, const char *now, subscription_count_cb cb, void *data)
{
    db_count_query(pool, open_due_sql, 1, (const char *const[]){now}, DB_COUNT_WRITTEN, cb, data);
}

/* ---- outcomes, with their notification ---- */

typedef struct outcome_row {
    char *subscription_id;
    char *previous;
    char *current;
    char *type;
    char *event;
} outcome_row;

#define COLUMN(name) DB_ROW_COLUMN(outcome_row, name)
static const db_column outcome_columns[] = {
    COLUMN(subscription_id), COLUMN(previous), COLUMN(current), COLUMN(type), COLUMN(event),
};
#undef COLUMN
static const db_row_type outcome_type = DB_ROW_TYPE("subscription period", outcome_row, outcome_columns);

typedef struct outcome_call {
    subscription_count_cb cb;
    void *data;
    const seal_ring *ring;
    outcome_row *row; /* NULL when the claim was no longer the caller's */
    subscription_event event;
    char id[40];
    char text[2][512]; /* the statement's own parameters, copied */
    char now[SUBSCRIPTION_CLOCK_MAX];
    const char *params[4];
    bool refused;
    subscription_alert alert;
    db_statement statements[3];
} outcome_call;

static int read_outcome(PGresult *res, app_error *err, void *data)
{
    outcome_call *call = data;
    if (PQntuples(res) == 0)
        return 0; /* taken over meanwhile: the new claimer records it */
    if (!(call->row = db_row_new(&outcome_type, res, 0))) {
        app_error_set(err, 500, "out of memory");
        return -1;
    }
    if (subscription_event_prepare(&call->event, call->ring, call->row->subscription_id, call->row->previous,
                                   call->row->current, call->row->event, &call->statements[1], err) < 0)
        return -1;
    if (call->refused)
        subscription_alert_refused_statement(&call->alert, strcmp(call->row->type, "past_due") == 0,
                                             &call->statements[2]);
    else
        subscription_alert_charged_statement(&call->alert, call->row->subscription_id, &call->statements[2]);
    return 0;
}

static void on_outcome(const app_error *err, void *data)
{
    outcome_call *call = data;
    subscription_count_cb cb = call->cb;
    void *cb_data = call->data;
    long past_due = !err && call->row && strcmp(call->row->type, "past_due") == 0;
    db_row_delete(&outcome_type, call->row);
    subscription_event_clear(&call->event);
    free(call);
    cb(past_due, err, cb_data);
}

/* alert: the alerts of a refusal, copied; NULL for a charge. */
static void run_outcome(pg_pool *pool, const seal_ring *ring, const char *sql, int nparams, const char *const *params,
                        const subscription_alert *alert, subscription_count_cb cb, void *data)
{
    outcome_call *call = calloc(1, sizeof *call);
    if (!call) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(0, &err, data);
        return;
    }
    *call = (outcome_call){.cb = cb, .data = data, .ring = ring, .refused = alert != NULL};
    if (alert)
        call->alert = *alert;
    /* Copies: the transaction outlives the caller's strings. */
    snprintf(call->id, sizeof call->id, "%s", params[0]);
    call->params[0] = call->id;
    for (int i = 1; i < nparams && i < 3; i++) {
        snprintf(call->text[i - 1], sizeof call->text[i - 1], "%s", params[i] ? params[i] : "");
        call->params[i] = params[i] ? call->text[i - 1] : NULL;
    }
    if (nparams == 4 && params[3]) {
        snprintf(call->now, sizeof call->now, "%s", params[3]);
        call->params[3] = call->now;
    }
    call->statements[0] = (db_statement){sql, nparams, call->params, read_outcome};
    /* The event and the alerts, once read: none when the claim was taken over. */
    call->statements[1] = (db_statement){NULL, 0, NULL, NULL};
    call->statements[2] = (db_statement){NULL, 0, NULL, NULL};
    db_transaction_run(pool, call->statements, 3, on_outcome, call);
}

void subscription_period_store_charged(pg_pool *pool, const seal_ring *ring, const char *id, const char *history_id,
                                       subscription_count_cb cb, void *data)
{
    run_outcome(pool, ring, charged_sql, 2, (const char *const[]){id, history_id}, NULL, cb, data);
}

void subscription_period_store_refused(pg_pool *pool, const seal_ring *ring, const char *id, const char *outcome,
                                       const char *retry_ms, const char *now, const subscription_alert *alert,
                                       subscription_count_cb cb, void *data)
{
    run_outcome(pool, ring, refused_sql, 4, (const char *const[]){id, outcome, retry_ms, now}, alert, cb, data);
}

/* ---- the claim ---- */

typedef struct claim_call {
    subscription_claim_cb cb;
    void *data;
    char lease[24];
    char batch[8];
    const char *params[3];
    char now[SUBSCRIPTION_CLOCK_MAX];
} claim_call;

static void finish_claim(claim_call *call, subscription_period **rows, size_t count, const app_error *err)
{
    subscription_claim_cb cb = call->cb;
    void *data = call->data;
    free(call);
    cb(rows, count, err, data);
}

static void on_claimed(PGresult *res, const app_error *err, void *data)
{
    claim_call *call = data;
    if (err) {
        finish_claim(call, NULL, 0, err);
        return;
    }
    size_t count = (size_t)PQntuples(res);
    subscription_period **rows = calloc(count ? count : 1, sizeof *rows);
    for (size_t i = 0; rows && i < count; i++)
        if (!(rows[i] = db_row_new(&period_type, res, (int)i))) {
            /* Unstarted claims expire and are taken again: nothing is lost. */
            while (i > 0)
                subscription_period_free(rows[--i]);
            free(rows);
            rows = NULL;
        }
    app_error memory_err;
    app_error_set(&memory_err, 500, "out of memory");
    finish_claim(call, rows, rows ? count : 0, rows ? NULL : &memory_err);
}

void subscription_period_store_claim(pg_pool *pool, const char *now, uint64_t lease_ms, subscription_claim_cb cb,
                                     void *data)
{
    claim_call *call = calloc(1, sizeof *call);
    if (!call) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(NULL, 0, &err, data);
        return;
    }
    call->cb = cb;
    call->data = data;
    snprintf(call->lease, sizeof call->lease, "%llu", (unsigned long long)lease_ms);
    snprintf(call->batch, sizeof call->batch, "%d", SUBSCRIPTION_CLAIM_BATCH);
    if (now)
        snprintf(call->now, sizeof call->now, "%s", now);
    call->params[0] = now ? call->now : NULL;
    call->params[1] = call->lease;
    call->params[2] = call->batch;
    pg_pool_query(pool, claim_sql, 3, call->params, on_claimed, call);
}
