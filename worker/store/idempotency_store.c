/* idempotency_store: the claim is an INSERT ... ON CONFLICT DO UPDATE whose
 * WHERE lets it take over only a key that expired or whose lease lapsed;
 * under concurrent claims of one key, PostgreSQL's row lock lets exactly one
 * of them in. Writes after the claim name its lease, so a request that
 * outlived its lease cannot overwrite the one that took the key over. */
#include "idempotency_store.h"

#include "db_row.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define COLUMN(name) DB_ROW_COLUMN(idempotency_row, name)
static const db_column row_columns[] = {
    COLUMN(lease),  COLUMN(operation_id), COLUMN(operation_kind), COLUMN(operation_history), COLUMN(body_hash),
    COLUMN(status), COLUMN(content_type), COLUMN(body),           COLUMN(awaited_operation), COLUMN(awaited_state),
};
#undef COLUMN
static const db_row_type row_type = DB_ROW_TYPE("idempotency key", idempotency_row, row_columns);

/* $1 key, $2 body hash, $3 lease and $4 keep time in milliseconds. The
 * final SELECT reads the snapshot from before the statement, so the row it
 * shows is the one we collided with, never our own claim. A key awaiting
 * its operation is taken over only by the same body once the operation is
 * settled: succeeded, the claim keeps the operation so that its request
 * answers it; refused (never made at the vendor), the claim is a fresh one. */
static const char claim_sql[] =
    "WITH purge AS (DELETE FROM payment_idempotency_keys WHERE key IN ("
    "   SELECT key FROM payment_idempotency_keys WHERE expires_at < now() AND key <> $1"
    "   ORDER BY expires_at LIMIT 16 FOR UPDATE SKIP LOCKED)),"
    " claim AS (INSERT INTO payment_idempotency_keys AS k (key, body_hash, lease, locked_until, expires_at)"
    "   VALUES ($1, $2, gen_random_uuid(), now() + $3::bigint * interval '1 millisecond',"
    "           now() + $4::bigint * interval '1 millisecond')"
    "   ON CONFLICT (key) DO UPDATE SET body_hash = excluded.body_hash, lease = excluded.lease,"
    "     locked_until = excluded.locked_until, status = NULL, content_type = NULL, body = NULL,"
    "     created_at = now(), expires_at = excluded.expires_at, awaiting_operation = false,"
    "     operation_id = CASE WHEN k.expires_at > now() THEN (SELECT o.id FROM payment_operations o"
    "       WHERE o.id = k.operation_id AND o.state = 'succeeded') END"
    "   WHERE k.expires_at <= now()"
    "     OR (k.status IS NULL AND NOT k.awaiting_operation AND k.locked_until <= now())"
    "     OR (k.awaiting_operation AND k.body_hash = excluded.body_hash AND EXISTS (SELECT 1"
    "       FROM payment_operations o WHERE o.id = k.operation_id AND o.state IN ('succeeded', 'refused')))"
    "   RETURNING k.lease, k.operation_id)"
    " SELECT c.lease::text AS lease, c.operation_id::text AS operation_id, settled.kind AS operation_kind,"
    "   settled.history_id::text AS operation_history, found.body_hash, found.status::text AS status,"
    "   found.content_type, found.body, CASE WHEN found.awaiting_operation THEN found.operation_id::text END"
    "     AS awaited_operation,"
    "   (SELECT o.state FROM payment_operations o WHERE o.id = found.operation_id AND found.awaiting_operation)"
    "     AS awaited_state"
    " FROM (VALUES (1)) AS one LEFT JOIN claim c ON true"
    "   LEFT JOIN payment_operations settled ON settled.id = c.operation_id"
    "   LEFT JOIN payment_idempotency_keys found ON found.key = $1 AND c.lease IS NULL";

static const char keep_sql[] = "UPDATE payment_idempotency_keys SET status = $3::integer, content_type = $4, body = $5,"
                               " expires_at = now() + $6::bigint * interval '1 millisecond'"
                               " WHERE key = $1 AND lease = $2::uuid AND status IS NULL";

