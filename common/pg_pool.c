/* PostgreSQL pool: each connection is a small state machine (down -> connecting
 * -> ready) driven by the uv_poll of its current socket and one timer that
 * serves as back-off, connect timeout or statement timeout, whichever applies.
 * Work waits in one FIFO. Completions that are not a server reply (failures,
 * lease grants) go through a deferred list delivered from a zero timer, so no
 * callback ever runs inside the pool function the caller is still in. */
#include "pg_pool.h"

#include "log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    PG_BACKOFF_FIRST_MS = 100,
    PG_BACKOFF_MAX_MS = 5000,
    PG_CONNECT_TIMEOUT_MS = 5000,
    PG_DEFAULT_MAX_QUEUE = 1024,
    PG_DEFAULT_QUERY_TIMEOUT_MS = 30000,
};

typedef enum pg_request_kind { PG_REQUEST_QUERY, PG_REQUEST_LEASE } pg_request_kind;

/* One unit of work, a single allocation that also holds copies of the SQL
 * text and the parameters, so callers may free theirs right after the call. */
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
    pg_conn *granted; /* a lease: the connection handed over on delivery */
    app_error error;
} pg_request;

typedef struct pg_request_list {
    pg_request *head, *tail;
    size_t length;
} pg_request_list;

typedef enum pg_conn_state { PG_CONN_DOWN, PG_CONN_CONNECTING, PG_CONN_READY, PG_CONN_CLOSED } pg_conn_state;
typedef enum pg_lease_state { PG_LEASE_NONE, PG_LEASE_HELD, PG_LEASE_RELEASING } pg_lease_state;

struct pg_conn {
    pg_pool *pool;
    int index;
    pg_conn_state state;
    PGconn *pg;
    uv_poll_t *poll; /* watches the current socket; freed by its close callback */
    int poll_fd;
    int poll_events; /* what poll is started with; 0 when stopped */
    uv_timer_t timer;
    unsigned backoff_ms;
    unsigned failures;   /* connection attempts failed in a row */
    pg_request *current; /* the statement in flight */
    PGresult *result;    /* its result so far */
    pg_lease_state lease;
    bool lease_broken; /* the connection dropped during the lease: its transaction is gone */
    pg_request_list lease_queue;
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
    int open_handles;
    int pending_cancels;
    void (*close_done)(void *data);
    void *close_data;
};

static void conn_next(pg_conn *conn);
static void conn_connect(pg_conn *conn);
static void conn_on_poll(uv_poll_t *poll, int status, int events);
static void conn_on_timer(uv_timer_t *timer);

/* ---- requests and their delivery ---- */

static void list_push(pg_request_list *list, pg_request *req)
{
    req->next = NULL;
    if (list->tail)
        list->tail->next = req;
    else
        list->head = req;
    list->tail = req;
    list->length++;
}

static pg_request *list_pop(pg_request_list *list)
{
    pg_request *req = list->head;
    if (!req)
        return NULL;
    list->head = req->next;
    if (!list->head)
        list->tail = NULL;
    list->length--;
    req->next = NULL;
    return req;
}

static pg_request *request_new(pg_request_kind kind, const char *sql, int nparams, const char *const *params)
{
    size_t size = sizeof(pg_request) + (size_t)nparams * sizeof(char *) + (sql ? strlen(sql) + 1 : 0);
    for (int i = 0; i < nparams; i++)
        size += params[i] ? strlen(params[i]) + 1 : 0;
    pg_request *req = calloc(1, size);
    if (!req)
        return NULL;
    req->kind = kind;
    req->nparams = nparams;
    const char **copies = (const char **)(req + 1);
    char *text = (char *)(copies + nparams);
    for (int i = 0; i < nparams; i++) {
        copies[i] = NULL;
        if (params[i]) {
            size_t len = strlen(params[i]) + 1;
            memcpy(text, params[i], len);
            copies[i] = text;
            text += len;
        }
    }
    req->params = copies;
    if (sql) {
        memcpy(text, sql, strlen(sql) + 1);
        req->sql = text;
    }
    return req;
}

