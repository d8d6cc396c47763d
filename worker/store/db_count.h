/* db_count: statements whose answer is one number, the rows they wrote or a
 * count they select, handed to a callback that runs exactly once (with 0
 * and the error when the statement failed). */
#ifndef PAYMENTS_DB_COUNT_H
#define PAYMENTS_DB_COUNT_H

#include "pg_pool.h"

typedef void (*db_count_cb)(long count, const app_error *err, void *data);

typedef enum db_count_kind {
    DB_COUNT_WRITTEN,  /* the rows an INSERT, UPDATE or DELETE touched */
    DB_COUNT_SELECTED, /* the first column of the one row a SELECT answers */
} db_count_kind;

/* params are copied by the pool before this returns. */
void db_count_query(pg_pool *pool, const char *sql, int nparams, const char *const *params, db_count_kind kind,
                    db_count_cb cb, void *data);

#endif
