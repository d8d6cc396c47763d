/* subscription_store: parameterized SQL; ids, times and the due instants
 * come from PostgreSQL, which knows the IANA zones and their DST rules. */
#include "subscription_store.h"

#include "db_row.h"
#include "subscription_clock.h"

#include <stdlib.h>
#include <string.h>

/* clang-format off */
#define COLUMN(name) DB_ROW_COLUMN(subscription_record, name)
static const db_column subscription_columns[] = {COLUMN(id), COLUMN(reservation_id), COLUMN(password_hash),
                                                     COLUMN(document)};
#undef COLUMN
static const db_row_type subscription_type =
    DB_ROW_TYPE("subscription", subscription_record, subscription_columns);

#define ANSWER_COLUMNS "id, reservation_id, NULL AS password_hash, payment_subscription_document(payment_subscriptions)::text AS document"

static const char insert_sql[] =
    "INSERT INTO payment_subscriptions (reservation_id, amount, currency, name, days, last_day, time_of_day,"
    " time_zone, webhook_url, next_due_at)"
    " SELECT $1, $2, $3, $4, $5::smallint[], $6::boolean, $7::time, $8, $9,"
    "  payment_subscription_next_due($5::smallint[], $6::boolean, $7::time, $8, " SUBSCRIPTION_CLOCK_SQL("$10") ")"
    " WHERE EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $8)"
    " RETURNING " ANSWER_COLUMNS;

static const char find_sql[] =
    "SELECT s.id, s.reservation_id, r.password_hash, payment_subscription_document(s)::text AS document"
    " FROM payment_subscriptions s JOIN payment_reservations r ON r.id = s.reservation_id WHERE s.id = $1";

static const char pause_sql[] =
    "UPDATE payment_subscriptions SET state = 'paused', updated_at = now()"
    " WHERE id = $1 AND state IN ('active', 'paused')"
    " RETURNING " ANSWER_COLUMNS;

/* SET reads the row as it was: an active subscription keeps its next due
 * instant, any other starts again after now. */
static const char resume_sql[] =
    "UPDATE payment_subscriptions SET state = 'active', updated_at = now(),"
    " next_due_at = CASE WHEN state = 'active' THEN next_due_at ELSE"
    "  payment_subscription_next_due(days, last_day, time_of_day, time_zone, " SUBSCRIPTION_CLOCK_SQL("$2") ") END"
    " WHERE id = $1 AND state <> 'cancelled'"
    " RETURNING " ANSWER_COLUMNS;

static const char cancel_sql[] =
    "WITH skipped AS (UPDATE payment_subscription_periods SET state = 'skipped', updated_at = now()"
    "  WHERE subscription_id = $1 AND state = 'due')"
    " UPDATE payment_subscriptions SET state = 'cancelled', updated_at = now()"
    " WHERE id = $1"
    " RETURNING " ANSWER_COLUMNS;
/* clang-format on */

void subscription_record_free(subscription_record *record)
{
    db_row_delete(&subscription_type, record);
}

/* One statement's caller, and what its finding no row means. */
typedef struct subscription_call {
    subscription_record_cb cb;
    void *data;
    int missing_status;
    const char *missing_message;
} subscription_call;

static void on_result(PGresult *res, const app_error *err, void *data)
{
    subscription_call call = *(subscription_call *)data;
    free(data);
    if (err) {
        call.cb(NULL, err, call.data);
        return;
    }
    app_error read_err = {0};
    subscription_record *record = db_row_found(&subscription_type, res, &read_err);
    if (!record && read_err.status == 404 && call.missing_message)
        app_error_set(&read_err, call.missing_status, "%s", call.missing_message);
    call.cb(record, record ? NULL : &read_err, call.data);
}

static void run(pg_pool *pool, const char *sql, int nparams, const char *const *params, const subscription_call *call)
{
    subscription_call *copy = malloc(sizeof *copy);
    if (!copy) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        call->cb(NULL, &err, call->data);
        return;
    }
    *copy = *call;
    pg_pool_query(pool, sql, nparams, params, on_result, copy);
}

void subscription_store_insert(pg_pool *pool, const subscription_new *input, subscription_record_cb cb, void *data)
{
    const char *params[] = {input->reservation_id, input->amount, input->currency, input->name,        input->days,
                            input->last_day,       input->time,   input->zone,     input->webhook_url, input->now};
    subscription_call call = {cb, data, 400, "schedule.time_zone is not a time zone the server knows (IANA names)"};
    run(pool, insert_sql, 10, params, &call);
}

void subscription_store_find(pg_pool *pool, const char *id, subscription_record_cb cb, void *data)
{
    subscription_call call = {cb, data, 404, NULL};
    run(pool, find_sql, 1, (const char *const[]){id}, &call);
}

void subscription_store_change(pg_pool *pool, const char *id, subscription_change change, const char *now,
                               subscription_record_cb cb, void *data)
{
    /* Only a resume reads now; PostgreSQL refuses a parameter it cannot type. */
    static const struct {
        const char *sql;
        int nparams;
        const char *refusal;
    } changes[] = {
        [SUBSCRIPTION_PAUSE] = {pause_sql, 1, "only an active subscription can be paused"},
        [SUBSCRIPTION_RESUME] = {resume_sql, 2, "a cancelled subscription cannot be resumed"},
        [SUBSCRIPTION_CANCEL] = {cancel_sql, 1, NULL},
    };
    subscription_call call = {cb, data, 409, changes[change].refusal};
    run(pool, changes[change].sql, changes[change].nparams, (const char *const[]){id, now}, &call);
}
