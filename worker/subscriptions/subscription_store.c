/* subscription_store: parameterized SQL; ids, times and the due instants
 * come from PostgreSQL, which knows the IANA zones and their DST rules. */
#include "subscription_store.h"

#include "db_row.h"
#include "db_transaction.h"
#include "subscription_event.h"
#include "subscription_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
#define COLUMN(name) DB_ROW_COLUMN(subscription_record, name)
static const db_column subscription_columns[] = {COLUMN(id), COLUMN(reservation_id), COLUMN(password_hash),
                                                     COLUMN(document), COLUMN(previous)};
#undef COLUMN
static const db_row_type subscription_type =
    DB_ROW_TYPE("subscription", subscription_record, subscription_columns);

static const char insert_sql[] =
    "INSERT INTO payment_subscriptions (reservation_id, amount, currency, name, days, last_day, time_of_day,"
    " time_zone, webhook_url, next_due_at)"
    " SELECT $1, $2, $3, $4, $5::smallint[], $6::boolean, $7::time, $8, $9,"
    "  payment_subscription_next_due($5::smallint[], $6::boolean, $7::time, $8, " SUBSCRIPTION_CLOCK_SQL("$10") ")"
    " WHERE EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $8)"
    " RETURNING id, reservation_id, NULL AS password_hash,"
    "  payment_subscription_document(payment_subscriptions)::text AS document, NULL AS previous";

static const char find_sql[] =
    "SELECT s.id, s.reservation_id, r.password_hash, payment_subscription_document(s)::text AS document,"
    " NULL AS previous"
    " FROM payment_subscriptions s JOIN payment_reservations r ON r.id = s.reservation_id WHERE s.id = $1";

/* A change reads the row as it was (locked first, so as it is now) for its
 * notification's "previous", and answers the row as it becomes. */
#define CHANGE_FROM                                                                                          \
    " FROM (SELECT id, state AS previous_state, payment_subscription_document(o)::text AS previous"          \
    "  FROM payment_subscriptions o WHERE id = $1 FOR UPDATE) old WHERE s.id = old.id"
#define CHANGE_RETURNING                                                                                     \
    " RETURNING s.id, s.reservation_id, NULL AS password_hash, payment_subscription_document(s)::text AS document," \
    "  CASE WHEN s.state <> old.previous_state THEN old.previous END AS previous"

static const char pause_sql[] =
    "UPDATE payment_subscriptions s SET state = 'paused', updated_at = now()"
    CHANGE_FROM " AND old.previous_state IN ('active', 'paused')"
    CHANGE_RETURNING;

/* An active subscription keeps its next due instant; any other starts
 * again after now. */
static const char resume_sql[] =
    "UPDATE payment_subscriptions s SET state = 'active', updated_at = now(),"
    " next_due_at = CASE WHEN old.previous_state = 'active' THEN s.next_due_at ELSE"
    "  payment_subscription_next_due(s.days, s.last_day, s.time_of_day, s.time_zone, " SUBSCRIPTION_CLOCK_SQL("$2") ")"
    " END"
    CHANGE_FROM " AND old.previous_state <> 'cancelled'"
    CHANGE_RETURNING;

static const char cancel_sql[] =
    "WITH skipped AS (UPDATE payment_subscription_periods SET state = 'skipped', updated_at = now()"
    "  WHERE subscription_id = $1 AND state = 'due')"
    " UPDATE payment_subscriptions s SET state = 'cancelled', updated_at = now()"
    CHANGE_FROM
    CHANGE_RETURNING;
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

/* ---- changes, with their notification ---- */

typedef struct change_call {
    subscription_record_cb cb;
    void *data;
    const seal_ring *ring;
    const char *type;    /* the event's: "paused", "resumed", "cancelled" */
    const char *refusal; /* what finding no row to change means */
    subscription_record *record;
    subscription_event event;
    char id[40];
    char now[SUBSCRIPTION_CLOCK_MAX];
    const char *params[2];
    db_statement statements[2];
} change_call;

/* Reads the changed row and, when its state did change, queues the event
 * in the same transaction. */
static int read_changed(PGresult *res, app_error *err, void *data)
{
    change_call *call = data;
    if (PQntuples(res) == 0) {
        app_error_set(err, 409, "%s", call->refusal);
        return -1;
    }
    if (!(call->record = db_row_found(&subscription_type, res, err)))
        return -1;
    subscription_record *record = call->record;
    if (!record->previous)
        return 0; /* its state did not change: nothing to notify */
    char event[64];
    snprintf(event, sizeof event, "{\"type\":\"%s\",\"period\":null}", call->type);
    return subscription_event_prepare(&call->event, call->ring, call->id, record->previous, record->document, event,
                                      &call->statements[1], err);
}

static void on_changed(const app_error *err, void *data)
{
    change_call *call = data;
    subscription_record_cb cb = call->cb;
    void *cb_data = call->data;
    subscription_record *record = err ? NULL : call->record;
    if (err)
        subscription_record_free(call->record);
    subscription_event_clear(&call->event);
    free(call);
    cb(record, err, cb_data);
}

void subscription_store_change(pg_pool *pool, const seal_ring *ring, const char *id, subscription_change change,
                               const char *now, subscription_record_cb cb, void *data)
{
    /* Only a resume reads now; PostgreSQL refuses a parameter it cannot type. */
    static const struct {
        const char *sql;
        int nparams;
        const char *type;
        const char *refusal;
    } changes[] = {
        [SUBSCRIPTION_PAUSE] = {pause_sql, 1, "paused", "only an active subscription can be paused"},
        [SUBSCRIPTION_RESUME] = {resume_sql, 2, "resumed", "a cancelled subscription cannot be resumed"},
        [SUBSCRIPTION_CANCEL] = {cancel_sql, 1, "cancelled", "subscription not found"},
    };
    change_call *call = calloc(1, sizeof *call);
    if (!call) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(NULL, &err, data);
        return;
    }
    *call = (change_call){
        .cb = cb, .data = data, .ring = ring, .type = changes[change].type, .refusal = changes[change].refusal};
    snprintf(call->id, sizeof call->id, "%s", id);
    snprintf(call->now, sizeof call->now, "%s", now ? now : "");
    call->params[0] = call->id;
    call->params[1] = now ? call->now : NULL;
    call->statements[0] = (db_statement){changes[change].sql, changes[change].nparams, call->params, read_changed};
    call->statements[1] = (db_statement){NULL, 0, NULL, NULL}; /* the event, when read_changed made one */
    db_transaction_run(pool, call->statements, 2, on_changed, call);
}
