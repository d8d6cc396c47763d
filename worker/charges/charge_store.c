/* charge_store: settling a charge is one UPDATE ... RETURNING feeding one
 * INSERT, so the attempt exists exactly when this statement settled the
 * operation (the guard is the operation's 'pending' state). */
#include "charge_store.h"

#include "db_row.h"

#include <stdio.h>
#include <stdlib.h>

/* clang-format off */
static const char count_sql[] =
    "SELECT count(*) FROM payment_charge_attempts"
    " WHERE source_schema = $1 AND source_table = $2 AND source_id = $3::uuid AND result = 'refused'";

static const char settle_sql[] =
    "WITH settled AS ("
    "  UPDATE payment_operations o SET state = $2, answer = coalesce($3, o.answer), decision = $4,"
    "   history_id = (SELECT h.id FROM payment_histories h WHERE $2 = 'succeeded'"
    "     AND h.source_schema = $6 AND h.source_table = $7 AND h.source_id = $8::uuid),"
    "   claimed_until = NULL, updated_at = now(), settled_at = now()"
    "  WHERE o.id = $1::uuid AND o.state = 'pending'"
    "  RETURNING o.id, o.history_id, o.vendor_code, o.vendor_store_id, o.vendor_uid, o.amount)"
    " INSERT INTO payment_charge_attempts (id, reservation_id, history_id, source_schema, source_table, source_id,"
    "  vendor_code, vendor_store_id, order_id, amount, currency, result, vendor_error, message, answer)"
    " SELECT s.id, $5::uuid, s.history_id, $6, $7, $8::uuid, s.vendor_code, s.vendor_store_id, s.vendor_uid,"
    "  s.amount, $9, $2, $10, $11, $3 FROM settled s";

#define ATTEMPT_JSON                                                                                  \
    "json_build_object('id', a.id, 'reservation_id', a.reservation_id, 'history_id', a.history_id,"  \
    " 'source', json_build_object('schema', a.source_schema, 'table', a.source_table, 'id', a.source_id)," \
    " 'vendor_code', a.vendor_code, 'store_id', a.vendor_store_id, 'order_id', a.order_id,"          \
    " 'amount', a.amount, 'currency', a.currency, 'result', a.result, 'vendor_error', a.vendor_error," \
    " 'message', a.message, 'answer', a.answer, 'created_at', " DB_ISO_TIME("a.created_at") ")"

static const char attempt_sql[] =
    "SELECT " ATTEMPT_JSON " AS attempt, r.password_hash, r.id AS reservation_id"
    " FROM payment_charge_attempts a JOIN payment_reservations r ON r.id = a.reservation_id WHERE a.id = $1::uuid";

static const char attempts_sql[] =
    "SELECT coalesce((SELECT json_agg(x.attempt ORDER BY x.created_at DESC) FROM (SELECT " ATTEMPT_JSON
    "   AS attempt, a.created_at FROM payment_charge_attempts a WHERE a.reservation_id = r.id"
    "   ORDER BY a.created_at DESC LIMIT $2::integer) x), '[]'::json) AS attempts, r.password_hash,"
    " r.id AS reservation_id"
    " FROM payment_reservations r WHERE r.id = $1::uuid";
/* clang-format on */

void charge_store_count_refusals(pg_pool *pool, const char *schema, const char *table, const char *id,
                                 charge_store_count_cb cb, void *data)
{
    const char *params[] = {schema, table, id};
    db_count_query(pool, count_sql, 3, params, DB_COUNT_SELECTED, cb, data);
}

void charge_store_settle_statement(const charge_settle *in, const char *params[CHARGE_SETTLE_PARAMS], db_statement *out)
{
    const char *values[CHARGE_SETTLE_PARAMS] = {
        in->operation_id, in->result,    in->answer,   in->decision,     in->reservation_id, in->source_schema,
        in->source_table, in->source_id, in->currency, in->vendor_error, in->message,
    };
    for (size_t i = 0; i < CHARGE_SETTLE_PARAMS; i++)
        params[i] = values[i];
    *out = (db_statement){settle_sql, CHARGE_SETTLE_PARAMS, params, NULL};
}

typedef struct settle_call {
    void (*done)(const app_error *err, void *data);
    void *data;
} settle_call;

static void on_settled(PGresult *res, const app_error *err, void *data)
{
    (void)res;
    settle_call call = *(settle_call *)data;
    free(data);
    call.done(err, call.data);
}

void charge_store_settle(pg_pool *pool, const charge_settle *in, void (*done)(const app_error *err, void *data),
                         void *data)
{
    settle_call *call = malloc(sizeof *call);
    if (!call) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        done(&err, data);
        return;
    }
    *call = (settle_call){done, data};
    const char *params[CHARGE_SETTLE_PARAMS];
    db_statement statement;
    charge_store_settle_statement(in, params, &statement);
    pg_pool_query(pool, statement.sql, statement.nparams, statement.params, on_settled, call);
}

void charge_store_attempt(pg_pool *pool, const char *id, pg_result_cb cb, void *data)
{
    const char *params[] = {id};
    pg_pool_query(pool, attempt_sql, 1, params, cb, data);
}

void charge_store_attempts(pg_pool *pool, const char *reservation_id, int limit, pg_result_cb cb, void *data)
{
    char count[16];
    snprintf(count, sizeof count, "%d", limit);
    const char *params[] = {reservation_id, count};
    pg_pool_query(pool, attempts_sql, 2, params, cb, data);
}
