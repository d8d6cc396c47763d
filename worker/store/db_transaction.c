/* db_transaction: steps a leased connection through BEGIN, each statement
 * and COMMIT, one callback at a time. The state is freed in one place,
 * finish(), which also hands the connection back and answers the caller. */
#include "db_transaction.h"

#include "log.h"

#include <stdlib.h>

#define UNKNOWN_OUTCOME_MESSAGE                                                                                \
    "the database connection closed while the write was being committed: whether it was recorded is unknown; " \
    "read the record before repeating the request"

typedef struct db_transaction {
    pg_conn *conn;
    const db_statement *statements;
    size_t count;
    size_t next; /* index of the statement to send after the current one */
    db_transaction_cb done;
    void *data;
} db_transaction;

static void finish(db_transaction *tx, const app_error *err)
{
    if (tx->conn)
        pg_conn_release(tx->conn); /* rolls back when COMMIT was not reached */
    db_transaction_cb done = tx->done;
    void *data = tx->data;
    free(tx);
    done(err, data);
}

bool db_transaction_outcome_unknown(const app_error *err)
{
    return err && err->outcome_unknown;
}

/* A 503 here is the connection, not the server, failing (pg_pool.h): the
 * server may have committed before it went. "Unavailable" would tell the
 * caller that nothing happened; the truth is that nobody knows yet. */
static void on_commit(PGresult *res, const app_error *err, void *data)
{
    (void)res;
    if (err && err->status == 503) {
        log_warn("db: COMMIT interrupted (%s): its outcome is unknown", err->message);
        app_error unknown;
        app_error_set(&unknown, 504, "%s", UNKNOWN_OUTCOME_MESSAGE);
        unknown.outcome_unknown = true;
        finish(data, &unknown);
        return;
    }
    finish(data, err);
}

static void on_statement(PGresult *res, const app_error *err, void *data);

/* Sends the next statement, or COMMIT after the last. A statement whose
 * sql is NULL when its turn comes is skipped. */
static void send_next(db_transaction *tx)
{
    while (tx->next < tx->count && !tx->statements[tx->next].sql)
        tx->next++;
    if (tx->next == tx->count) {
        pg_conn_query(tx->conn, "COMMIT", 0, NULL, on_commit, tx);
        return;
    }
    const db_statement *s = &tx->statements[tx->next++];
    pg_conn_query(tx->conn, s->sql, s->nparams, s->params, on_statement, tx);
}

static void on_statement(PGresult *res, const app_error *err, void *data)
{
    db_transaction *tx = data;
    if (err) {
        finish(tx, err);
        return;
    }
    const db_statement *s = &tx->statements[tx->next - 1];
    if (s->read) {
        app_error read_err = {0};
        if (s->read(res, &read_err, tx->data) < 0) {
            if (!read_err.status)
                app_error_set(&read_err, 500, "cannot read a stored record");
            finish(tx, &read_err);
            return;
        }
    }
    send_next(tx);
}

static void on_begin(PGresult *res, const app_error *err, void *data)
{
    (void)res;
    db_transaction *tx = data;
    if (err)
        finish(tx, err);
    else
        send_next(tx);
}

static void on_lease(pg_conn *conn, const app_error *err, void *data)
{
    db_transaction *tx = data;
    if (err) {
        finish(tx, err);
        return;
    }
    tx->conn = conn;
    pg_conn_query(conn, "BEGIN", 0, NULL, on_begin, tx);
}

void db_transaction_run(pg_pool *pool, const db_statement *statements, size_t count, db_transaction_cb done, void *data)
{
    db_transaction *tx = calloc(1, sizeof *tx);
    if (!tx) {
        /* Nothing was started; the pool's own callback style (never inside
         * the call) cannot be kept without memory, so answer now. */
        log_error("db: out of memory starting a transaction");
        app_error err;
        app_error_set(&err, 500, "out of memory");
        done(&err, data);
        return;
    }
    tx->statements = statements;
    tx->count = count;
    tx->done = done;
    tx->data = data;
    pg_pool_lease(pool, on_lease, tx);
}