static void request_deliver(pg_pool *pool, pg_request *req)
{
    if (req->kind == PG_REQUEST_LEASE) {
        if (!req->error.status && pool->closing) {
            req->granted->lease = PG_LEASE_NONE;
            app_error_set(&req->error, 503, "shutting down");
        }
        bool failed = req->error.status != 0;
        req->lease_cb(failed ? NULL : req->granted, failed ? &req->error : NULL, req->data);
    } else {
        req->result_cb(NULL, &req->error, req->data);
    }
    free(req);
}


/* ---- closing: memory goes when the last handle and cancel are done ---- */

static void pool_maybe_finish(pg_pool *pool)
{
    if (!pool->closing || pool->open_handles > 0 || pool->pending_cancels > 0)
        return;
    void (*done)(void *data) = pool->close_done;
    void *data = pool->close_data;
    free(pool->conns);
    free(pool->conninfo);
    free(pool->options);
    free(pool);
    if (done)
        done(data);
}

static void pool_handle_closed(pg_pool *pool)
{
    pool->open_handles--;
    pool_maybe_finish(pool);
}

static void pool_on_completion_closed(uv_handle_t *handle)
{
    pool_handle_closed(handle->data);
}

static void conn_on_timer_closed(uv_handle_t *handle)
{
    pg_conn *conn = handle->data;
    pool_handle_closed(conn->pool);
}

static void conn_on_poll_closed(uv_handle_t *handle)
{
    pg_conn *conn = handle->data;
    free(handle);
    pool_handle_closed(conn->pool);
}

static void pool_on_completion_timer(uv_timer_t *timer)
{
    pg_pool *pool = timer->data;
    pg_request *req;
    while ((req = list_pop(&pool->completed)))
        request_deliver(pool, req);
    if (pool->closing && !pool->completion_closed) {
        pool->completion_closed = true;
        uv_close((uv_handle_t *)&pool->completion_timer, pool_on_completion_closed);
    }
}

/* Queues a completion for the next loop iteration. */
static void pool_defer(pg_pool *pool, pg_request *req)
{
    if (pool->completion_closed) {
        /* Reachable only by a call made after close delivered everything;
         * the callback still runs, once. */
        request_deliver(pool, req);
        return;
    }
    list_push(&pool->completed, req);
    int rc = uv_timer_start(&pool->completion_timer, pool_on_completion_timer, 0, 0);
    if (rc != 0)
        log_error("pg: cannot start the completion timer: %s", uv_strerror(rc));
}

static void request_fail(pg_pool *pool, pg_request *req, int status, const char *message)
{
    if (req->internal) {
        free(req);
        return;
    }
    app_error_set(&req->error, status, "%s", message);
    pool_defer(pool, req);
}

static void list_fail_all(pg_pool *pool, pg_request_list *list, int status, const char *message)
{
    pg_request *req;
    while ((req = list_pop(list)))
        request_fail(pool, req, status, message);
}

/* ---- server errors ---- */

/* One line of at most size-1 bytes: whitespace runs become one space. */
static void text_one_line(char *out, size_t size, const char *text)
{
    size_t n = 0;
    bool space = false;
    for (; text && *text && n + 1 < size; text++) {
        bool is_space = *text == ' ' || *text == '\n' || *text == '\r' || *text == '\t';
        if (is_space) {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < size)
            out[n++] = ' ';
        space = false;
        out[n++] = *text;
    }
    out[n] = '\0';
}

static bool sqlstate_is(const char *sqlstate, const char *prefix)
{
    return strncmp(sqlstate, prefix, strlen(prefix)) == 0;
}

/* Maps a failed result to the app_error shown to the caller and logs the
 * server's message. Class 22 (data exceptions) messages may quote a
 * parameter's value, so only their SQLSTATE is logged. */
