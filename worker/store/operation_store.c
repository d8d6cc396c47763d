/* operation_store: every statement of payment_operations. The claim is one
 * UPDATE over a FOR UPDATE SKIP LOCKED selection, as the webhook outbox's,
 * so two workers never hold one operation; its lease (claimed_until) lets
 * another worker take it over when the claiming worker died. */
#include "operation_store.h"

#include "db_row.h"
#include "log.h"
#include "request_id.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The statements keep the lines they were written in: split inside a macro,
 * SQL no longer reads as SQL. */
/* clang-format off */
static const char create_sql[] =
    "INSERT INTO payment_operations (kind, vendor_code, vendor_store_id, vendor_uid, history_id, amount, reason,"
    " refund_before, input, idempotency_key, request_id)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, nullif($11, '')) RETURNING id";

#define OPEN_PAYMENT_KEY "payment_operations_open_payment_key"

static const char settle_sql[] =
    "UPDATE payment_operations o SET state = $2, answer = coalesce($3, o.answer), decision = $4,"
    " history_id = coalesce(o.history_id, (SELECT h.id FROM payment_histories h"
    "   WHERE h.vendor_code = o.vendor_code AND h.vendor_uid = o.vendor_uid)),"
    " claimed_until = NULL, updated_at = now(), settled_at = now()"
    " WHERE o.id = $1 AND o.state = 'pending'";

#define STRINGIFY(x) #x
#define TEXT_OF(x) STRINGIFY(x)

static const char claim_sql[] =
    "WITH due AS ("
    "  SELECT id FROM payment_operations"
    "  WHERE state = 'pending' AND created_at <= now() - $1::bigint * interval '1 millisecond'"
    "  AND (claimed_until IS NULL OR claimed_until <= now())"
    "  ORDER BY created_at LIMIT " TEXT_OF(OPERATION_STORE_CLAIM_BATCH) " FOR UPDATE SKIP LOCKED)"
    " UPDATE payment_operations o SET attempts = o.attempts + 1, updated_at = now(),"
    "  claimed_until = now() + $2::bigint * interval '1 millisecond'"
    " FROM due WHERE o.id = due.id"
    " RETURNING o.id, o.kind, o.vendor_code, o.vendor_store_id, o.vendor_uid, o.history_id, o.amount, o.reason,"
    "  o.refund_before, o.input, o.idempotency_key, o.attempts";

static const char release_sql[] =
    "UPDATE payment_operations SET decision = $2, updated_at = now(),"
    " claimed_until = now() + attempts * $4::bigint * interval '1 millisecond',"
    " state = CASE WHEN attempts >= $3::integer THEN 'unknown' ELSE state END,"
    " settled_at = CASE WHEN attempts >= $3::integer THEN now() END"
    " WHERE id = $1 AND state = 'pending' RETURNING state";

static const char list_sql[] =
    "SELECT coalesce(json_agg(json_build_object('id', o.id, 'kind', o.kind, 'vendor_code', o.vendor_code,"
    " 'vendor_store_id', o.vendor_store_id, 'vendor_uid', o.vendor_uid, 'history_id', o.history_id,"
    " 'amount', o.amount, 'reason', o.reason, 'refund_before', o.refund_before, 'state', o.state,"
    " 'attempts', o.attempts, 'decision', o.decision, 'request_id', o.request_id,"
    " 'created_at', " DB_ISO_TIME("o.created_at") ", 'updated_at', " DB_ISO_TIME("o.updated_at") ","
    " 'settled_at', " DB_ISO_TIME("o.settled_at") ") ORDER BY o.created_at DESC), '[]'::json) AS operations"
    " FROM (SELECT * FROM payment_operations WHERE $1::text IS NULL OR state = $1"
    "  ORDER BY created_at DESC LIMIT $2::integer) o";

#define COLUMN(name) DB_ROW_COLUMN(operation_claimed, name)
static const db_column claimed_columns[] = {
    COLUMN(id),     COLUMN(kind),   COLUMN(vendor_code),   COLUMN(vendor_store_id), COLUMN(vendor_uid),
    COLUMN(history_id), COLUMN(amount), COLUMN(reason), COLUMN(refund_before), COLUMN(input),
    COLUMN(idempotency_key), COLUMN(attempts),
};
#undef COLUMN
static const db_row_type claimed_type = DB_ROW_TYPE("claimed operation", operation_claimed, claimed_columns);
/* clang-format on */

void operation_claimed_free(operation_claimed *row)
{
    db_row_delete(&claimed_type, row);
}

/* ---- one statement, one callback ---- */

typedef enum call_kind { CALL_CREATE, CALL_SETTLE, CALL_CLAIM, CALL_RELEASE } call_kind;

typedef void (*settled_cb)(const app_error *err, void *data);

/* Whom a statement answers: one of the callbacks, as kind says. */
typedef struct store_call {
    call_kind kind;
    union {
        operation_created_cb created;
        settled_cb settled;
        operation_claim_cb claimed;
        operation_state_cb released;
    } cb;
    void *data;
} store_call;

static store_call *call_new(call_kind kind, void *data, app_error *err)
{
    store_call *call = calloc(1, sizeof *call);
    if (!call)
        app_error_set(err, 500, "out of memory");
    else
        *call = (store_call){.kind = kind, .data = data};
    return call;
}

