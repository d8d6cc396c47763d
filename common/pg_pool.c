/* PostgreSQL pool: one FIFO of waiting work in front of a few connections
 * (pg_conn.c). Completions that are not a server reply (failures, lease
 * grants) go through a deferred list delivered from a zero timer, so no
 * callback ever runs inside the pool function its caller is still in. */
#include "pg_pool_internal.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

enum {
    PG_DEFAULT_MAX_QUEUE = 1024,
    PG_DEFAULT_QUERY_TIMEOUT_MS = 30000,
};

/* ---- requests ---- */

void pg_request_list_push(pg_request_list *list, pg_request *req)
{
    req->next = NULL;
    if (list->tail)
        list->tail->next = req;
    else
        list->head = req;
    list->tail = req;
    list->length++;
}

pg_request *pg_request_list_pop(pg_request_list *list)
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

pg_request *pg_request_new(pg_request_kind kind, const char *sql, int nparams, const char *const *params)
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

/* ---- delivery ---- */

static void request_deliver(pg_pool *pool, pg_request *req)
{
    request_id saved;
    request_id_enter(&req->caller, &saved);
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
    request_id_restore(&saved);
    free(req);
}

static void pool_on_completion_closed(uv_handle_t *handle)
{
    pg_pool_handle_closed(handle->data);
}

static void pool_on_completion_timer(uv_timer_t *timer)
{
    pg_pool *pool = timer->data;
    pg_request *req;
    while ((req = pg_request_list_pop(&pool->completed)))
        request_deliver(pool, req);
    if (pool->closing && !pool->completion_closed) {
        pool->completion_closed = true;
        uv_close((uv_handle_t *)&pool->completion_timer, pool_on_completion_closed);
    }
}

void pg_pool_defer(pg_pool *pool, pg_request *req)
{
    if (pool->completion_closed) {
        /* Reachable only by a call made after close delivered everything;
         * the callback still runs, once. */
        request_deliver(pool, req);
        return;
    }
    pg_request_list_push(&pool->completed, req);
    int rc = uv_timer_start(&pool->completion_timer, pool_on_completion_timer, 0, 0);
    if (rc != 0)
        log_error("pg: cannot start the completion timer: %s", uv_strerror(rc));
}

void pg_request_fail(pg_pool *pool, pg_request *req, int status, const char *message)
{
    if (req->internal) {
        free(req);
        return;
    }
    app_error_set(&req->error, status, "%s", message);
    if (status == 503)
        req->error.retry_after_s = 1; /* busy, down or closing: try again soon */
    pg_pool_defer(pool, req);
}

void pg_request_list_fail_all(pg_pool *pool, pg_request_list *list, int status, const char *message)
{
    pg_request *req;
    while ((req = pg_request_list_pop(list)))
        pg_request_fail(pool, req, status, message);
}

/* ---- the queue ---- */

/* While no connection is up and attempts fail, waiting would only turn into
 * timeouts upstream: fail the queue now and new work at once. */
void pg_pool_check_down(pg_pool *pool)
{
    for (int i = 0; i < pool->size; i++)
        if (pool->conns[i].state == PG_CONN_READY)
            return;
    if (!pool->down)
        log_error("pg: database unreachable; answering 503 until a connection succeeds");
    pool->down = true;
    pg_request_list_fail_all(pool, &pool->queue, 503, "database unavailable");
}

static void pool_submit(pg_pool *pool, pg_request *req)
{
    if (pool->closing)
        pg_request_fail(pool, req, 503, "shutting down");
    else if (pool->down)
        pg_request_fail(pool, req, 503, "database unavailable");
    else if (pool->queue.length >= pool->max_queue)
        pg_request_fail(pool, req, 503, "database busy");
    else {
        pg_request_list_push(&pool->queue, req);
        for (int i = 0; i < pool->size && pool->queue.length > 0; i++)
            pg_conn_next(&pool->conns[i]);
    }
}

/* ---- closing: memory goes when the last handle and cancel are done ---- */

static void pool_free_memory(pg_pool *pool)
{
    free(pool->conns);
    free(pool->conninfo);
    free(pool->options);
    free(pool);
}

void pg_pool_maybe_finish(pg_pool *pool)
{
    if (!pool->closing || pool->open_handles > 0 || pool->pending_cancels > 0)
        return;
    if (pool->kept) {
        pool->finished = true;
        return;
    }
    void (*done)(void *data) = pool->close_done;
    void *data = pool->close_data;
    pool_free_memory(pool);
    if (done)
        done(data);
}

void pg_pool_handle_closed(pg_pool *pool)
{
    pool->open_handles--;
    pg_pool_maybe_finish(pool);
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
        pg_conn_shutdown(&pool->conns[i]);
    pg_request_list_fail_all(pool, &pool->queue, 503, "shutting down");
    /* Delivers what is pending, then closes the timer; the pool is freed
     * and done runs when the last handle and cancel request are finished. */
    int rc = uv_timer_start(&pool->completion_timer, pool_on_completion_timer, 0, 0);
    if (rc != 0) {
        log_error("pg: cannot start the completion timer: %s", uv_strerror(rc));
        pool_on_completion_timer(&pool->completion_timer);
    }
}