static void pg_result_error(const PGresult *res, const char *sql, app_error *err)
{
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY)
        return;
    const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "no result";
    if (!sqlstate)
        sqlstate = "";
    char message[256], statement[161];
    text_one_line(message, sizeof message, sqlstate_is(sqlstate, "22") ? "(withheld: may quote a value)"
                                           : primary                   ? primary
                                                                       : PQresStatus(status));
    text_one_line(statement, sizeof statement, sql);

    if (strcmp(sqlstate, "23505") == 0) {
        const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
        app_error_set(err, 409, "duplicate value violates unique constraint \"%s\"",
                      constraint ? constraint : "unknown");
        log_warn("pg: SQLSTATE %s: %s (statement: %s)", sqlstate, message, statement);
        return;
    }
    if (strcmp(sqlstate, "57014") == 0)
        app_error_set(err, 504, "database query timed out");
    else if (sqlstate_is(sqlstate, "08") || sqlstate_is(sqlstate, "57P"))
        app_error_set(err, 503, "database unavailable");
    else
        app_error_set(err, 500, "database error");
    log_error("pg: SQLSTATE %s: %s (statement: %s)", sqlstate[0] ? sqlstate : "none", message, statement);
}

/* ---- statement timeout: cancel on the thread pool, PQcancel blocks ---- */

typedef struct pg_cancel_work {
    uv_work_t work;
    pg_pool *pool;
    PGcancel *cancel;
    bool sent;
    char error[256];
} pg_cancel_work;

static void cancel_work_run(uv_work_t *work)
{
    pg_cancel_work *cancel = work->data;
    cancel->sent = PQcancel(cancel->cancel, cancel->error, sizeof cancel->error) == 1;
}

static void cancel_work_done(uv_work_t *work, int status)
{
    pg_cancel_work *cancel = work->data;
    pg_pool *pool = cancel->pool;
    if (status == 0 && !cancel->sent) {
        char line[256];
        text_one_line(line, sizeof line, cancel->error);
        log_warn("pg: cancel request failed: %s", line);
    }
    PQfreeCancel(cancel->cancel);
    free(cancel);
    pool->pending_cancels--;
    pool_maybe_finish(pool);
}

/* Asks the server to stop the backend's statement, so that a query we gave
 * up on does not keep running (and holding locks) after we drop the socket. */
static void pool_cancel_backend(pg_pool *pool, PGconn *pg)
{
    pg_cancel_work *cancel = calloc(1, sizeof *cancel);
    if (!cancel || !(cancel->cancel = PQgetCancel(pg))) {
        log_warn("pg: cannot prepare a cancel request");
        free(cancel);
        return;
    }
    cancel->pool = pool;
    cancel->work.data = cancel;
    int rc = uv_queue_work(pool->loop, &cancel->work, cancel_work_run, cancel_work_done);
    if (rc != 0) {
        log_warn("pg: cannot queue a cancel request: %s", uv_strerror(rc));
        PQfreeCancel(cancel->cancel);
        free(cancel);
        return;
    }
    pool->pending_cancels++;
}

/* ---- one connection: socket watching and teardown ---- */

static void conn_close_poll(pg_conn *conn)
{
    if (!conn->poll)
        return;
    /* Stop before libpq closes the descriptor: libuv must not keep an
     * epoll registration for a number the kernel may hand out again. */
    uv_poll_stop(conn->poll);
    uv_close((uv_handle_t *)conn->poll, conn_on_poll_closed);
    conn->poll = NULL;
    conn->poll_events = 0;
}

static void conn_close_pg(pg_conn *conn)
{
    conn_close_poll(conn);
    uv_timer_stop(&conn->timer);
    PQclear(conn->result);
    conn->result = NULL;
    PQfinish(conn->pg);
    conn->pg = NULL;
}

/* Watches the connection's current socket; libpq may open a new one while
 * connecting (next address, SSL fallback), which gets a new poll handle. */
static int conn_watch(pg_conn *conn, int events)
{
    int fd = PQsocket(conn->pg);
    if (fd < 0)
        return -1;
    if (conn->poll && conn->poll_fd != fd)
        conn_close_poll(conn);
    if (!conn->poll) {
        uv_poll_t *poll = malloc(sizeof *poll);
        if (!poll)
            return -1;
        if (uv_poll_init_socket(conn->pool->loop, poll, fd) != 0) {
            free(poll);
            return -1;
        }
        poll->data = conn;
        conn->pool->open_handles++;
        conn->poll = poll;
        conn->poll_fd = fd;
        conn->poll_events = 0;
    }
    if (events == conn->poll_events)
        return 0;
    if (uv_poll_start(conn->poll, events, conn_on_poll) != 0)
        return -1;
    conn->poll_events = events;
    return 0;
}

