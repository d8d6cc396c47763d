/* payment_unique: the check is one statement whose row says which rule a
 * new record would break; a violation found only at the INSERT is told
 * apart by the name of the key PostgreSQL reports. */
#include "payment_unique.h"

#include <stdlib.h>
#include <string.h>

typedef struct unique_check {
    const payment_unique *rules;
    payment_unique_cb cb;
    void *data;
} unique_check;

static bool column_true(const PGresult *res, const char *name)
{
    int field = PQfnumber(res, name);
    return field >= 0 && PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, field), "t") == 0;
}

static void on_checked(PGresult *res, const app_error *err, void *data)
{
    unique_check check = *(unique_check *)data;
    free(data);
    app_error taken = {0};
    if (!err && column_true(res, "source_taken"))
        app_error_set(&taken, 409, "%s", check.rules->source_taken);
    else if (!err && column_true(res, "vendor_taken"))
        app_error_set(&taken, 409, "%s", check.rules->vendor_taken);
    check.cb(err ? err : taken.status ? &taken : NULL, check.data);
}

void payment_unique_check(pg_pool *pool, const payment_unique *rules, const payment_source_input *source,
                          const payment_vendor_input *vendor, payment_unique_cb cb, void *data)
{
    unique_check *check = malloc(sizeof *check);
    if (!check) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(&err, data);
        return;
    }
    *check = (unique_check){rules, cb, data};
    const char *params[] = {source->schema, source->table, source->id, vendor->code, vendor->uid};
    pg_pool_query(pool, rules->check_sql, 5, params, on_checked, check);
}

void payment_unique_explain(const payment_unique *rules, const app_error *err, app_error *out)
{
    if (strstr(err->message, rules->source_key))
        app_error_set(out, 409, "%s", rules->source_taken);
    else if (strstr(err->message, rules->vendor_key))
        app_error_set(out, 409, "%s", rules->vendor_taken);
    else
        *out = *err;
}