void pg_pool_shut_down(pg_pool *pool)
{
    pool->kept = true;
    pg_pool_close(pool, NULL, NULL);
}

void pg_pool_free(pg_pool *pool)
{
    if (!pool)
        return;
    if (!pool->finished) {
        /* A handle still open would be freed under libuv: leaking is safer. */
        log_error("pg: pool freed before its close finished");
        return;
    }
    pool_free_memory(pool);
}

/* ---- creation ---- */

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

/* A typo in the connection string is a configuration error, not an outage. */
static bool conninfo_valid(const char *conninfo)
{
    char *error = NULL;
    PQconninfoOption *parsed = PQconninfoParse(conninfo, &error);
    if (!parsed) {
        char line[256];
        pg_text_one_line(line, sizeof line, error ? error : "out of memory");
        log_error("pg: invalid connection string: %s", line);
        PQfreemem(error);
        return false;
    }
    PQconninfoFree(parsed);
    return true;
}

pg_pool *pg_pool_create(uv_loop_t *loop, const pg_pool_options *options)
{
    if (!loop || !options || !options->conninfo || !conninfo_valid(options->conninfo))
        return NULL;
    pg_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    bool has_schema = options->schema && *options->schema;
    pool->loop = loop;
    pool->size = options->size > 0 ? options->size : 1;
    pool->max_queue = options->max_queue > 0 ? (size_t)options->max_queue : PG_DEFAULT_MAX_QUEUE;
    pool->query_timeout_ms =
        options->query_timeout_ms > 0 ? (uint64_t)options->query_timeout_ms : PG_DEFAULT_QUERY_TIMEOUT_MS;
    pool->conninfo = strdup(options->conninfo);
    pool->options = has_schema ? pool_search_path_option(options->schema) : NULL;
    pool->conns = calloc((size_t)pool->size, sizeof *pool->conns);
    if (!pool->conninfo || (has_schema && !pool->options) || !pool->conns ||
        uv_timer_init(loop, &pool->completion_timer) != 0) {
        pool_free_memory(pool);
        return NULL;
    }
    pool->completion_timer.data = pool;
    pool->open_handles++;
    for (int i = 0; i < pool->size; i++) {
        if (pg_conn_init(pool, &pool->conns[i], i) != 0) {
            log_error("pg: cannot initialize a connection timer");
            pool->size = i; /* close only what was initialized */
            pg_pool_close(pool, NULL, NULL);
            return NULL;
        }
    }
    /* Connections open now; work submitted meanwhile waits in the queue. */
    for (int i = 0; i < pool->size; i++)
        pg_conn_connect(&pool->conns[i]);
    return pool;
}

/* ---- work ---- */

/* Out of memory is the one case where a callback runs inside the call:
 * there is no request to defer. */
static pg_request *request_for(pg_request_kind kind, const char *sql, int nparams, const char *const *params,
                               pg_result_cb result_cb, pg_lease_cb lease_cb, void *data)
{
    pg_request *req = pg_request_new(kind, sql, nparams, params);
    if (!req) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        if (result_cb)
            result_cb(NULL, &err, data);
        else
            lease_cb(NULL, &err, data);
        return NULL;
    }
    req->result_cb = result_cb;
    req->lease_cb = lease_cb;
    req->data = data;
    request_id_capture(&req->caller);
    return req;
}

void pg_pool_query(pg_pool *pool, const char *sql, int nparams, const char *const *params, pg_result_cb cb, void *data)
{
    pg_request *req = request_for(PG_REQUEST_QUERY, sql, nparams, params, cb, NULL, data);
    if (req)
        pool_submit(pool, req);
}

void pg_pool_lease(pg_pool *pool, pg_lease_cb cb, void *data)
{
    pg_request *req = request_for(PG_REQUEST_LEASE, NULL, 0, NULL, NULL, cb, data);
    if (req)
        pool_submit(pool, req);
}

void pg_conn_query(pg_conn *conn, const char *sql, int nparams, const char *const *params, pg_result_cb cb, void *data)
{
    pg_pool *pool = conn->pool;
    pg_request *req = request_for(PG_REQUEST_QUERY, sql, nparams, params, cb, NULL, data);
    if (!req)
        return;
    if (pool->closing) {
        pg_request_fail(pool, req, 503, "shutting down");
    } else if (conn->lease != PG_LEASE_HELD) {
        log_error("pg: statement on a connection that is not leased");
        pg_request_fail(pool, req, 500, "database error");
    } else if (conn->lease_broken) {
        pg_request_fail(pool, req, 503, "database connection lost");
    } else {
        pg_request_list_push(&conn->lease_queue, req);
        pg_conn_next(conn);
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
    pg_conn_next(conn);
}

void pg_pool_usage(const pg_pool *pool, unsigned *in_use, unsigned *waiting)
{
    unsigned busy = 0;
    for (int i = 0; i < pool->size; i++)
        busy += pool->conns[i].current != NULL || pool->conns[i].lease != PG_LEASE_NONE;
    *in_use = busy;
    *waiting = (unsigned)pool->queue.length;
}

bool pg_pool_connected(const pg_pool *pool)
{
    for (int i = 0; i < pool->size; i++)
        if (pool->conns[i].state == PG_CONN_READY)
            return true;
    return false;
}