static void conn_schedule(pg_conn *conn, uint64_t delay_ms)
{
    int rc = uv_timer_start(&conn->timer, conn_on_timer, delay_ms, 0);
    if (rc != 0)
        log_error("pg: connection %d: cannot start its timer: %s", conn->index, uv_strerror(rc));
}

static unsigned conn_next_backoff(pg_conn *conn)
{
    unsigned delay = conn->backoff_ms;
    conn->backoff_ms = delay * 2 > PG_BACKOFF_MAX_MS ? PG_BACKOFF_MAX_MS : delay * 2;
    return delay;
}

static void conn_error_line(const pg_conn *conn, char *out, size_t size)
{
    text_one_line(out, size, conn->pg ? PQerrorMessage(conn->pg) : "out of memory");
    if (!out[0])
        snprintf(out, size, "unknown error");
}

/* While no connection is up and attempts fail, waiting would only turn into
 * timeouts upstream: fail the queue now and new work at once. */
static void pool_check_down(pg_pool *pool)
{
    for (int i = 0; i < pool->size; i++)
        if (pool->conns[i].state == PG_CONN_READY)
            return;
    if (!pool->down)
        log_error("pg: database unreachable; answering 503 until a connection succeeds");
    pool->down = true;
    list_fail_all(pool, &pool->queue, 503, "database unavailable");
}

static void conn_attempt_failed(pg_pool *pool, pg_conn *conn, const char *why)
{
    char line[256];
    conn_error_line(conn, line, sizeof line);
    if (conn->failures++ == 0)
        log_warn("pg: connection %d: %s: %s", conn->index, why, line);
    else
        log_debug("pg: connection %d: %s: %s", conn->index, why, line);
    conn_close_pg(conn);
    conn->state = PG_CONN_DOWN;
    conn_schedule(conn, conn_next_backoff(conn));
    pool_check_down(pool);
}

/* An established connection is gone (broken, or dropped on purpose): the
 * statement in flight fails, a lease loses its transaction, and a new
 * connection is made after delay_ms. */
static void conn_drop(pg_conn *conn, uint64_t delay_ms)
{
    pg_pool *pool = conn->pool;
    if (conn->current) {
        request_fail(pool, conn->current, 503, "database connection lost");
        conn->current = NULL;
    }
    if (conn->lease == PG_LEASE_HELD) {
        conn->lease_broken = true;
        list_fail_all(pool, &conn->lease_queue, 503, "database connection lost");
    } else {
        conn->lease = PG_LEASE_NONE;
    }
    conn_close_pg(conn);
    conn->state = PG_CONN_DOWN;
    conn_schedule(conn, delay_ms);
}

static void conn_lost(pg_conn *conn, const char *why)
{
    char line[256];
    conn_error_line(conn, line, sizeof line);
    log_warn("pg: connection %d lost (%s): %s", conn->index, why, line);
    conn_drop(conn, conn_next_backoff(conn));
}

/* ---- one connection: connecting ---- */

static void conn_connected(pg_pool *pool, pg_conn *conn)
{
    uv_timer_stop(&conn->timer);
    if (PQsetnonblocking(conn->pg, 1) != 0) {
        conn_attempt_failed(pool, conn, "cannot set non-blocking mode");
        return;
    }
    conn->state = PG_CONN_READY;
    conn->backoff_ms = PG_BACKOFF_FIRST_MS;
    conn->failures = 0;
    if (pool->down)
        log_info("pg: database reachable again");
    pool->down = false;
    if (conn_watch(conn, UV_READABLE) != 0) {
        conn_lost(conn, "cannot watch the socket");
        return;
    }
    conn_next(conn);
}

