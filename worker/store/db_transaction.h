/* db_transaction: a write as one transaction on a leased connection: BEGIN,
 * the statements in order, COMMIT. Any failure ends it and the pool rolls
 * back on release, so a write is all there or not there at all. */
#ifndef PAYMENTS_DB_TRANSACTION_H
#define PAYMENTS_DB_TRANSACTION_H

#include "pg_pool.h"

/* Reads a statement's result while it is valid (e.g. copies the row a
 * RETURNING or SELECT produced). Returning -1 with err set aborts the
 * transaction with that error. */
typedef int (*db_read_fn)(PGresult *res, app_error *err, void *data);

typedef struct db_statement {
    const char *sql;
    int nparams;
    const char *const *params;
    db_read_fn read; /* may be NULL */
} db_statement;

/* err is NULL once COMMIT succeeded; else the first failure (pool errors as
 * pg_pool.h lists them, or a read's own), or, when the connection went away
 * after COMMIT was sent (the pool shutting down, the server lost), a 504
 * saying that the outcome is unknown: see db_transaction_outcome_unknown. */
typedef void (*db_transaction_cb)(const app_error *err, void *data);

/* Whether err is that unknown outcome: the write may be there, so it must
 * not be reported as not done, nor repeated blindly. */
bool db_transaction_outcome_unknown(const app_error *err);

/* Runs statements[0..count) in one transaction; a statement whose sql is
 * NULL when its turn comes is skipped, so a read may fill in (or leave out)
 * a later statement from what it read; done runs exactly once,
 * after the connection went back: from the loop (at once only when memory
 * runs out before anything starts, so callers return right after). statements and every parameter
 * must stay valid until done runs; data is passed to each read and to done. */
void db_transaction_run(pg_pool *pool, const db_statement *statements, size_t count, db_transaction_cb done,
                        void *data);

#endif
