/* history_store: the SQL of payment histories. Every statement takes its
 * values as parameters; ids and times are made and printed by PostgreSQL
 * (gen_random_uuid, now(), DB_ISO_TIME), so every worker agrees on them. */
#include "history_store.h"

#include "db_row.h"
#include "db_transaction.h"
#include "password_upgrade.h"
#include "payment_unique.h"

#include <stdlib.h>
#include <string.h>

/* The statements keep the lines they were written in: split inside a macro,
 * SQL no longer reads as SQL. */
/* clang-format off */
#define COLUMN(name) DB_ROW_COLUMN(history_record, name)
static const db_column history_columns[] = {
    COLUMN(id),           COLUMN(vendor_code), COLUMN(vendor_store_id), COLUMN(vendor_uid),
    COLUMN(source_schema), COLUMN(source_table), COLUMN(source_id),     COLUMN(webhook_url),
    COLUMN(currency),     COLUMN(price),       COLUMN(refund),          COLUMN(password_hash),
    COLUMN(data),         COLUMN(created_at),  COLUMN(paid_at),         COLUMN(cancelled_at),
    COLUMN(cancels),
};
#undef COLUMN
static const db_row_type history_type = DB_ROW_TYPE("payment history", history_record, history_columns);

/* One history with its cancels in a single row; WHERE follows. */
#define HISTORY_SELECT                                                                                      \
    "SELECT h.id, h.vendor_code, h.vendor_store_id, h.vendor_uid, h.source_schema, h.source_table,"        \
    " h.source_id, h.webhook_url, h.currency, h.price, h.refund, h.password_hash, h.data,"                 \
    " " DB_ISO_TIME("h.created_at") " AS created_at, " DB_ISO_TIME("h.paid_at") " AS paid_at,"             \
    " " DB_ISO_TIME("h.cancelled_at") " AS cancelled_at,"                                                 \
    " (SELECT coalesce(json_agg(json_build_object('reason', c.reason, 'price', c.price,"                   \
    "   'created_at', " DB_ISO_TIME("c.created_at") ") ORDER BY c.sequence), '[]'::json)"                  \
    "  FROM payment_history_cancels c WHERE c.history_id = h.id) AS cancels"                               \
    " FROM payment_histories h "

static const char select_by_id_sql[] = HISTORY_SELECT "WHERE h.id = $1";
static const char select_by_source_sql[] =
    HISTORY_SELECT "WHERE h.source_schema = $1 AND h.source_table = $2 AND h.source_id = $3";
static const char select_by_vendor_sql[] = HISTORY_SELECT "WHERE h.vendor_code = $1 AND h.vendor_uid = $2";

static const payment_unique unique_rules = {
    PAYMENT_UNIQUE_CHECK_SQL("payment_histories"),
    "payment_histories_source_key",
    "payment_histories_vendor_key",
    "a payment history of this source already exists",
    "this vendor payment (vendor.uid) is already recorded",
};

static const char insert_sql[] =
    "INSERT INTO payment_histories (vendor_code, vendor_store_id, vendor_uid, source_schema, source_table,"
    " source_id, webhook_url, password_hash, currency, price, refund, data, paid_at, cancelled_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, " DB_FROM_MILLISECONDS("$13") ", "
    DB_FROM_MILLISECONDS("$14") ") RETURNING id";

/* Cancels already stored (same sequence) are left as they are. */
static const char insert_cancels_sql[] =
    "INSERT INTO payment_history_cancels (history_id, sequence, price, reason, data, created_at)"
    " SELECT $1::uuid, (c.value->>'sequence')::integer, (c.value->>'price')::numeric, c.value->>'reason',"
    " c.value->>'data', " DB_FROM_MILLISECONDS("c.value->>'created_at'")
    " FROM json_array_elements($2::json) AS c(value)"
    " ON CONFLICT (history_id, sequence) DO NOTHING";

/* Serializes writers of one history until COMMIT. */
static const char lock_sql[] = "SELECT 1 FROM payment_histories WHERE id = $1 FOR UPDATE";