static void conn_continue_connect(pg_conn *conn, PostgresPollingStatusType polling)
{
    pg_pool *pool = conn->pool;
    switch (polling) {
    case PGRES_POLLING_READING:
    case PGRES_POLLING_WRITING:
        if (conn_watch(conn, polling == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE) != 0)
            conn_attempt_failed(pool, conn, "cannot watch the socket");
        return;
    case PGRES_POLLING_OK:
        conn_connected(pool, conn);
        return;
    default:
        conn_attempt_failed(pool, conn, "connect failed");
        return;
    }
}

/* Server notices would otherwise go to stderr. */
static void conn_notice(void *arg, const char *message)
{
    const pg_conn *conn = arg;
    log_debug("pg: connection %d: %.*s", conn->index, (int)strcspn(message, "\r\n"), message);
}

static void conn_connect(pg_conn *conn)
{
    pg_pool *pool = conn->pool;
    /* Ours first, so the connection string may override them; the schema's
     * search_path last, so nothing overrides it. */
    const char *keywords[] = {"application_name", "connect_timeout", "dbname", "options", NULL};
    const char *values[] = {"payments", "5", pool->conninfo, pool->options, NULL};
    if (!pool->options)
        keywords[3] = NULL;
    conn->pg = PQconnectStartParams(keywords, values, 1);
    if (!conn->pg || PQstatus(conn->pg) == CONNECTION_BAD) {
        conn_attempt_failed(pool, conn, "connect failed");
        return;
    }
    PQsetNoticeProcessor(conn->pg, conn_notice, conn);
    conn->state = PG_CONN_CONNECTING;
    /* libpq ignores connect_timeout in PQconnectPoll: the timer enforces it. */
    conn_schedule(conn, PG_CONNECT_TIMEOUT_MS);
    conn_continue_connect(conn, PGRES_POLLING_WRITING);
}

/* ---- one connection: statements ---- */

static int conn_flush(pg_conn *conn)
{
    int pending = PQflush(conn->pg);
    if (pending < 0) {
        conn_lost(conn, "send failed");
        return -1;
    }
    if (conn_watch(conn, pending ? UV_READABLE | UV_WRITABLE : UV_READABLE) != 0) {
        conn_lost(conn, "cannot watch the socket");
        return -1;
    }
    return 0;
}

static void conn_start(pg_conn *conn, pg_request *req)
{
    pg_pool *pool = conn->pool;
    conn->current = req;
    if (!PQsendQueryParams(conn->pg, req->sql, req->nparams, NULL, req->params, NULL, NULL, 0)) {
        if (PQstatus(conn->pg) == CONNECTION_BAD) {
            conn_lost(conn, "send failed");
            return;
        }
        char line[256];
        conn_error_line(conn, line, sizeof line);
        log_error("pg: cannot send a statement: %s", line);
        conn->current = NULL;
        request_fail(pool, req, 500, "database error");
        return;
    }
    conn_schedule(conn, pool->query_timeout_ms);
    conn_flush(conn);
}

/* The ROLLBACK sent on release is done: the connection goes back to the
 * pool only if it really is outside a transaction now. */
static void conn_finish_internal(pg_conn *conn, const app_error *err)
{
    if (err->status || PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
        log_error("pg: connection %d: rollback on release failed; reconnecting", conn->index);
        conn->lease = PG_LEASE_NONE;
        conn_drop(conn, 0);
        return;
    }
    conn_next(conn);
}

static void conn_finish(pg_conn *conn)
{
    if (PQstatus(conn->pg) == CONNECTION_BAD) {
        conn_lost(conn, "connection closed");
        return;
    }
    pg_request *req = conn->current;
    PGresult *res = conn->result;
    conn->current = NULL;
    conn->result = NULL;
    uv_timer_stop(&conn->timer);
    app_error err;
    app_error_clear(&err);
    pg_result_error(res, req->sql, &err);
    if (req->internal) {
        PQclear(res);
        free(req);
        conn_finish_internal(conn, &err);
        return;
    }
    req->result_cb(err.status ? NULL : res, err.status ? &err : NULL, req->data);
    PQclear(res);
    free(req);
    conn_next(conn);
}

