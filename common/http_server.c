/* The server: the listening socket, the list of live connections, drain and
 * close. It only listens (http_accept.c accepts); each connection runs its own
 * life (http_connection.c) and reports back here when it is gone. */
#include "http_server_internal.h"

#include "log.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum {
    DRAIN_GRACE_MS = 1000, /* idle keep-alive connections live this long into a drain */
};

http_server *http_server_create(uv_loop_t *loop, const http_limits *limits, http_handler_fn handler, void *context)
{
    http_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->loop = loop;
    s->limits = *limits;
    s->handler = handler;
    s->context = context;
    http_request_parser_settings_init(&s->settings);
    if (uv_timer_init(loop, &s->drain_timer) != 0) {
        free(s);
        return NULL;
    }
    s->drain_timer.data = s;
    s->drain_timer_open = true;
    http_accept_init(s);
    s->accept_pause_open = true;
    s->listener.data = s;
    return s;
}

static void on_server_handle_closed(uv_handle_t *handle)
{
    http_server *s = handle->data;
    if (handle == (uv_handle_t *)&s->listener)
        s->listener_open = false;
    else if (handle == (uv_handle_t *)&s->accept_poll)
        s->accept_poll_open = false;
    else if (handle == (uv_handle_t *)&s->accept_pause)
        s->accept_pause_open = false;
    else
        s->drain_timer_open = false;
    http_server_check_drained(s);
    http_server_check_freed(s);
}

static void server_close_listener(http_server *s)
{
    if (!s->listener_open || s->listener_closing)
        return;
    s->listener_closing = true;
    http_accept_stop(s, on_server_handle_closed);
    uv_close((uv_handle_t *)&s->listener, on_server_handle_closed);
}

static int server_open_listener(http_server *s)
{
    if (s->listener_open || s->draining || s->closing)
        return UV_EINVAL;
    int rc = uv_tcp_init(s->loop, &s->listener);
    if (rc != 0)
        return rc;
    s->listener.data = s;
    s->listener_open = true;
    s->listener_closing = false;
    return 0;
}

static int server_start_listening(http_server *s)
{
    int rc = http_accept_start(s);
    if (rc != 0)
        server_close_listener(s);
    return rc;
}

int http_server_listen_fd(http_server *s, int fd)
{
    int rc = server_open_listener(s);
    if (rc != 0)
        return rc;
    rc = uv_tcp_open(&s->listener, fd);
    if (rc != 0) {
        server_close_listener(s);
        return rc;
    }
    return server_start_listening(s);
}

static int resolve_host(const char *host, int port, struct sockaddr_storage *addr)
{
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)addr) == 0)
        return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)addr) == 0)
        return 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *found = NULL;
    if (getaddrinfo(host, NULL, &hints, &found) != 0 || !found)
        return UV_EINVAL;
    memcpy(addr, found->ai_addr, found->ai_addrlen);
    if (found->ai_family == AF_INET)
        ((struct sockaddr_in *)addr)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)addr)->sin6_port = htons((uint16_t)port);
    freeaddrinfo(found);
    return 0;
}

int http_server_listen(http_server *s, const char *host, int port)
{
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    if (port < 0 || port > 65535 || !host)
        return UV_EINVAL;
    int rc = resolve_host(host, port, &addr);
    if (rc != 0)
        return rc;
    if ((rc = server_open_listener(s)) != 0)
        return rc;
    rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0 && port != 0 && http_server_port(s) != port)
        rc = UV_EADDRINUSE; /* libuv defers that error to uv_listen, which we do not call */
    if (rc != 0) {
        server_close_listener(s);
        return rc;
    }
    return server_start_listening(s);
}

int http_server_port(const http_server *s)
{
    struct sockaddr_storage addr;
    int len = sizeof addr;
    if (!s->listener_open || s->listener_closing ||
        uv_tcp_getsockname(&s->listener, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    if (addr.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&addr)->sin_port);
    if (addr.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    return -1;
}

static void server_close_connections(http_server *s)
{
    for (http_connection *conn = s->connections; conn; conn = conn->next)
        http_connection_close(conn);
}

/* One timer serves the drain: at the deadline it closes what is left, and
 * before it, started at 0 ms, it checks from the loop whether anything is. */
static void on_drain_timer(uv_timer_t *timer)
{
    http_server *s = timer->data;
    uint64_t now = uv_now(s->loop);
    if (now >= s->drain_deadline && !s->drain_expired) {
        s->drain_expired = true;
        server_close_connections(s);
    }
    http_server_check_drained(s);
    if (!s->drain_done_called && !s->drain_expired)
        uv_timer_start(timer, on_drain_timer, s->drain_deadline - now, 0);
}

/* Fires the drain callback once no connection is left and no exchange is
 * with the handler (a client that left does not end its request's work);
 * always from a callback. */
void http_server_check_drained(http_server *s)
{
    if (!s->draining || s->drain_done_called || s->closing || s->listener_open || s->connections)
        return;
    if (s->stats.pending_exchanges > 0 && !s->drain_expired)
        return;
    s->drain_done_called = true;
    uv_timer_stop(&s->drain_timer);
    if (s->drain_done)
        s->drain_done(s, s->drain_data);
}

void http_server_exchange_answered(http_server *s)
{
    if (s->draining && !s->drain_done_called && !s->closing && s->stats.pending_exchanges == 0)
        uv_timer_start(&s->drain_timer, on_drain_timer, 0, 0);
}

void http_server_drain(http_server *s, void (*done)(http_server *s, void *data), void *data)
{
    if (s->draining || s->closing)
        return;
    s->draining = true;
    s->drain_done = done;
    s->drain_data = data;
    s->drain_deadline = uv_now(s->loop) + s->limits.drain_timeout_ms;
    server_close_listener(s);
    uint64_t grace = s->limits.idle_timeout_ms < DRAIN_GRACE_MS ? s->limits.idle_timeout_ms : DRAIN_GRACE_MS;
    for (http_connection *conn = s->connections; conn; conn = conn->next)
        if (conn->state == CONNECTION_IDLE)
            http_connection_arm_timer(conn, grace);
    /* With nothing to wait for, done still runs from the loop. */
    uv_timer_start(&s->drain_timer, on_drain_timer, 0, 0);
}

void http_server_log_requests(http_server *s, bool on)
{
    s->log_requests = on;
}

bool http_server_draining(const http_server *s)
{
    return s->draining;
}

/* Frees s once it is closing and its last handle is gone; exchanges still
 * with the handler forget it. */
void http_server_check_freed(http_server *s)
{
    if (!s->closing || s->listener_open || s->drain_timer_open || s->accept_poll_open || s->accept_pause_open ||
        s->connections)
        return;
    for (http_exchange *ex = s->orphans; ex; ex = ex->orphan_next)
        ex->server = NULL;
    void (*done)(void *data) = s->close_done;
    void *data = s->close_data;
    free(s);
    if (done)
        done(data);
}

void http_server_close(http_server *s, void (*done)(void *data), void *data)
{
    if (s->closing)
        return;
    s->closing = true;
    s->close_done = done;
    s->close_data = data;
    server_close_listener(s);
    http_accept_close(s, on_server_handle_closed);
    uv_close((uv_handle_t *)&s->drain_timer, on_server_handle_closed);
    server_close_connections(s);
}

void http_server_get_stats(const http_server *s, http_server_stats *out)
{
    *out = s->stats;
}

void http_server_observe(http_server *s, http_observer_fn observer, void *data)
{
    s->observer = observer;
    s->observer_data = data;
}
