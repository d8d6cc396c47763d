/* reservation_store: the SQL of reservations, parameterized; ids and times
 * come from PostgreSQL. */
#include "reservation_store.h"

#include "db_row.h"
#include "db_transaction.h"
#include "password_upgrade.h"
#include "payment_unique.h"

#include <stdlib.h>
#include <string.h>

/* The statements keep the lines they were written in: split inside a macro,
 * SQL no longer reads as SQL. */
/* clang-format off */
#define COLUMN(name) DB_ROW_COLUMN(reservation_record, name)
static const db_column reservation_columns[] = {
    COLUMN(id),           COLUMN(vendor_code), COLUMN(vendor_store_id), COLUMN(vendor_uid),
    COLUMN(source_schema), COLUMN(source_table), COLUMN(source_id),     COLUMN(title),
    COLUMN(password_hash), COLUMN(data),        COLUMN(created_at),
};
#undef COLUMN
static const db_row_type reservation_type =
    DB_ROW_TYPE("payment reservation", reservation_record, reservation_columns);

#define RESERVATION_COLUMNS                                                                                 \
    "id, vendor_code, vendor_store_id, vendor_uid, source_schema, source_table, source_id, title,"        \
    " password_hash, data, " DB_ISO_TIME("created_at") " AS created_at"

static const char select_by_id_sql[] = "SELECT " RESERVATION_COLUMNS " FROM payment_reservations WHERE id = $1";
static const char select_by_source_sql[] = "SELECT " RESERVATION_COLUMNS " FROM payment_reservations"
                                           " WHERE source_schema = $1 AND source_table = $2 AND source_id = $3";

static const char insert_sql[] =
    "INSERT INTO payment_reservations (vendor_code, vendor_store_id, vendor_uid, source_schema, source_table,"
    " source_id, title, password_hash, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    " RETURNING " RESERVATION_COLUMNS;

static const char upgrade_password_sql[] = PASSWORD_UPGRADE_SQL("payment_reservations");
/* clang-format on */

static const payment_unique unique_rules = {
    PAYMENT_UNIQUE_CHECK_SQL("payment_reservations"),
    "payment_reservations_source_key",
    "payment_reservations_vendor_key",
    "a reservation of this source already exists",
    "this billing key (vendor.uid) is already recorded",
};

void reservation_record_free(reservation_record *record)
{
    db_row_delete(&reservation_type, record);
}

static reservation_record *record_from_result(PGresult *res, app_error *err)
{
    return db_row_found(&reservation_type, res, err);
}

/* The state of one call: whose callback to run, and the record read. */
typedef struct reservation_call {
    reservation_record_cb cb;
    void *data;
    reservation_record *record;
    const char *params[9];
    db_statement statement;
} reservation_call;

static reservation_call *call_new(reservation_record_cb cb, void *data)
{
    reservation_call *call = calloc(1, sizeof *call);
    if (!call) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(NULL, &err, data);
        return NULL;
    }
    call->cb = cb;
    call->data = data;
    return call;
}

/* ---- reads ---- */

static void on_found(PGresult *res, const app_error *err, void *data)
{
    reservation_call *call = data;
    reservation_record_cb cb = call->cb;
    void *cb_data = call->data;
    free(call);
    app_error read_err = {0};
    reservation_record *record = err ? NULL : record_from_result(res, &read_err);
    cb(record, err ? err : record ? NULL : &read_err, cb_data);
}

void reservation_store_find_by_id(pg_pool *pool, const char *id, reservation_record_cb cb, void *data)
{
    reservation_call *call = call_new(cb, data);
    const char *params[] = {id};
    if (call)
        pg_pool_query(pool, select_by_id_sql, 1, params, on_found, call);
}

void reservation_store_find_by_source(pg_pool *pool, const payment_source_input *source, reservation_record_cb cb,
                                      void *data)
{
    reservation_call *call = call_new(cb, data);
    const char *params[] = {source->schema, source->table, source->id};
    if (call)
        pg_pool_query(pool, select_by_source_sql, 3, params, on_found, call);
}

/* ---- uniqueness ---- */

void reservation_store_check_new(pg_pool *pool, const payment_source_input *source, const payment_vendor_input *vendor,
                                 payment_unique_cb cb, void *data)
{
    payment_unique_check(pool, &unique_rules, source, vendor, cb, data);
}

/* ---- insert ---- */

static int read_inserted(PGresult *res, app_error *err, void *data)
{
    reservation_call *call = data;
    call->record = record_from_result(res, err);
    return call->record ? 0 : -1;
}

static void on_inserted(const app_error *err, void *data)
{
    reservation_call *call = data;
    reservation_record_cb cb = call->cb;
    void *cb_data = call->data;
    reservation_record *record = call->record;
    free(call);
    if (!err) {
        cb(record, NULL, cb_data);
        return;
    }
    reservation_record_free(record);
    app_error explained;
    payment_unique_explain(&unique_rules, err, &explained);
    cb(NULL, &explained, cb_data);
}

void reservation_store_insert(pg_pool *pool, const reservation_new *input, reservation_record_cb cb, void *data)
{
    reservation_call *call = call_new(cb, data);
    if (!call)
        return;
    const char *params[] = {input->vendor->code,   input->vendor->store_id, input->vendor->uid,
                            input->source->schema, input->source->table,    input->source->id,
                            input->title,          input->password_hash,    input->data};
    memcpy(call->params, params, sizeof params);
    call->statement = (db_statement){insert_sql, 9, call->params, read_inserted};
    db_transaction_run(pool, &call->statement, 1, on_inserted, call);
}

void reservation_store_upgrade_password(pg_pool *pool, const char *id, const char *old_hash, const char *new_hash)
{
    password_upgrade_run(pool, upgrade_password_sql, id, old_hash, new_hash);
}
