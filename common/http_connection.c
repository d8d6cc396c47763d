/* A connection's life: reading into its buffer, feeding llhttp one request
 * at a time (pipelined requests wait until the current one is answered), the
 * idle, header and linger deadlines on one timer, and the lingering close. */
#include "http_server_internal.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    INPUT_INITIAL = 16 * 1024,  /* read buffer of a new connection */
    INPUT_MIN_SPACE = 4 * 1024, /* less free room than this: compact or grow */
    INPUT_HELD_MAX = 64 * 1024, /* held while a request is handled: stop reading past it */
    LINGER_MS = 1000,           /* after our FIN, unread client bytes are discarded this long */
};

static void connection_parse(http_connection *conn);
static void connection_finish(http_connection *conn);
static void connection_fail(http_connection *conn, int status, const char *message);
static void connection_start_reading(http_connection *conn);
static void on_connection_timer(uv_timer_t *timer);

/* Runs the timer until the deadline: arming a later deadline leaves a
 * running timer alone (no timer-heap work per request on a busy keep-alive
 * connection); firing early, it is started again for the rest. */
static void start_timer_for_deadline(http_connection *conn, uint64_t now)
{
    conn->timer_due = conn->deadline;
    uv_timer_start(&conn->timer, on_connection_timer, conn->deadline - now, 0);
}

static void on_connection_timer(uv_timer_t *timer)
{
    http_connection *conn = timer->data;
    if (conn->state == CONNECTION_HANDLING)
        return; /* no deadline while the handler has the exchange */
    uint64_t now = uv_now(conn->server->loop);
    if (now < conn->deadline) {
        start_timer_for_deadline(conn, now);
        return;
    }
    switch (conn->state) {
    case CONNECTION_READING:
        connection_fail(conn, 408, "The request did not arrive in time");
        break;
    case CONNECTION_IDLE: /* an answer still being written is let out first */
        if (conn->writes_pending > 0)
            connection_finish(conn);
        else
            http_connection_close(conn);
        break;
    case CONNECTION_CLOSING:
        http_connection_close(conn);
        break;
    case CONNECTION_HANDLING:
        break;
    }
}

void http_connection_arm_timer(http_connection *conn, uint64_t ms)
{
    if (conn->closed)
        return;
    uint64_t now = uv_now(conn->server->loop);
    conn->deadline = now + ms;
    if (!uv_is_active((uv_handle_t *)&conn->timer) || conn->timer_due > conn->deadline)
        start_timer_for_deadline(conn, now);
}

static void connection_dispatch(http_connection *conn)
{
    http_exchange *ex = conn->exchange;
    http_server *s = conn->server;
    conn->state = CONNECTION_HANDLING; /* its timer, if running, fires to no effect */
    ex->pending = true;
    ex->keep_alive = conn->keep_alive;
    ex->route = -1;
    if (s->observer)
        ex->handed_ns = uv_hrtime();
    s->stats.pending_exchanges++;
    request_id_choose(http_request_header(&ex->request, "X-Request-Id"), &ex->id);
    ex->started_ms = uv_now(s->loop);
    if (http_exchange_add_header(ex, "X-Request-Id", ex->id.text) != 0) {
        http_respond_error(ex, 500, "Internal Server Error");
        return;
    }
    request_id saved;
    request_id_enter(&ex->id, &saved);
    s->handler(ex, s->context);
    request_id_restore(&saved);
}

/* Feeds buffered input to llhttp until it runs out, a request goes to the
 * handler, or the connection is closing. */
static void connection_parse(http_connection *conn)
{
    conn->parsing = true;
    while (conn->state != CONNECTION_HANDLING && conn->state != CONNECTION_CLOSING &&
           conn->input_off < conn->input_len) {
        const char *data = conn->input + conn->input_off;
        size_t len = conn->input_len - conn->input_off;
        if (conn->state == CONNECTION_READING && !conn->headers_done)
            conn->head_mark = data;
        llhttp_errno_t err = llhttp_execute(&conn->parser, data, len);
        if (err == HPE_OK) {
            conn->input_off = conn->input_len;
            int status = http_request_parser_count_head_bytes(conn, data + len);
            if (status)
                connection_fail(conn, status, NULL);
        } else if (err == HPE_PAUSED) {
            conn->input_off += (size_t)(llhttp_get_error_pos(&conn->parser) - data);
            llhttp_resume(&conn->parser);
            connection_dispatch(conn);
        } else {
            /* llhttp's reason names the flaw without echoing the client's bytes. */
            if (conn->error_status)
                connection_fail(conn, conn->error_status, NULL);
            else
                connection_fail(conn, 400, llhttp_get_error_reason(&conn->parser));
        }
    }
    if (conn->input_off == conn->input_len)
        conn->input_off = conn->input_len = 0;
    if (conn->state == CONNECTION_IDLE && conn->input_len == 0 && http_server_holds_many(conn->server)) {
        free(conn->input); /* the next read allocates again */
        conn->input = NULL;
        conn->input_cap = 0;
    }
    conn->parsing = false;
    if (conn->state != CONNECTION_HANDLING || conn->input_len - conn->input_off < INPUT_HELD_MAX)
        connection_start_reading(conn);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    http_connection *conn = handle->data;
    (void)suggested;
    if (conn->input_off == conn->input_len)
        conn->input_off = conn->input_len = 0;
    if (conn->input_cap - conn->input_len < INPUT_MIN_SPACE && conn->input_off > 0) {
        memmove(conn->input, conn->input + conn->input_off, conn->input_len - conn->input_off);
        conn->input_len -= conn->input_off;
        conn->input_off = 0;
    }
    if (conn->input_cap - conn->input_len < INPUT_MIN_SPACE) {
        size_t cap = conn->input_cap ? conn->input_cap * 2 : INPUT_INITIAL;
        char *input = realloc(conn->input, cap);
        if (!input) {
            *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
            return;
        }
        conn->input = input;
        conn->input_cap = cap;
    }
    *buf = uv_buf_init(conn->input + conn->input_len, (unsigned int)(conn->input_cap - conn->input_len));
}