static void answer_created(const store_call *call, PGresult *res, const app_error *err)
{
    app_error explained = {0};
    if (err && strstr(err->message, OPEN_PAYMENT_KEY))
        app_error_set(&explained, 409, "a previous operation on this payment is not settled yet");
    else if (err)
        explained = *err;
    else if (PQntuples(res) != 1)
        app_error_set(&explained, 500, "cannot record the operation");
    call->cb.created(explained.status ? NULL : PQgetvalue(res, 0, 0), explained.status ? &explained : NULL, call->data);
}

static void answer_claimed(const store_call *call, PGresult *res, const app_error *err)
{
    operation_claim_cb cb = call->cb.claimed;
    if (err) {
        cb(NULL, 0, err, call->data);
        return;
    }
    int count = PQntuples(res);
    operation_claimed **rows = calloc(count > 0 ? (size_t)count : 1, sizeof *rows);
    for (int i = 0; rows && i < count; i++) {
        if (!(rows[i] = db_row_new(&claimed_type, res, i))) {
            /* Left claimed: the lease expires and a later claim takes them. */
            while (i-- > 0)
                operation_claimed_free(rows[i]);
            free(rows);
            rows = NULL;
        }
    }
    app_error failed;
    app_error_set(&failed, 500, "out of memory reading claimed operations");
    cb(rows, rows ? (size_t)count : 0, rows ? NULL : &failed, call->data);
}

static void on_result(PGresult *res, const app_error *err, void *data)
{
    store_call call = *(store_call *)data;
    free(data);
    switch (call.kind) {
    case CALL_CREATE:
        answer_created(&call, res, err);
        break;
    case CALL_SETTLE:
        call.cb.settled(err, call.data);
        break;
    case CALL_CLAIM:
        answer_claimed(&call, res, err);
        break;
    case CALL_RELEASE:
        call.cb.released(err ? NULL : PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "settled", err, call.data);
        break;
    }
}

/* ---- the operations ---- */

void operation_store_create(pg_pool *pool, const operation_new *in, operation_created_cb cb, void *data)
{
    app_error err = {0};
    store_call *call = call_new(CALL_CREATE, data, &err);
    if (!call) {
        cb(NULL, &err, data);
        return;
    }
    call->cb.created = cb;
    /* The ambient request id is the request that made this operation (none
     * for the reconciler's): the row ties its vendor call to that request. */
    const char *params[] = {in->kind,       in->vendor_code,     in->vendor_store_id, in->vendor_uid,
                            in->history_id, in->amount,          in->reason,          in->refund_before,
                            in->input,      in->idempotency_key, request_id_current()};
    pg_pool_query(pool, create_sql, 11, params, on_result, call);
}

void operation_store_settle_statement(const operation_settle *in, const char *params[OPERATION_SETTLE_PARAMS],
                                      db_statement *out)
{
    params[0] = in->id;
    params[1] = in->state;
    params[2] = in->answer;
    params[3] = in->decision;
    *out = (db_statement){settle_sql, OPERATION_SETTLE_PARAMS, params, NULL};
}

void operation_store_settle(pg_pool *pool, const operation_settle *in, void (*done)(const app_error *err, void *data),
                            void *data)
{
    app_error err = {0};
    store_call *call = call_new(CALL_SETTLE, data, &err);
    if (!call) {
        done(&err, data);
        return;
    }
    call->cb.settled = done;
    const char *params[OPERATION_SETTLE_PARAMS];
    db_statement statement;
    operation_store_settle_statement(in, params, &statement);
    pg_pool_query(pool, statement.sql, statement.nparams, statement.params, on_result, call);
}

void operation_store_claim(pg_pool *pool, uint64_t after_ms, uint64_t lease_ms, operation_claim_cb cb, void *data)
{
    app_error err = {0};
    store_call *call = call_new(CALL_CLAIM, data, &err);
    if (!call) {
        cb(NULL, 0, &err, data);
        return;
    }
    call->cb.claimed = cb;
    char after[24], lease[24];
    snprintf(after, sizeof after, "%" PRIu64, after_ms);
    snprintf(lease, sizeof lease, "%" PRIu64, lease_ms);
    const char *params[] = {after, lease};
    pg_pool_query(pool, claim_sql, 2, params, on_result, call);
}

void operation_store_release(pg_pool *pool, const char *id, const char *decision, int max_attempts, uint64_t backoff_ms,
                             operation_state_cb done, void *data)
{
    app_error err = {0};
    store_call *call = call_new(CALL_RELEASE, data, &err);
    if (!call) {
        done(NULL, &err, data);
        return;
    }
    call->cb.released = done;
    char max[16], backoff[24];
    snprintf(max, sizeof max, "%d", max_attempts);
    snprintf(backoff, sizeof backoff, "%" PRIu64, backoff_ms);
    const char *params[] = {id, decision, max, backoff};
    pg_pool_query(pool, release_sql, 4, params, on_result, call);
}

void operation_store_list(pg_pool *pool, const char *state, int limit, pg_result_cb cb, void *data)
{
    char count[16];
    snprintf(count, sizeof count, "%d", limit);
    const char *params[] = {state, count};
    pg_pool_query(pool, list_sql, 2, params, cb, data);
}