static const char update_sql[] =
    "UPDATE payment_histories SET currency = $2, refund = $3, data = $4,"
    " paid_at = coalesce(" DB_FROM_MILLISECONDS("$5") ", paid_at), cancelled_at = " DB_FROM_MILLISECONDS("$6")
    " WHERE id = $1 AND (SELECT count(*) FROM payment_history_cancels WHERE history_id = $1) <= $7::bigint";

static const char upgrade_password_sql[] = PASSWORD_UPGRADE_SQL("payment_histories");
/* clang-format on */

void history_record_free(history_record *record)
{
    db_row_delete(&history_type, record);
}

static history_record *record_from_result(PGresult *res, app_error *err)
{
    return db_row_found(&history_type, res, err);
}

/* ---- reads ---- */

typedef struct history_find {
    history_record_cb cb;
    void *data;
} history_find;

static void on_found(PGresult *res, const app_error *err, void *data)
{
    history_find find = *(history_find *)data;
    free(data);
    app_error read_err = {0};
    history_record *record = err ? NULL : record_from_result(res, &read_err);
    find.cb(record, err ? err : record ? NULL : &read_err, find.data);
}

static void find(pg_pool *pool, const char *sql, int nparams, const char *const *params, history_record_cb cb,
                 void *data)
{
    history_find *state = malloc(sizeof *state);
    if (!state) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(NULL, &err, data);
        return;
    }
    state->cb = cb;
    state->data = data;
    pg_pool_query(pool, sql, nparams, params, on_found, state);
}

void history_store_find_by_id(pg_pool *pool, const char *id, history_record_cb cb, void *data)
{
    const char *params[] = {id};
    find(pool, select_by_id_sql, 1, params, cb, data);
}

void history_store_find_by_source(pg_pool *pool, const payment_source_input *source, history_record_cb cb, void *data)
{
    const char *params[] = {source->schema, source->table, source->id};
    find(pool, select_by_source_sql, 3, params, cb, data);
}

void history_store_find_by_vendor(pg_pool *pool, const char *vendor_code, const char *vendor_uid, history_record_cb cb,
                                  void *data)
{
    const char *params[] = {vendor_code, vendor_uid};
    find(pool, select_by_vendor_sql, 2, params, cb, data);
}

/* ---- uniqueness, before asking the vendor ---- */

void history_store_check_new(pg_pool *pool, const payment_source_input *source, const payment_vendor_input *vendor,
                             payment_unique_cb cb, void *data)
{
    payment_unique_check(pool, &unique_rules, source, vendor, cb, data);
}

/* ---- writes ---- */

typedef struct history_write {
    history_record_cb cb;
    void *data;
    char id[64]; /* the history's id, known after the INSERT or given */
    history_record *record;
    history_record *previous;         /* before an apply, for its observer */
    const history_observer *observer; /* may be NULL */
    const char *insert_params[14];
    const char *cancel_params[2];
    const char *update_params[7];
    const char *id_params[1];
    db_statement statements[7];
} history_write;

static void on_written(const app_error *err, void *data)
{
    history_write *write = data;
    history_record_cb cb = write->cb;
    void *cb_data = write->data;
    history_record *record = write->record;
    history_record_free(write->previous);
    free(write);
    if (err) {
        history_record_free(record);
        app_error explained;
        payment_unique_explain(&unique_rules, err, &explained);
        cb(NULL, &explained, cb_data);
        return;
    }
    cb(record, NULL, cb_data);
}

static int read_inserted_id(PGresult *res, app_error *err, void *data)
{
    history_write *write = data;
    if (PQntuples(res) != 1 || PQgetlength(res, 0, 0) >= (int)sizeof write->id) {
        app_error_set(err, 500, "cannot record the payment history");
        return -1;
    }
    strcpy(write->id, PQgetvalue(res, 0, 0));
    return 0;
}

static int read_locked(PGresult *res, app_error *err, void *data)
{
    (void)data;
    if (PQntuples(res) == 0) {
        app_error_set(err, 404, "payment history not found");
        return -1;
    }
    return 0;
}

static int read_record(PGresult *res, app_error *err, void *data)
{
    history_write *write = data;
    write->record = record_from_result(res, err);
    return write->record ? 0 : -1;
}

