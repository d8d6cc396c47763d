/* webhook_store: the outbox's SQL. The claim is one UPDATE over a
 * FOR UPDATE SKIP LOCKED selection, so two workers never claim the same
 * notification, and it takes only the first unfinished notification of each
 * history, so one history's notifications go out in order; it runs in a
 * short transaction that first pins its plan. */
#include "webhook_store.h"

#include "db_row.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- recording a change ---- */

static const char insert_sql[] =
    "WITH webhook AS ("
    "  INSERT INTO payment_webhooks (history_id, vendor_code, origin, event, previous, current)"
    "  SELECT h.id, h.vendor_code, $2, $3, $4, $5 FROM payment_histories h WHERE h.id = $1"
    "  RETURNING id, history_id)"
    " INSERT INTO payment_webhook_deliveries (webhook_id, history_id, request_id)"
    " SELECT webhook.id, webhook.history_id, nullif($6, '') FROM webhook"
    " JOIN payment_histories h ON h.id = webhook.history_id WHERE h.webhook_url IS NOT NULL"
    " RETURNING id";

void webhook_store_insert_statement(const webhook_new *in, const char *params[WEBHOOK_NEW_PARAMS], db_statement *out)
{
    params[0] = in->history_id;
    params[1] = in->origin;
    params[2] = in->event;
    params[3] = in->previous;
    params[4] = in->current;
    params[5] = in->request_id ? in->request_id : "";
    *out = (db_statement){insert_sql, WEBHOOK_NEW_PARAMS, params, NULL};
}

/* ---- claiming ---- */

/* The statements keep the lines they were written in: split inside a macro,
 * SQL no longer reads as SQL. */
/* clang-format off */
#define STRINGIFY(x) #x
#define TEXT_OF(x) STRINGIFY(x)
#define CLAIM_LIMIT " LIMIT " TEXT_OF(WEBHOOK_STORE_CLAIM_BATCH)
/* No earlier notification of d's history is still to be delivered. OFFSET 0
 * keeps the subquery a per-row probe of the open index (as an anti join it
 * may become a scan of every open row per row). */
#define CLAIM_IN_ORDER                                                                                         \
    " AND NOT EXISTS (SELECT 1 FROM payment_webhook_deliveries e"                                           \
    "   WHERE e.history_id = d.history_id AND e.sequence < d.sequence AND e.status IN ('pending', 'delivering')" \
    "   OFFSET 0)"

/* Pending rows come in sequence order off their partial index (sql/0004),
 * so a claim reads about a batch of rows however long the backlog is;
 * expired claims are few, off theirs. */
static const char claim_sql[] =
    "WITH pending AS ("
    "  SELECT d.id, d.sequence, 'pending'::text AS claimed_from FROM payment_webhook_deliveries d"
    "  WHERE d.status = 'pending' AND d.next_attempt_at <= now()" CLAIM_IN_ORDER
    "  ORDER BY d.sequence" CLAIM_LIMIT " FOR UPDATE OF d SKIP LOCKED),"
    " expired AS ("
    "  SELECT d.id, d.sequence, 'delivering'::text AS claimed_from FROM payment_webhook_deliveries d"
    "  WHERE d.status = 'delivering' AND d.claimed_until <= now()" CLAIM_IN_ORDER
    "  ORDER BY d.sequence" CLAIM_LIMIT " FOR UPDATE OF d SKIP LOCKED),"
    " due AS ("
    "  SELECT id, claimed_from FROM (SELECT * FROM pending UNION ALL SELECT * FROM expired) AS both_kinds"
    "  ORDER BY sequence" CLAIM_LIMIT "),"
    " claimed AS ("
    "  UPDATE payment_webhook_deliveries d SET status = 'delivering', attempts = d.attempts + 1,"
    "    claimed_until = now() + $1::bigint * interval '1 millisecond'"
    "  FROM due WHERE d.id = due.id"
    "  RETURNING d.id, d.webhook_id, d.history_id, d.attempts, d.schedule_start, due.claimed_from),"
    " abandoned AS ("
    "  INSERT INTO payment_webhook_responses (delivery_id, attempt, error)"
    "  SELECT id, attempts - 1, 'no outcome: the worker delivering it stopped before recording one'"
    "  FROM claimed WHERE claimed_from = 'delivering' AND attempts > 1)"
    " SELECT c.id, c.webhook_id, coalesce(c.history_id, w.subscription_id, w.alert_id) AS history_id,"
    "  c.attempts AS attempt, c.schedule_start, coalesce(h.webhook_url, s.webhook_url, a.webhook_url) AS webhook_url,"
    "  coalesce(h.source_schema, 'payments') AS source_schema,"
    "  coalesce(h.source_table, CASE WHEN a.id IS NULL THEN 'payment_subscriptions'"
    "   ELSE 'payment_alert_incidents' END) AS source_table, coalesce(h.source_id, s.id, a.id) AS source_id,"
    "  w.previous, w.current, CASE WHEN w.origin = 'subscription' THEN w.event END AS event, a.text AS alert"
    " FROM claimed c JOIN payment_webhooks w ON w.id = c.webhook_id"
    " LEFT JOIN payment_histories h ON h.id = c.history_id"
    " LEFT JOIN payment_subscriptions s ON s.id = w.subscription_id"
    " LEFT JOIN payment_alert_incidents a ON a.id = w.alert_id";

