/* db_count: the one place that turns a statement's result into a count, so
 * every store reads affected rows (PQcmdTuples) and selected counts the
 * same way and fails the same way. */
#include "db_count.h"

#include <stdlib.h>

typedef struct count_call {
    db_count_kind kind;
    db_count_cb cb;
    void *data;
} count_call;

static void on_counted(PGresult *res, const app_error *err, void *data)
{
    count_call call = *(count_call *)data;
    free(data);
    if (err) {
        call.cb(0, err, call.data);
        return;
    }
    if (call.kind == DB_COUNT_WRITTEN) {
        call.cb(strtol(PQcmdTuples(res), NULL, 10), NULL, call.data);
        return;
    }
    if (PQntuples(res) != 1 || PQnfields(res) < 1) {
        app_error failed;
        app_error_set(&failed, 500, "the count's statement answered no single row");
        call.cb(0, &failed, call.data);
        return;
    }
    call.cb(strtol(PQgetvalue(res, 0, 0), NULL, 10), NULL, call.data);
}

void db_count_query(pg_pool *pool, const char *sql, int nparams, const char *const *params, db_count_kind kind,
                    db_count_cb cb, void *data)
{
    count_call *call = malloc(sizeof *call);
    if (!call) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(0, &err, data);
        return;
    }
    *call = (count_call){kind, cb, data};
    pg_pool_query(pool, sql, nparams, params, on_counted, call);
}