static int read_previous(PGresult *res, app_error *err, void *data)
{
    history_write *write = data;
    write->previous = record_from_result(res, err);
    return write->previous ? 0 : -1;
}

static int read_observed(PGresult *res, app_error *err, void *data)
{
    const history_observer *observer = ((history_write *)data)->observer;
    return observer->read_extra(res, err, observer->data);
}

/* The history after the update, then what the observer makes of the change:
 * the last statement is its to fill. */
static int read_current(PGresult *res, app_error *err, void *data)
{
    history_write *write = data;
    if (read_record(res, err, data) < 0)
        return -1;
    db_statement *extra = &write->statements[5];
    *extra = (db_statement){0};
    if (write->observer->observe(write->previous, write->record, extra, err, write->observer->data) < 0)
        return -1;
    extra->read = write->observer->read_extra ? read_observed : NULL;
    return 0;
}

static history_write *write_new(history_record_cb cb, void *data)
{
    history_write *write = calloc(1, sizeof *write);
    if (!write) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(NULL, &err, data);
        return NULL;
    }
    write->cb = cb;
    write->data = data;
    write->id_params[0] = write->id;
    return write;
}

void history_store_insert(pg_pool *pool, const history_new *input, history_record_cb cb, void *data)
{
    history_write *write = write_new(cb, data);
    if (!write)
        return;
    const history_values *values = input->values;
    const char *insert_params[] = {
        input->vendor->code,
        input->vendor->store_id,
        input->vendor->uid,
        input->source->schema,
        input->source->table,
        input->source->id,
        input->webhook_url,
        input->password_hash,
        values->currency,
        input->price,
        history_values_param(values->refund),
        values->data,
        history_values_param(values->paid_at),
        history_values_param(values->cancelled_at),
    };
    memcpy(write->insert_params, insert_params, sizeof insert_params);
    write->cancel_params[0] = write->id;
    write->cancel_params[1] = values->cancels;
    write->statements[0] = (db_statement){insert_sql, 14, write->insert_params, read_inserted_id};
    write->statements[1] = (db_statement){insert_cancels_sql, 2, write->cancel_params, NULL};
    write->statements[2] = (db_statement){select_by_id_sql, 1, write->id_params, read_record};
    if (input->also)
        write->statements[3] = *input->also;
    db_transaction_run(pool, write->statements, 4, on_written, write);
}

void history_store_apply(pg_pool *pool, const char *id, const history_values *values, const history_observer *observer,
                         history_record_cb cb, void *data)
{
    history_write *write = write_new(cb, data);
    if (!write)
        return;
    snprintf(write->id, sizeof write->id, "%s", id);
    const char *update_params[] = {
        write->id,
        values->currency,
        history_values_param(values->refund),
        values->data,
        history_values_param(values->paid_at),
        history_values_param(values->cancelled_at),
        values->cancel_count,
    };
    memcpy(write->update_params, update_params, sizeof update_params);
    write->cancel_params[0] = write->id;
    write->cancel_params[1] = values->cancels;
    write->observer = observer;
    /* The previous state is read after the lock, in a statement of its own:
     * it then sees every change committed before the lock was granted. */
    write->statements[0] = (db_statement){lock_sql, 1, write->id_params, read_locked};
    write->statements[1] = (db_statement){observer ? select_by_id_sql : NULL, 1, write->id_params, read_previous};
    write->statements[2] = (db_statement){update_sql, 7, write->update_params, NULL};
    write->statements[3] = (db_statement){insert_cancels_sql, 2, write->cancel_params, NULL};
    write->statements[4] = (db_statement){select_by_id_sql, 1, write->id_params, observer ? read_current : read_record};
    /* statements[5] is the observer's to fill; [6] runs whatever changed. */
    if (observer && observer->also)
        write->statements[6] = *observer->also;
    db_transaction_run(pool, write->statements, 7, on_written, write);
}

void history_store_upgrade_password(pg_pool *pool, const char *id, const char *old_hash, const char *new_hash)
{
    password_upgrade_run(pool, upgrade_password_sql, id, old_hash, new_hash);
}