#define COLUMN(name) DB_ROW_COLUMN(webhook_claimed, name)
static const db_column claimed_columns[] = {
    COLUMN(id),           COLUMN(webhook_id),   COLUMN(history_id), COLUMN(attempt),
    COLUMN(schedule_start), COLUMN(webhook_url), COLUMN(source_schema), COLUMN(source_table),
    COLUMN(source_id),    COLUMN(previous),     COLUMN(current),      COLUMN(event),
    COLUMN(alert),
};
#undef COLUMN
static const db_row_type claimed_type = DB_ROW_TYPE("claimed notification", webhook_claimed, claimed_columns);
/* clang-format on */

void webhook_claimed_free(webhook_claimed *row)
{
    db_row_delete(&claimed_type, row);
}

/* The claim's plan is pinned: ordered index scans and nested loops of index
 * probes only. Left to itself, the planner trusted statistics taken while
 * the outbox was nearly empty, and right after a burst sorted (and checked
 * the order of) every pending row on every claim. The penalties that pin it
 * make its cost look huge, which would make PostgreSQL compile it with JIT
 * (most of a second) every time: JIT is off for it too. */
static const char pin_plan_sql[] =
    "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true),"
    " set_config('enable_sort', 'off', true), set_config('enable_hashjoin', 'off', true),"
    " set_config('enable_mergejoin', 'off', true), set_config('jit', 'off', true)";

typedef struct claim_call {
    char claim_ms[24];
    const char *params[1];
    db_statement statements[2];
    webhook_claimed **rows;
    size_t count;
    webhook_claim_cb cb;
    void *data;
} claim_call;

static void free_rows(webhook_claimed **rows, size_t count)
{
    for (size_t i = 0; i < count; i++)
        webhook_claimed_free(rows[i]);
    free(rows);
}

/* Copies every row while the result is valid. */
static int copy_rows(PGresult *res, app_error *err, void *data)
{
    claim_call *call = data;
    size_t n = (size_t)PQntuples(res);
    webhook_claimed **rows = n ? calloc(n, sizeof *rows) : NULL;
    for (size_t i = 0; rows && i < n; i++) {
        rows[i] = db_row_new(&claimed_type, res, (int)i);
        if (!rows[i]) {
            free_rows(rows, i);
            rows = NULL;
        }
    }
    if (n && !rows) {
        app_error_set(err, 500, "out of memory copying claimed notifications");
        return -1; /* rolled back: nothing stays claimed */
    }
    call->rows = rows;
    call->count = n;
    return 0;
}

static void on_claimed(const app_error *err, void *data)
{
    claim_call *call = data;
    if (err) {
        free_rows(call->rows, call->count);
        call->rows = NULL;
        call->count = 0;
    }
    webhook_claim_cb cb = call->cb;
    void *cb_data = call->data;
    webhook_claimed **rows = call->rows;
    size_t count = call->count;
    free(call);
    cb(rows, count, err, cb_data);
}

void webhook_store_claim(pg_pool *pool, uint64_t claim_ms, webhook_claim_cb cb, void *data)
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
    snprintf(call->claim_ms, sizeof call->claim_ms, "%" PRIu64, claim_ms);
    call->params[0] = call->claim_ms;
    call->statements[0] = (db_statement){pin_plan_sql, 0, NULL, NULL};
    call->statements[1] = (db_statement){claim_sql, 1, call->params, copy_rows};
    db_transaction_run(pool, call->statements, 2, on_claimed, call);
}

/* ---- finishing an attempt ---- */