/* Keeps the statement's final result, or its first error. */
static void conn_keep_result(pg_conn *conn, PGresult *res)
{
    if (conn->result && PQresultStatus(conn->result) == PGRES_FATAL_ERROR) {
        PQclear(res);
        return;
    }
    PQclear(conn->result);
    conn->result = res;
}

static void conn_collect(pg_conn *conn)
{
    if (!conn->current) {
        /* Idle: notifications only; a closed socket shows up here. */
        PGnotify *notify;
        while ((notify = PQnotifies(conn->pg)))
            PQfreemem(notify);
        if (PQstatus(conn->pg) == CONNECTION_BAD)
            conn_lost(conn, "connection closed");
        return;
    }
    while (!PQisBusy(conn->pg)) {
        PGresult *res = PQgetResult(conn->pg);
        if (!res) {
            conn_finish(conn);
            return;
        }
        ExecStatusType status = PQresultStatus(res);
        if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
            PQclear(res);
            conn_lost(conn, "COPY is not supported by the pool");
            return;
        }
        conn_keep_result(conn, res);
    }
}

static void conn_on_poll(uv_poll_t *poll, int status, int events)
{
    pg_conn *conn = poll->data;
    if (status < 0)
        conn->poll_events = 0; /* libuv stopped the handle */
    if (conn->state == PG_CONN_CONNECTING) {
        /* On a socket error libpq reads the reason, or tries the next address. */
        conn_continue_connect(conn, PQconnectPoll(conn->pg));
        return;
    }
    if (conn->state != PG_CONN_READY)
        return;
    if (status < 0) {
        PQconsumeInput(conn->pg); /* lets libpq record the reason, if any */
        conn_lost(conn, "socket error");
        return;
    }
    if ((events & UV_READABLE) && !PQconsumeInput(conn->pg)) {
        conn_lost(conn, "receive failed");
        return;
    }
    if ((conn->poll_events & UV_WRITABLE) && conn_flush(conn) != 0)
        return;
    conn_collect(conn);
}

static void conn_on_statement_timeout(pg_conn *conn)
{
    pg_pool *pool = conn->pool;
    pg_request *req = conn->current;
    char statement[161];
    text_one_line(statement, sizeof statement, req->sql);
    log_error("pg: statement timed out after %llu ms, cancelling it (statement: %s)",
              (unsigned long long)pool->query_timeout_ms, statement);
    conn->current = NULL;
    request_fail(pool, req, 504, "database query timed out");
    pool_cancel_backend(pool, conn->pg);
    /* The connection is dropped rather than drained, so the loop never waits
     * on the cancel; a new one is made at once. */
    conn_drop(conn, 0);
}

static void conn_on_timer(uv_timer_t *timer)
{
    pg_conn *conn = timer->data;
    switch (conn->state) {
    case PG_CONN_DOWN:
        conn_connect(conn);
        return;
    case PG_CONN_CONNECTING:
        conn_attempt_failed(conn->pool, conn, "connect timed out");
        return;
    case PG_CONN_READY:
        if (conn->current)
            conn_on_statement_timeout(conn);
        return;
    case PG_CONN_CLOSED:
        return;
    }
}

/* ---- scheduling work onto connections ---- */

/* Finishing a release: roll back an open transaction first. Returns the
 * ROLLBACK to send, or NULL when the connection is free again. */
static pg_request *conn_release_step(pg_conn *conn)
{
    if (PQtransactionStatus(conn->pg) == PQTRANS_IDLE) {
        conn->lease = PG_LEASE_NONE;
        return NULL;
    }
    pg_request *rollback = request_new(PG_REQUEST_QUERY, "ROLLBACK", 0, NULL);
    if (!rollback) {
        log_error("pg: connection %d: out of memory for rollback; reconnecting", conn->index);
        conn_drop(conn, 0);
        return NULL;
    }
    rollback->internal = true;
    return rollback;
}

/* Gives an idle connection its next piece of work: the lease's own
 * statements first, then the release's rollback, then the pool queue. */
