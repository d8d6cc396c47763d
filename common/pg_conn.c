/* One pooled connection: a state machine (down -> connecting -> ready)
 * driven by the uv_poll of its current socket and by one timer, which is the
 * back-off, the connect timeout or the statement timeout, whichever applies.
 * A broken connection fails its statement with 503 and is made again. */
#include "pg_pool_internal.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    PG_BACKOFF_FIRST_MS = 100,
    PG_BACKOFF_MAX_MS = 5000,
    PG_CONNECT_TIMEOUT_MS = 5000, /* and "5" for libpq's connect_timeout below */
};

static void conn_on_poll(uv_poll_t *poll, int status, int events);
static void conn_on_timer(uv_timer_t *timer);
static void conn_prepared_clear(pg_conn *conn);

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
        pg_text_one_line(line, sizeof line, cancel->error);
        log_warn("pg: cancel request failed: %s", line);
    }
    PQfreeCancel(cancel->cancel);
    free(cancel);
    pool->pending_cancels--;
    pg_pool_maybe_finish(pool);
}

/* Asks the server to stop the backend's statement, so that a statement we
 * gave up on does not keep running (and holding locks) after we drop it. */
static void conn_cancel_backend(pg_conn *conn)
{
    pg_pool *pool = conn->pool;
    pg_cancel_work *cancel = calloc(1, sizeof *cancel);
    if (!cancel || !(cancel->cancel = PQgetCancel(conn->pg))) {
        log_warn("pg: connection %d: cannot prepare a cancel request", conn->index);
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

/* ---- the socket ---- */

static void conn_on_timer_closed(uv_handle_t *handle)
{
    pg_conn *conn = handle->data;
    pg_pool_handle_closed(conn->pool);
}

static void conn_on_poll_closed(uv_handle_t *handle)
{
    pg_conn *conn = handle->data;
    free(handle);
    pg_pool_handle_closed(conn->pool);
}

static void conn_close_poll(pg_conn *conn)
{
    if (!conn->poll)
        return;
    /* Stop before libpq closes the descriptor: libuv drops its epoll
     * registration now, not after the number has been handed out again. */
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
    conn_prepared_clear(conn); /* they lived in the session */
}

/* Watches the connection's current socket. While connecting, libpq may
 * close its socket and open another (next address, SSL refused), possibly
 * under the same number: rearm then registers whatever the number is now.
 * A new number gets a new poll handle. */
static int conn_watch(pg_conn *conn, int events, bool rearm)
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
    if (events == conn->poll_events && !rearm)
        return 0;
    /* uv_poll_start removes and adds the epoll registration. */
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

/* ---- failures ---- */

static unsigned conn_next_backoff(pg_conn *conn)
{
    unsigned delay = conn->backoff_ms;
    conn->backoff_ms = delay * 2 > PG_BACKOFF_MAX_MS ? PG_BACKOFF_MAX_MS : delay * 2;
    return delay;
}

static void conn_error_line(const pg_conn *conn, char *out, size_t size)
{
    pg_text_one_line(out, size, conn->pg ? PQerrorMessage(conn->pg) : "out of memory");
    if (!out[0])
        snprintf(out, size, "unknown error");
}

/* Logged once per outage and connection, then only at debug level. */
static void conn_attempt_failed(pg_conn *conn, const char *why)
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
    pg_pool_check_down(conn->pool);
}

/* An established connection is gone (broken, or dropped on purpose): the
 * statement in flight fails, a lease loses its transaction, and a new
 * connection is made after delay_ms. */
static void conn_drop(pg_conn *conn, uint64_t delay_ms)
{
    pg_pool *pool = conn->pool;
    if (conn->current) {
        pg_request_fail(pool, conn->current, 503, "database connection lost");
        conn->current = NULL;
    }
    if (conn->lease == PG_LEASE_HELD) {
        conn->lease_broken = true;
        pg_request_list_fail_all(pool, &conn->lease_queue, 503, "database connection lost");
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

/* ---- connecting ---- */

static void conn_connected(pg_conn *conn)
{
    pg_pool *pool = conn->pool;
    uv_timer_stop(&conn->timer);
    if (PQsetnonblocking(conn->pg, 1) != 0) {
        conn_attempt_failed(conn, "cannot set non-blocking mode");
        return;
    }
    conn->state = PG_CONN_READY;
    conn->backoff_ms = PG_BACKOFF_FIRST_MS;
    conn->failures = 0;
    if (pool->down)
        log_info("pg: database reachable again");
    pool->down = false;
    if (conn_watch(conn, UV_READABLE, true) != 0) {
        conn_lost(conn, "cannot watch the socket");
        return;
    }
    pg_conn_next(conn);
}

static void conn_continue_connect(pg_conn *conn, PostgresPollingStatusType polling)
{
    switch (polling) {
    case PGRES_POLLING_READING:
    case PGRES_POLLING_WRITING:
        if (conn_watch(conn, polling == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE, true) != 0)
            conn_attempt_failed(conn, "cannot watch the socket");
        return;
    case PGRES_POLLING_OK:
        conn_connected(conn);
        return;
    default:
        conn_attempt_failed(conn, "connect failed");
        return;
    }
}

/* Server notices would otherwise go to stderr. */
static void conn_notice(void *arg, const char *message)
{
    const pg_conn *conn = arg;
    log_debug("pg: connection %d: %.*s", conn->index, (int)strcspn(message, "\r\n"), message);
}

void pg_conn_connect(pg_conn *conn)
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
        conn_attempt_failed(conn, "connect failed");
        return;
    }
    PQsetNoticeProcessor(conn->pg, conn_notice, conn);
    conn->state = PG_CONN_CONNECTING;
    /* libpq ignores connect_timeout in PQconnectPoll: the timer enforces it. */
    conn_schedule(conn, PG_CONNECT_TIMEOUT_MS);
    conn_continue_connect(conn, PGRES_POLLING_WRITING);
}

/* ---- statements ---- */

static int conn_flush(pg_conn *conn)
{
    int pending = PQflush(conn->pg);
    if (pending < 0) {
        conn_lost(conn, "send failed");
        return -1;
    }
    if (conn_watch(conn, pending ? UV_READABLE | UV_WRITABLE : UV_READABLE, false) != 0) {
        conn_lost(conn, "cannot watch the socket");
        return -1;
    }
    return 0;
}

/* ---- prepared statements: parsed and planned once per session ---- */

/* FNV-1a over the SQL text's 8-byte words (a statement is hashed on every
 * execution: a byte at a time was visible in profiles), then its tail: the
 * cache key, confirmed by comparing the text. */
static uint64_t sql_hash(const char *sql)
{
    size_t len = strlen(sql);
    uint64_t hash = 14695981039346656037u ^ len;
    size_t i = 0;
    for (; i + sizeof(uint64_t) <= len; i += sizeof(uint64_t)) {
        uint64_t word;
        memcpy(&word, sql + i, sizeof word);
        hash = (hash ^ word) * 1099511628211u;
    }
    for (; i < len; i++)
        hash = (hash ^ (unsigned char)sql[i]) * 1099511628211u;
    return hash;
}

typedef struct prepared_name {
    char text[32];
} prepared_name;

static prepared_name prepared_name_of(int index)
{
    prepared_name name;
    snprintf(name.text, sizeof name.text, "payments_%d", index);
    return name;
}

static int conn_prepared_find(const pg_conn *conn, uint64_t hash, const char *sql)
{
    for (int i = 0; i < conn->prepared_count; i++)
        if (conn->prepared[i].hash == hash && strcmp(conn->prepared[i].sql, sql) == 0)
            return i;
    return -1;
}

static void conn_prepared_clear(pg_conn *conn)
{
    int used = conn->prepared_count + (conn->preparing ? 1 : 0);
    for (int i = 0; i < used; i++) {
        free(conn->prepared[i].sql);
        conn->prepared[i].sql = NULL;
    }
    conn->prepared_count = 0;
    conn->preparing = false;
}

/* Sends the Parse of req's statement into the next free entry. Returns
 * libpq's answer (1 sent, 0 failed), or -1 when there is no room or memory
 * to cache it. */
static int conn_send_prepare(pg_conn *conn, uint64_t hash, const pg_request *req)
{
    if (conn->prepared_count >= PG_PREPARED_MAX)
        return -1;
    pg_prepared *entry = &conn->prepared[conn->prepared_count];
    entry->sql = strdup(req->sql);
    if (!entry->sql)
        return -1;
    entry->hash = hash;
    prepared_name name = prepared_name_of(conn->prepared_count);
    if (!PQsendPrepare(conn->pg, name.text, req->sql, req->nparams, NULL)) {
        free(entry->sql);
        entry->sql = NULL;
        return 0;
    }
    conn->preparing = true;
    return 1;
}

/* Sends req's statement: by name when the session has it prepared, else its
 * Parse first when it can be cached (the execution follows in
 * conn_prepare_finished), else unprepared. The pool's own ROLLBACK is never
 * cached. Returns 1 when sent, 0 when libpq refused. */
static int conn_send(pg_conn *conn, const pg_request *req)
{
    if (!req->internal) {
        uint64_t hash = sql_hash(req->sql);
        int index = conn_prepared_find(conn, hash, req->sql);
        if (index >= 0) {
            prepared_name name = prepared_name_of(index);
            return PQsendQueryPrepared(conn->pg, name.text, req->nparams, req->params, NULL, NULL, 0);
        }
        int sent = conn_send_prepare(conn, hash, req);
        if (sent >= 0)
            return sent;
    }
    return PQsendQueryParams(conn->pg, req->sql, req->nparams, NULL, req->params, NULL, NULL, 0);
}

/* libpq refused current's statement: a broken connection is made again,
 * otherwise the statement alone fails. */
static void conn_send_failed(pg_conn *conn)
{
    if (PQstatus(conn->pg) == CONNECTION_BAD) {
        conn_lost(conn, "send failed");
        return;
    }
    pg_request *req = conn->current;
    char line[256];
    conn_error_line(conn, line, sizeof line);
    log_error("pg: cannot send a statement: %s", line);
    uv_timer_stop(&conn->timer);
    conn->current = NULL;
    pg_request_fail(conn->pool, req, 500, "database error");
}

static void conn_start(pg_conn *conn, pg_request *req)
{
    conn->current = req;
    if (!conn_send(conn, req)) {
        conn_send_failed(conn);
        return;
    }
    conn_schedule(conn, conn->pool->query_timeout_ms);
    conn_flush(conn);
}

/* The Parse of current's statement is answered. On success the statement
 * joins the cache and its execution is sent, under the same statement
 * timeout: returns true. On failure the entry is dropped and false lets the
 * caller fail the statement as any other. */
static bool conn_prepare_finished(pg_conn *conn)
{
    pg_prepared *entry = &conn->prepared[conn->prepared_count];
    conn->preparing = false;
    if (PQresultStatus(conn->result) != PGRES_COMMAND_OK) {
        free(entry->sql);
        entry->sql = NULL;
        return false;
    }
    PQclear(conn->result);
    conn->result = NULL;
    pg_request *req = conn->current;
    prepared_name name = prepared_name_of(conn->prepared_count++);
    if (!PQsendQueryPrepared(conn->pg, name.text, req->nparams, req->params, NULL, NULL, 0)) {
        conn_send_failed(conn);
        pg_conn_next(conn);
        return true;
    }
    conn_flush(conn);
    return true;
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
    pg_conn_next(conn);
}

static void conn_finish(pg_conn *conn)
{
    if (PQstatus(conn->pg) == CONNECTION_BAD) {
        conn_lost(conn, "connection closed");
        return;
    }
    if (conn->preparing && conn_prepare_finished(conn))
        return;
    pg_request *req = conn->current;
    PGresult *res = conn->result;
    conn->current = NULL;
    conn->result = NULL;
    uv_timer_stop(&conn->timer);
    app_error err;
    app_error_clear(&err);
    pg_error_from_result(res, req->sql, &err);
    if (req->internal) {
        PQclear(res);
        free(req);
        conn_finish_internal(conn, &err);
        return;
    }
    request_id saved;
    request_id_enter(&req->caller, &saved);
    req->result_cb(err.status ? NULL : res, err.status ? &err : NULL, req->data);
    request_id_restore(&saved);
    PQclear(res);
    free(req);
    pg_conn_next(conn);
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
    pg_text_one_line(statement, sizeof statement, req->sql);
    log_error("pg: statement timed out after %llu ms, cancelling it (statement: %s)",
              (unsigned long long)pool->query_timeout_ms, statement);
    conn->current = NULL;
    pg_request_fail(pool, req, 504, "database query timed out");
    conn_cancel_backend(conn);
    /* Dropped rather than drained, so nothing waits on the cancel; a new
     * connection is made at once. */
    conn_drop(conn, 0);
}

static void conn_on_timer(uv_timer_t *timer)
{
    pg_conn *conn = timer->data;
    switch (conn->state) {
    case PG_CONN_DOWN:
        pg_conn_connect(conn);
        return;
    case PG_CONN_CONNECTING:
        conn_attempt_failed(conn, "connect timed out");
        return;
    case PG_CONN_READY:
        if (conn->current)
            conn_on_statement_timeout(conn);
        return;
    case PG_CONN_CLOSED:
        return;
    }
}

/* ---- what to run next ---- */

/* Finishing a release: roll back an open transaction first. Returns the
 * ROLLBACK to send, or NULL when the connection is free again. */
static pg_request *conn_release_step(pg_conn *conn)
{
    if (PQtransactionStatus(conn->pg) == PQTRANS_IDLE) {
        conn->lease = PG_LEASE_NONE;
        return NULL;
    }
    pg_request *rollback = pg_request_new(PG_REQUEST_QUERY, "ROLLBACK", 0, NULL);
    if (!rollback) {
        log_error("pg: connection %d: out of memory for rollback; reconnecting", conn->index);
        conn_drop(conn, 0);
        return NULL;
    }
    rollback->internal = true;
    return rollback;
}

/* The lease's own statements first, then the release's rollback, then the
 * pool queue. A lease grant is delivered later, never from inside here. */
void pg_conn_next(pg_conn *conn)
{
    pg_pool *pool = conn->pool;
    while (!pool->closing && conn->state == PG_CONN_READY && !conn->current) {
        pg_request *req = pg_request_list_pop(&conn->lease_queue);
        if (!req && conn->lease == PG_LEASE_RELEASING) {
            req = conn_release_step(conn);
            if (!req)
                continue;
        }
        if (!req && conn->lease == PG_LEASE_HELD)
            return;
        if (!req)
            req = pg_request_list_pop(&pool->queue);
        if (!req)
            return;
        if (req->kind == PG_REQUEST_LEASE) {
            conn->lease = PG_LEASE_HELD;
            conn->lease_broken = false;
            req->granted = conn;
            pg_pool_defer(pool, req);
            return;
        }
        conn_start(conn, req);
    }
}

/* ---- birth and death ---- */

int pg_conn_init(pg_pool *pool, pg_conn *conn, int index)
{
    conn->pool = pool;
    conn->index = index;
    conn->state = PG_CONN_DOWN;
    conn->backoff_ms = PG_BACKOFF_FIRST_MS;
    if (uv_timer_init(pool->loop, &conn->timer) != 0)
        return -1;
    conn->timer.data = conn;
    pool->open_handles++;
    return 0;
}

void pg_conn_shutdown(pg_conn *conn)
{
    pg_pool *pool = conn->pool;
    if (conn->current) {
        pg_request_fail(pool, conn->current, 503, "shutting down");
        conn->current = NULL;
        conn_cancel_backend(conn);
    }
    pg_request_list_fail_all(pool, &conn->lease_queue, 503, "shutting down");
    conn_close_pg(conn);
    conn->state = PG_CONN_CLOSED;
    uv_close((uv_handle_t *)&conn->timer, conn_on_timer_closed);
}