static const char finish_sql[] =
    "WITH response AS ("
    "  INSERT INTO payment_webhook_responses (delivery_id, attempt, status, body, error, duration_ms)"
    "  VALUES ($1::uuid, $2::integer, $3::integer, $4, $5, $6::integer))"
    " UPDATE payment_webhook_deliveries SET status = $7::text, claimed_until = NULL,"
    "  next_attempt_at = now() + $8::bigint * interval '1 millisecond',"
    "  delivered_at = CASE WHEN $7::text = 'delivered' THEN now() END,"
    "  schedule_start = schedule_start + $9::integer"
    " WHERE id = $1::uuid AND attempts = $2::integer AND status = 'delivering'";

static const char *outcome_status(webhook_outcome outcome)
{
    switch (outcome) {
    case WEBHOOK_DELIVERED:
        return "delivered";
    case WEBHOOK_FAILED:
        return "failed";
    case WEBHOOK_RETRY:
    case WEBHOOK_RELEASED:
        break;
    }
    return "pending";
}

/* The state of a statement whose caller waits only for its success. */
typedef struct finish_call {
    void (*done)(const app_error *err, void *data);
    void *data;
} finish_call;

/* NULL after telling done that memory ran out. */
static finish_call *finish_call_new(void (*done)(const app_error *err, void *data), void *data)
{
    finish_call *call = malloc(sizeof *call);
    if (!call) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        done(&err, data);
        return NULL;
    }
    call->done = done;
    call->data = data;
    return call;
}

static void on_done(PGresult *res, const app_error *err, void *data)
{
    (void)res;
    finish_call call = *(finish_call *)data;
    free(data);
    call.done(err, call.data);
}

static void on_finished(PGresult *res, const app_error *err, void *data)
{
    if (err)
        log_error("webhooks: cannot record an attempt (%d %s); it is retried when its claim expires", err->status,
                  err->message);
    on_done(res, err, data);
}

void webhook_store_finish(pg_pool *pool, const webhook_attempt *attempt, void (*done)(const app_error *err, void *data),
                          void *data)
{
    finish_call *call = finish_call_new(done, data);
    if (!call)
        return;
    char status[16], duration[24], delay[24];
    snprintf(status, sizeof status, "%ld", attempt->status);
    snprintf(duration, sizeof duration, "%" PRIu64, attempt->duration_ms);
    snprintf(delay, sizeof delay, "%" PRIu64, attempt->outcome == WEBHOOK_RETRY ? attempt->delay_ms : 0);
    const char *params[] = {
        attempt->row->id,
        attempt->row->attempt,
        attempt->status ? status : NULL,
        attempt->body,
        attempt->error,
        duration,
        outcome_status(attempt->outcome),
        delay,
        attempt->outcome == WEBHOOK_RELEASED ? "1" : "0",
    };
    pg_pool_query(pool, finish_sql, 9, params, on_finished, call);
}

/* ---- re-sending failed ones ---- */

static const char retry_failed_sql[] =
    "UPDATE payment_webhook_deliveries SET status = 'pending', next_attempt_at = now(), claimed_until = NULL,"
    " schedule_start = attempts"
    " WHERE status = 'failed' AND ($1::uuid IS NULL OR history_id = $1::uuid)";

void webhook_store_retry_failed(pg_pool *pool, const char *history_id, webhook_count_cb done, void *data)
{
    const char *params[] = {history_id};
    db_count_query(pool, retry_failed_sql, 1, params, DB_COUNT_WRITTEN, done, data);
}

/* ---- the test receiver ---- */

static const char keep_received_sql[] =
    "INSERT INTO payment_internal_webhooks (history_id, webhook_id, signed, body) VALUES ($1, $2, $3, $4)";
static const char list_received_sql[] =
    "SELECT signed, body FROM payment_internal_webhooks WHERE history_id = $1 ORDER BY id";

void webhook_store_keep_received(pg_pool *pool, const webhook_received *in,
                                 void (*done)(const app_error *err, void *data), void *data)
{
    finish_call *call = finish_call_new(done, data);
    if (!call)
        return;
    const char *params[] = {in->history_id, in->webhook_id, in->signed_ok ? "t" : "f", in->body};
    pg_pool_query(pool, keep_received_sql, 4, params, on_done, call);
}

void webhook_store_list_received(pg_pool *pool, const char *history_id, pg_result_cb cb, void *data)
{
    const char *params[] = {history_id};
    pg_pool_query(pool, list_received_sql, 1, params, cb, data);
}