static void conn_next(pg_conn *conn)
{
    pg_pool *pool = conn->pool;
    while (!pool->closing && conn->state == PG_CONN_READY && !conn->current) {
        pg_request *req = list_pop(&conn->lease_queue);
        if (!req && conn->lease == PG_LEASE_RELEASING) {
            req = conn_release_step(conn);
            if (!req)
                continue;
        }
        if (!req && conn->lease == PG_LEASE_HELD)
            return;
        if (!req)
            req = list_pop(&pool->queue);
        if (!req)
            return;
        if (req->kind == PG_REQUEST_LEASE) {
            conn->lease = PG_LEASE_HELD;
            conn->lease_broken = false;
            req->granted = conn;
            pool_defer(pool, req);
            return;
        }
        conn_start(conn, req);
    }
}

static void pool_dispatch(pg_pool *pool)
{
    for (int i = 0; i < pool->size && pool->queue.length > 0; i++)
        conn_next(&pool->conns[i]);
}

static void pool_submit(pg_pool *pool, pg_request *req)
{
    if (pool->closing)
        request_fail(pool, req, 503, "shutting down");
    else if (pool->down)
        request_fail(pool, req, 503, "database unavailable");
    else if (pool->queue.length >= pool->max_queue)
        request_fail(pool, req, 503, "database busy");
    else {
        list_push(&pool->queue, req);
        pool_dispatch(pool);
    }
}

/* ---- public interface ---- */

/* "-c search_path=<schema>" with the name quoted as an identifier (exact
 * case, as migrate's format('%I') creates it) and escaped for the options
 * parser, which splits on spaces and honours backslashes. */
static char *pool_search_path_option(const char *schema)
{
    static const char prefix[] = "-c search_path=";
    char *option = malloc(sizeof prefix + strlen(schema) * 4 + 4);
    if (!option)
        return NULL;
    char *out = option + strlen(strcpy(option, prefix));
    *out++ = '"';
    for (const char *in = schema; *in; in++) {
        if (*in == '"')
            *out++ = '"';
        if (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r' || *in == '\\')
            *out++ = '\\';
        *out++ = *in;
    }
    *out++ = '"';
    *out = '\0';
    return option;
}

static bool conninfo_valid(const char *conninfo)
{
    char *error = NULL;
    PQconninfoOption *parsed = PQconninfoParse(conninfo, &error);
    if (!parsed) {
        char line[256];
        text_one_line(line, sizeof line, error ? error : "out of memory");
        log_error("pg: invalid connection string: %s", line);
        PQfreemem(error);
        return false;
    }
    PQconninfoFree(parsed);
    return true;
}

static int pool_init_conns(pg_pool *pool)
{
    for (int i = 0; i < pool->size; i++) {
        pg_conn *conn = &pool->conns[i];
        conn->pool = pool;
        conn->index = i;
        conn->state = PG_CONN_DOWN;
        conn->backoff_ms = PG_BACKOFF_FIRST_MS;
        if (uv_timer_init(pool->loop, &conn->timer) != 0) {
            pool->size = i; /* close only what was initialized */
            return -1;
        }
        conn->timer.data = conn;
        pool->open_handles++;
    }
    return 0;
}

pg_pool *pg_pool_create(uv_loop_t *loop, const pg_pool_options *options)
{
    if (!loop || !options || !options->conninfo || !conninfo_valid(options->conninfo))
        return NULL;
    pg_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->loop = loop;
    pool->size = options->size > 0 ? options->size : 1;
    pool->max_queue = options->max_queue > 0 ? (size_t)options->max_queue : PG_DEFAULT_MAX_QUEUE;
    pool->query_timeout_ms =
        options->query_timeout_ms > 0 ? (uint64_t)options->query_timeout_ms : PG_DEFAULT_QUERY_TIMEOUT_MS;
    pool->conninfo = strdup(options->conninfo);
    pool->options = options->schema && *options->schema ? pool_search_path_option(options->schema) : NULL;
    pool->conns = calloc((size_t)pool->size, sizeof *pool->conns);
    bool schema_ok = !(options->schema && *options->schema) || pool->options;
    if (!pool->conninfo || !schema_ok || !pool->conns || uv_timer_init(loop, &pool->completion_timer) != 0) {
        free(pool->conninfo);
        free(pool->options);
        free(pool->conns);
        free(pool);
        return NULL;
    }
    pool->completion_timer.data = pool;
    pool->open_handles++;
    if (pool_init_conns(pool) != 0) {
        log_error("pg: cannot initialize timers");
        pg_pool_close(pool, NULL, NULL);
        return NULL;
    }
    for (int i = 0; i < pool->size; i++)
        conn_connect(&pool->conns[i]);
    return pool;
}

void pg_pool_query(pg_pool *pool, const char *sql, int nparams, const char *const *params, pg_result_cb cb,
                   void *data)
{
    pg_request *req = request_new(PG_REQUEST_QUERY, sql, nparams, params);
    if (!req) {
        /* Out of memory: the one case where the callback runs right away. */
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(NULL, &err, data);
        return;
    }
    req->result_cb = cb;
    req->data = data;
    pool_submit(pool, req);
}

void pg_pool_lease(pg_pool *pool, pg_lease_cb cb, void *data)
{
    pg_request *req = request_new(PG_REQUEST_LEASE, NULL, 0, NULL);
    if (!req) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(NULL, &err, data);
        return;
    }
    req->lease_cb = cb;
    req->data = data;
    pool_submit(pool, req);
}

