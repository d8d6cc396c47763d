/* Internals of the PostgreSQL pool, shared by its three files and nobody
 * else: pg_pool.c (the queue, leases, delivery, closing), pg_conn.c (the
 * life of one connection and its statements) and pg_error.c (what a failed
 * statement means to the caller). */
#ifndef PAYMENTS_PG_POOL_INTERNAL_H
#define PAYMENTS_PG_POOL_INTERNAL_H

#include "pg_pool.h"
#include "request_id.h"

#include <stddef.h>
#include <stdint.h>

typedef enum pg_request_kind { PG_REQUEST_QUERY, PG_REQUEST_LEASE } pg_request_kind;

enum {
    PG_PREPARED_MAX = 64, /* statements prepared per connection; later ones run unprepared */
};

/* One unit of work, a single allocation that also holds copies of the SQL
 * text and the parameters, so callers may free theirs right after the call.
 * A statement is sent from one place (pg_conn.c), through the connection's
 * prepared-statement cache. */
typedef struct pg_request {
    struct pg_request *next;
    pg_request_kind kind;
    bool internal; /* issued by the pool itself (ROLLBACK on release): nobody to call back */
    const char *sql;
    int nparams;
    const char *const *params;
    pg_result_cb result_cb;
    pg_lease_cb lease_cb;
    void *data;
    request_id caller; /* the ambient request id at submission, again at the callback */
    pg_conn *granted;  /* a lease: the connection handed over on delivery */
    app_error error;
} pg_request;

typedef struct pg_request_list {
    pg_request *head, *tail;
    size_t length;
} pg_request_list;

/* A statement prepared in a connection's session under the name
 * "payments_<its index>", found by the hash and text of its SQL. */
typedef struct pg_prepared {
    uint64_t hash;
    char *sql;
} pg_prepared;

typedef enum pg_conn_state { PG_CONN_DOWN, PG_CONN_CONNECTING, PG_CONN_READY, PG_CONN_CLOSED } pg_conn_state;
typedef enum pg_lease_state { PG_LEASE_NONE, PG_LEASE_HELD, PG_LEASE_RELEASING } pg_lease_state;

struct pg_conn {
    pg_pool *pool;
    int index;
    pg_conn_state state;
    PGconn *pg;
    uv_poll_t *poll; /* watches the current socket; freed by its close callback */
    int poll_fd;
    int poll_events;  /* what poll is started with; 0 when stopped */
    uv_timer_t timer; /* back-off, connect timeout or statement timeout */
    unsigned backoff_ms;
    unsigned failures;   /* connection attempts failed in a row */
    pg_request *current; /* the statement in flight */
    PGresult *result;    /* its result so far */
    pg_lease_state lease;
    bool lease_broken; /* the connection dropped during the lease: its transaction is gone */
    pg_request_list lease_queue;
    /* The session's prepared statements: [0, prepared_count) are ready; with
     * preparing set, [prepared_count] is being prepared for current. Emptied
     * with the session. */
    pg_prepared prepared[PG_PREPARED_MAX];
    int prepared_count;
    bool preparing;
};

struct pg_pool {
    uv_loop_t *loop;
    char *conninfo;
    char *options; /* "-c search_path=..." or NULL */
    int size;
    size_t max_queue;
    uint64_t query_timeout_ms;
    pg_conn *conns;
    pg_request_list queue;     /* waiting for a free connection */
    pg_request_list completed; /* delivered by completion_timer */
    uv_timer_t completion_timer;
    bool completion_closed;
    bool down; /* no connection and the last attempt failed: answer 503 at once */
    bool closing;
    int open_handles;    /* the pool is freed when this and ... */
    int pending_cancels; /* ... this are both back to zero after close */
    bool kept;           /* closed by pg_pool_shut_down: pg_pool_free frees it */
    bool finished;       /* every handle and cancel of a kept pool is done */
    void (*close_done)(void *data);
    void *close_data;
};

/* pg_pool.c */
pg_request *pg_request_new(pg_request_kind kind, const char *sql, int nparams, const char *const *params);
void pg_request_list_push(pg_request_list *list, pg_request *req);
pg_request *pg_request_list_pop(pg_request_list *list);
/* Completes req on the next loop iteration (a failure, or a lease grant). */
void pg_pool_defer(pg_pool *pool, pg_request *req);
void pg_request_fail(pg_pool *pool, pg_request *req, int status, const char *message);
void pg_request_list_fail_all(pg_pool *pool, pg_request_list *list, int status, const char *message);
/* After a failed connection attempt: with no connection left, fail fast. */
void pg_pool_check_down(pg_pool *pool);
/* A handle's close callback or a cancel request finished. */
void pg_pool_handle_closed(pg_pool *pool);
void pg_pool_maybe_finish(pg_pool *pool);

/* pg_conn.c */
int pg_conn_init(pg_pool *pool, pg_conn *conn, int index);
void pg_conn_connect(pg_conn *conn);
/* Gives an idle connection its next piece of work, if any. */
void pg_conn_next(pg_conn *conn);
void pg_conn_shutdown(pg_conn *conn);

/* pg_error.c */
void pg_error_from_result(const PGresult *res, const char *sql, app_error *err);
/* One line of at most size-1 bytes: whitespace runs become one space. */
void pg_text_one_line(char *out, size_t size, const char *text);

#endif