static void connection_stop_reading(http_connection *conn)
{
    if (conn->reading && !conn->closed)
        uv_read_stop((uv_stream_t *)&conn->tcp);
    conn->reading = false;
}

/* The client sent EOF or the socket failed. A pending exchange is aborted;
 * an answer still being written goes out before the close. */
static void connection_on_peer_gone(http_connection *conn)
{
    conn->peer_closed = true;
    connection_stop_reading(conn);
    bool answer_in_flight =
        conn->writes_pending > 0 && (conn->state == CONNECTION_IDLE || conn->state == CONNECTION_CLOSING);
    if (answer_in_flight)
        connection_finish(conn);
    else
        http_connection_close(conn);
}

/* Past HTTP_BUFFERS_KEPT_UP_TO connections, an idle connection does not keep
 * its exchange for the next request either. Only here, in the read callback
 * that answered it: no handler that might still look at the exchange is on
 * the stack. An exchange answered later (from a database or vendor
 * callback) stays until the connection's next request or its end. */
static void connection_drop_idle_exchange(http_connection *conn)
{
    if (!conn->closed && conn->state == CONNECTION_IDLE && conn->input_len == 0 && conn->exchange &&
        http_server_holds_many(conn->server)) {
        http_exchange_free(conn->exchange);
        conn->exchange = NULL;
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    http_connection *conn = stream->data;
    (void)buf;
    if (nread < 0) {
        connection_on_peer_gone(conn);
        return;
    }
    conn->input_len += (size_t)nread;
    switch (conn->state) {
    case CONNECTION_CLOSING: /* lingering: the client's bytes are dropped */
        conn->input_off = conn->input_len = 0;
        break;
    case CONNECTION_HANDLING:
        if (conn->input_len - conn->input_off >= INPUT_HELD_MAX)
            connection_stop_reading(conn);
        break;
    case CONNECTION_IDLE:
    case CONNECTION_READING:
        connection_parse(conn);
        connection_drop_idle_exchange(conn);
        break;
    }
}

/* Bytes taken as if the socket had delivered them, through on_alloc and
 * on_read: how the fuzz target cuts requests where it likes, which a real
 * socket never promises. Only while the connection reads, as libuv would. */
void http_connection_receive(http_connection *conn, const char *data, size_t len)
{
    while (len > 0 && conn->reading && !conn->closed) {
        uv_buf_t buf;
        on_alloc((uv_handle_t *)&conn->tcp, len, &buf);
        if (!buf.base) {
            on_read((uv_stream_t *)&conn->tcp, UV_ENOBUFS, &buf);
            return;
        }
        size_t taken = len < buf.len ? len : buf.len;
        memcpy(buf.base, data, taken);
        on_read((uv_stream_t *)&conn->tcp, (ssize_t)taken, &buf);
        data += taken;
        len -= taken;
    }
}

static void connection_start_reading(http_connection *conn)
{
    if (conn->reading || conn->closed || conn->peer_closed)
        return;
    int rc = uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read);
    if (rc != 0) {
        log_warn("http: cannot read from %s: %s", conn->remote_address, uv_strerror(rc));
        http_connection_close(conn);
        return;
    }
    conn->reading = true;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    http_connection *conn = req->data;
    if (conn->closed)
        return;
    if (status < 0 || conn->peer_closed) {
        http_connection_close(conn);
        return;
    }
    uint64_t idle = conn->server->limits.idle_timeout_ms;
    http_connection_arm_timer(conn, idle < LINGER_MS ? idle : LINGER_MS);
}

/* After the last answer: send FIN once it is written, then keep reading (and
 * dropping) a little, so that unread client bytes do not turn the close into
 * a reset that would destroy the answer. The timer bounds both phases. */