void pg_conn_query(pg_conn *conn, const char *sql, int nparams, const char *const *params, pg_result_cb cb,
                   void *data)
{
    pg_pool *pool = conn->pool;
    pg_request *req = request_new(PG_REQUEST_QUERY, sql, nparams, params);
    if (!req) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(NULL, &err, data);
        return;
    }
    req->result_cb = cb;
    req->data = data;
    if (pool->closing) {
        request_fail(pool, req, 503, "shutting down");
    } else if (conn->lease != PG_LEASE_HELD) {
        log_error("pg: statement on a connection that is not leased");
        request_fail(pool, req, 500, "database error");
    } else if (conn->lease_broken) {
        request_fail(pool, req, 503, "database connection lost");
    } else {
        list_push(&conn->lease_queue, req);
        conn_next(conn);
    }
}

void pg_conn_release(pg_conn *conn)
{
    if (!conn)
        return;
    if (conn->lease != PG_LEASE_HELD) {
        log_error("pg: release of a connection that is not leased");
        return;
    }
    if (conn->pool->closing || conn->lease_broken) {
        /* Nothing to roll back: the transaction went with the old socket. */
        conn->lease = PG_LEASE_NONE;
        conn->lease_broken = false;
    } else {
        conn->lease = PG_LEASE_RELEASING;
    }
    conn_next(conn);
}

bool pg_pool_connected(const pg_pool *pool)
{
    for (int i = 0; i < pool->size; i++)
        if (pool->conns[i].state == PG_CONN_READY)
            return true;
    return false;
}

static void conn_shutdown(pg_conn *conn)
{
    pg_pool *pool = conn->pool;
    if (conn->current) {
        request_fail(pool, conn->current, 503, "shutting down");
        conn->current = NULL;
        pool_cancel_backend(pool, conn->pg);
    }
    list_fail_all(pool, &conn->lease_queue, 503, "shutting down");
    conn_close_pg(conn);
    conn->state = PG_CONN_CLOSED;
    uv_close((uv_handle_t *)&conn->timer, conn_on_timer_closed);
}

void pg_pool_close(pg_pool *pool, void (*done)(void *data), void *data)
{
    if (pool->closing) {
        log_error("pg: pool closed twice");
        return;
    }
    pool->closing = true;
    pool->close_done = done;
    pool->close_data = data;
    for (int i = 0; i < pool->size; i++)
        conn_shutdown(&pool->conns[i]);
    list_fail_all(pool, &pool->queue, 503, "shutting down");
    /* Delivers what is pending, then closes the timer; the pool is freed
     * and done runs when the last handle and cancel request are finished. */
    int rc = uv_timer_start(&pool->completion_timer, pool_on_completion_timer, 0, 0);
    if (rc != 0) {
        log_error("pg: cannot start the completion timer: %s", uv_strerror(rc));
        pool_on_completion_timer(&pool->completion_timer);
    }
}
