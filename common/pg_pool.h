/* PostgreSQL pool of one worker: a few libpq connections in non-blocking mode,
 * each watched by a uv_poll, parameterized statements only. Queries wait in a
 * queue for a free connection. A broken connection is replaced with back-off;
 * while the database is down, queries fail at once with 503. */
#ifndef PAYMENTS_PG_POOL_H
#define PAYMENTS_PG_POOL_H

#include "error.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <uv.h>

typedef struct pg_pool pg_pool;
typedef struct pg_conn pg_conn; /* a connection leased for a transaction */

/* res is NULL when err is set; res is owned by the pool and valid only
 * during the callback. Errors: 503 when the database is unreachable or the
 * queue is full, 409 for a unique violation (the message names the
 * constraint), 504 when a query times out, 500 otherwise (details logged). */
typedef void (*pg_result_cb)(PGresult *res, const app_error *err, void *data);
typedef void (*pg_lease_cb)(pg_conn *conn, const app_error *err, void *data);

typedef struct pg_pool_options {
    const char *conninfo;  /* URL or key=value string */
    const char *schema;    /* search_path of every connection; may be NULL */
    int size;              /* connections */
    int max_queue;         /* waiting queries before 503; 0: 1024 */
    long query_timeout_ms; /* 0: 30 s */
} pg_pool_options;

pg_pool *pg_pool_create(uv_loop_t *loop, const pg_pool_options *options);
/* One statement on any free connection. */
void pg_pool_query(pg_pool *pool, const char *sql, int nparams, const char *const *params, pg_result_cb cb, void *data);
/* Lease a connection for several statements (a transaction). */
void pg_pool_lease(pg_pool *pool, pg_lease_cb cb, void *data);
void pg_conn_query(pg_conn *conn, const char *sql, int nparams, const char *const *params, pg_result_cb cb, void *data);
/* Returns the connection. If a transaction is still open it is rolled back. */
void pg_conn_release(pg_conn *conn);
/* Connections running a statement or leased, and statements waiting for
 * one: the pool's load, for the metrics. */
void pg_pool_usage(const pg_pool *pool, unsigned *in_use, unsigned *waiting);
/* True when at least one connection is established. */
bool pg_pool_connected(const pg_pool *pool);
/* Fails queued work with 503, closes every connection, frees; done runs after. */
void pg_pool_close(pg_pool *pool, void (*done)(void *data), void *data);
/* The same, but the memory stays until pg_pool_free (after the loop has
 * ended): work that outlives a process's drain still calls the pool, and
 * gets 503 instead of freed memory. */
void pg_pool_shut_down(pg_pool *pool);
void pg_pool_free(pg_pool *pool);

#endif