static void connection_finish(http_connection *conn)
{
    if (conn->closed || conn->state == CONNECTION_CLOSING)
        return;
    conn->state = CONNECTION_CLOSING;
    conn->input_off = conn->input_len = 0;
    http_connection_arm_timer(conn, conn->server->limits.idle_timeout_ms);
    conn->shutdown.data = conn;
    int rc = uv_shutdown(&conn->shutdown, (uv_stream_t *)&conn->tcp, on_shutdown);
    if (rc != 0) {
        http_connection_close(conn);
        return;
    }
    connection_start_reading(conn);
}

/* Keep-alive: back to idle, and on to a pipelined request already buffered.
 * Otherwise the connection finishes once the answer is out. */
void http_connection_after_answer(http_connection *conn, int rc, bool keep_alive)
{
    if (rc != 0) {
        log_warn("http: write to %s failed: %s", conn->remote_address, uv_strerror(rc));
        http_connection_close(conn);
        return;
    }
    if (!keep_alive) {
        connection_finish(conn);
        return;
    }
    conn->state = CONNECTION_IDLE;
    http_connection_arm_timer(conn, conn->server->limits.idle_timeout_ms);
    if (!conn->parsing)
        connection_parse(conn);
}

/* Answers a request the parser or a deadline rejected, then closes. */
static void connection_fail(http_connection *conn, int status, const char *message)
{
    if (conn->closed || conn->state == CONNECTION_CLOSING)
        return;
    if (http_response_write_error(conn, status, message) != 0)
        http_connection_close(conn);
    else
        connection_finish(conn);
}

static void connection_free(http_connection *conn)
{
    http_server *s = conn->server;
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        s->connections = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    s->stats.active_connections--;
    if (conn->exchange)
        http_exchange_free(conn->exchange);
    free(conn->spare);
    free(conn->input);
    free(conn);
    http_server_check_drained(s);
    http_server_check_freed(s);
}

static void on_connection_handle_closed(uv_handle_t *handle)
{
    http_connection *conn = handle->data;
    if (--conn->handles_open == 0)
        connection_free(conn);
}

void http_connection_close(http_connection *conn)
{
    if (conn->closed)
        return;
    conn->closed = true;
    conn->reading = false;
    conn->state = CONNECTION_CLOSING;
    if (conn->exchange && conn->exchange->pending) {
        http_exchange_orphan(conn->exchange);
        conn->exchange = NULL;
    }
    uv_close((uv_handle_t *)&conn->tcp, on_connection_handle_closed);
    uv_close((uv_handle_t *)&conn->timer, on_connection_handle_closed);
}

static void connection_describe_peer(http_connection *conn)
{
    struct sockaddr_storage addr;
    int len = sizeof addr;
    strcpy(conn->remote_address, "unknown");
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&addr, &len) != 0)
        return;
    if (addr.ss_family == AF_INET)
        uv_ip4_name((struct sockaddr_in *)&addr, conn->remote_address, sizeof conn->remote_address);
    else if (addr.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&addr, conn->remote_address, sizeof conn->remote_address);
}

/* Links a fresh connection into the server; its handles are initialised, so
 * from here on http_connection_close is the one way out. */
static http_connection *connection_create(http_server *s)
{
    http_connection *conn = calloc(1, sizeof *conn);
    if (!conn)
        return NULL;
    conn->server = s;
    if (uv_tcp_init(s->loop, &conn->tcp) != 0) {
        free(conn);
        return NULL;
    }
    uv_timer_init(s->loop, &conn->timer); /* cannot fail for a valid loop */
    conn->tcp.data = conn;
    conn->timer.data = conn;
    conn->handles_open = 2;
    conn->state = CONNECTION_IDLE;
    conn->next = s->connections;
    if (s->connections)
        s->connections->prev = conn;
    s->connections = conn;
    s->stats.active_connections++;
    llhttp_init(&conn->parser, HTTP_REQUEST, &s->settings);
    conn->parser.data = conn;
    return conn;
}

/* Past max_connections: a clear answer, then the connection goes, so that a
 * client knows to come back instead of waiting on a backlog nobody reads. */
static void connection_refuse_busy(http_connection *conn)
{
    if (http_response_write_busy(conn) != 0)
        http_connection_close(conn);
    else
        connection_finish(conn);
}

/* Takes a socket the listener accepted and starts reading from it. */
void http_connection_adopt(http_server *s, int fd)
{
    http_connection *conn = connection_create(s);
    if (!conn) {
        log_error("http: out of memory accepting a connection");
        close(fd);
        return;
    }
    int rc = uv_tcp_open(&conn->tcp, fd);
    if (rc != 0) {
        log_warn("http: cannot adopt an accepted connection: %s", uv_strerror(rc));
        close(fd);
        http_connection_close(conn);
        return;
    }
    s->stats.connections++;
    uv_tcp_nodelay(&conn->tcp, 1);
    connection_describe_peer(conn);
    http_connection_arm_timer(conn, s->limits.idle_timeout_ms);
    if (s->limits.max_connections && s->stats.active_connections > s->limits.max_connections) {
        connection_refuse_busy(conn);
        return;
    }
    connection_start_reading(conn);
}