/* $3 the operation: no expiry while it is awaited, since only its
 * settlement says whether a retry may run. */
static const char bind_sql[] = "UPDATE payment_idempotency_keys SET operation_id = $3::uuid, awaiting_operation = true,"
                               " locked_until = 'infinity', expires_at = 'infinity'"
                               " WHERE key = $1 AND lease = $2::uuid AND status IS NULL";

static const char release_sql[] =
    "DELETE FROM payment_idempotency_keys WHERE key = $1 AND lease = $2::uuid AND status IS NULL";

void idempotency_row_free(idempotency_row *row)
{
    db_row_delete(&row_type, row);
}

typedef struct store_call {
    union {
        idempotency_claim_cb claimed;
        idempotency_store_cb written;
    } cb;
    void *data;
} store_call;

static store_call *call_new(void *data)
{
    store_call *call = malloc(sizeof *call);
    if (call)
        call->data = data;
    return call;
}

static void fail_out_of_memory(app_error *err)
{
    app_error_set(err, 500, "out of memory");
}

static void on_claimed(PGresult *res, const app_error *err, void *data)
{
    store_call call = *(store_call *)data;
    free(data);
    app_error read_err = {0};
    idempotency_row *row = err ? NULL : db_row_found(&row_type, res, &read_err);
    call.cb.claimed(row, err ? err : row ? NULL : &read_err, call.data);
}

void idempotency_store_claim(pg_pool *pool, const idempotency_claim_input *input, idempotency_claim_cb cb, void *data)
{
    store_call *call = call_new(data);
    if (!call) {
        app_error err;
        fail_out_of_memory(&err);
        cb(NULL, &err, data);
        return;
    }
    call->cb.claimed = cb;
    char lease_ms[24], keep_ms[24];
    snprintf(lease_ms, sizeof lease_ms, "%" PRIu64, input->lease_ms);
    snprintf(keep_ms, sizeof keep_ms, "%" PRIu64, input->keep_ms);
    const char *params[] = {input->key, input->body_hash, lease_ms, keep_ms};
    pg_pool_query(pool, claim_sql, 4, params, on_claimed, call);
}

static void on_written(PGresult *res, const app_error *err, void *data)
{
    (void)res;
    store_call call = *(store_call *)data;
    free(data);
    call.cb.written(err, call.data);
}

/* Runs one write of the claim and answers cb. */
static void write_claim(pg_pool *pool, const char *sql, int nparams, const char *const *params, idempotency_store_cb cb,
                        void *data)
{
    store_call *call = call_new(data);
    if (!call) {
        app_error err;
        fail_out_of_memory(&err);
        cb(&err, data);
        return;
    }
    call->cb.written = cb;
    pg_pool_query(pool, sql, nparams, params, on_written, call);
}

void idempotency_store_keep(pg_pool *pool, const idempotency_answer_row *answer, idempotency_store_cb cb, void *data)
{
    char status[16], keep_ms[24];
    snprintf(status, sizeof status, "%d", answer->status);
    snprintf(keep_ms, sizeof keep_ms, "%" PRIu64, answer->keep_ms);
    const char *params[] = {answer->key, answer->lease, status, answer->content_type, answer->body, keep_ms};
    write_claim(pool, keep_sql, 6, params, cb, data);
}

void idempotency_store_release(pg_pool *pool, const char *key, const char *lease, idempotency_store_cb cb, void *data)
{
    const char *params[] = {key, lease};
    write_claim(pool, release_sql, 2, params, cb, data);
}

void idempotency_store_bind(pg_pool *pool, const char *key, const char *lease, const char *operation_id,
                            idempotency_store_cb cb, void *data)
{
    const char *params[] = {key, lease, operation_id};
    write_claim(pool, bind_sql, 3, params, cb, data);
}
