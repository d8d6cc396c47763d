/* HTTP server and router, end to end over loopback: the server runs on a uv
 * loop in the main thread; a client thread drives it with raw blocking
 * sockets (with receive timeouts, so a bug fails a check instead of hanging)
 * and checks every byte that matters. Loop-side observations travel back
 * through atomics. */
#include "http_router.h"
#include "http_server.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef struct test_state {
    uv_loop_t *loop;
    http_server *server;
    http_server *short_idle_server; /* idle_timeout_ms short enough to wait for */
    uv_async_t client_finished;
    int port;
    int short_idle_port;
    atomic_int pending_outcome;      /* 0: not yet, 1: saw aborted, 2: never aborted */
    atomic_uint pending_after_abort; /* stats.pending_exchanges after the late answer */
    atomic_int drained;
    atomic_int closed;
    atomic_int short_idle_closed;
    http_server_stats final_stats;
} test_state;

/* ---- loop side: routes ---- */

typedef struct deferred {
    uv_timer_t timer;
    http_exchange *ex;
    test_state *state;
    int ticks;
} deferred;

static void deferred_free(uv_handle_t *handle)
{
    free(handle->data);
}

static void deferred_start(http_exchange *ex, test_state *state, uint64_t delay, uint64_t repeat, uv_timer_cb cb)
{
    deferred *d = calloc(1, sizeof *d);
    if (!d) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    d->ex = ex;
    d->state = state;
    uv_timer_init(state->loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, cb, delay, repeat);
}

static void route_hello(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params, (void)context;
    http_exchange_add_header(ex, "X-Test", "1");
    http_respond(ex, 200, "text/plain", "hello", 5);
}

static void route_echo(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params, (void)context;
    const http_request *req = http_exchange_request(ex);
    if (req->body[req->body_len] != '\0') {
        http_respond_error(ex, 500, "body not terminated");
        return;
    }
    const char *type = http_request_header(req, "content-type");
    http_respond(ex, 200, type ? type : "application/octet-stream", req->body, req->body_len);
}

static void route_header(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params, (void)context;
    const char *value = http_request_header(http_exchange_request(ex), "x-split");
    char body[256];
    snprintf(body, sizeof body, "[%s]", value ? value : "(none)");
    http_respond(ex, 200, "text/plain", body, strlen(body));
}

static void route_query(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params, (void)context;
    const http_request *req = http_exchange_request(ex);
    char body[512];
    snprintf(body, sizeof body, "path=%s query=%s target=%s", req->path, req->query ? req->query : "(none)",
             req->target);
    http_respond(ex, 200, "text/plain", body, strlen(body));
}

static void route_item(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)context;
    const char *id = http_route_param(params, "id");
    const char *name = http_route_param(params, "name");
    char body[600];
    snprintf(body, sizeof body, "id=%s name=%s", id ? id : "(null)", name ? name : "(null)");
    http_respond(ex, 200, "text/plain", body, strlen(body));
}

static void route_ok(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params, (void)context;
    http_respond(ex, 200, "text/plain", "ok", 2);
}

static void route_escaped(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params, (void)context;
    http_respond_error(ex, 422, "say \"hi\"\n\\");
}

enum {
    LARGE_BODY_BYTES = 4 * 1024 * 1024, /* well past the socket buffers: written in parts */
};

static unsigned char large_body_byte(size_t i)
{
    return (unsigned char)(i * 7 + i / 251);
}

static void route_large(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params, (void)context;
    unsigned char *body = malloc(LARGE_BODY_BYTES);
    if (!body) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    for (size_t i = 0; i < LARGE_BODY_BYTES; i++)
        body[i] = large_body_byte(i);
    http_respond(ex, 200, "application/octet-stream", body, LARGE_BODY_BYTES);
    free(body);
}

static void slow_fire(uv_timer_t *timer)
{
    deferred *d = timer->data;
    http_respond(d->ex, 200, "text/plain", "slow", 4);
    uv_close((uv_handle_t *)&d->timer, deferred_free);
}

static void route_slow(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    deferred_start(ex, context, 100, 0, slow_fire);
}

/* Polls until the client is seen gone, then answers late. */
static void pending_tick(uv_timer_t *timer)
{
    deferred *d = timer->data;
    bool aborted = http_exchange_aborted(d->ex);
    if (!aborted && ++d->ticks < 250)
        return;
    atomic_store(&d->state->pending_outcome, aborted ? 1 : 2);
    http_respond(d->ex, 200, "text/plain", "too late", 8);
    http_server_stats stats;
    http_server_get_stats(d->state->server, &stats);
    atomic_store(&d->state->pending_after_abort, stats.pending_exchanges);
    uv_close((uv_handle_t *)&d->timer, deferred_free);
}

static void route_pending(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    deferred_start(ex, context, 20, 20, pending_tick);
}

static void on_drained(http_server *s, void *data)
{
    (void)s;
    test_state *state = data;
    atomic_fetch_add(&state->drained, 1);
}

/* A drain arrives while this request is in flight; it still completes. */
static void route_drain_slow(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    test_state *state = context;
    http_server_drain(state->server, on_drained, state);
    deferred_start(ex, state, 100, 0, slow_fire);
}

static const http_route test_routes[] = {
    {"GET", "/hello", route_hello},
    {"POST", "/echo", route_echo},
    {"GET", "/header", route_header},
    {"GET", "/query", route_query},
    {"GET", "/items/literal/detail/x", route_ok},
    {"GET", "/items/:id/detail/:name", route_item},
    {"POST", "/only-post", route_ok},
    {"PUT", "/only-post", route_ok},
    {"GET", "/escaped", route_escaped},
    {"GET", "/slow", route_slow},
    {"GET", "/pending", route_pending},
    {"GET", "/drain-slow", route_drain_slow},
    {"GET", "/large", route_large},
};

static void handle(http_exchange *ex, void *context)
{
    http_router_dispatch(test_routes, sizeof test_routes / sizeof test_routes[0], ex, context);
}

/* ---- client side: blocking sockets ---- */

typedef struct client {
    int fd;
    char buf[65536];
    size_t len;
} client;

typedef struct response {
    int status;
    char head[8192];
    char body[16384];
    size_t body_len;
} response;

static bool client_open(client *c, int port)
{
    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return false;
    struct timeval timeout = {.tv_sec = 5};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(c->fd);
        c->fd = -1;
        return false;
    }
    return true;
}

static void client_close(client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static bool client_send_bytes(client *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static bool client_send(client *c, const char *text)
{
    return client_send_bytes(c, text, strlen(text));
}

/* Reads more bytes; returns the count, 0 at EOF, -1 on error or timeout. */
static ssize_t client_fill(client *c)
{
    if (c->len == sizeof c->buf)
        return -1;
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

static void client_consume(client *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Value of a header in r (first match), copied to out; NULL when absent. */
static const char *response_header(const response *r, const char *name, char *out, size_t cap)
{
    size_t name_len = strlen(name);
    for (const char *line = strstr(r->head, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
        const char *start = line + 2;
        if (strncasecmp(start, name, name_len) == 0 && start[name_len] == ':') {
            const char *value = start + name_len + 1;
            while (*value == ' ')
                value++;
            size_t len = strcspn(value, "\r");
            if (len >= cap)
                len = cap - 1;
            memcpy(out, value, len);
            out[len] = '\0';
            return out;
        }
    }
    return NULL;
}

static bool client_read_head(client *c, response *r, size_t *head_len)
{
    char *end;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        if (client_fill(c) <= 0)
            return false;
    *head_len = (size_t)(end - c->buf) + 4;
    if (*head_len >= sizeof r->head)
        return false;
    memcpy(r->head, c->buf, *head_len);
    r->head[*head_len] = '\0';
    return sscanf(r->head, "HTTP/1.1 %d ", &r->status) == 1;
}

/* One whole response; for HEAD no body is read, whatever Content-Length says. */
static bool client_read_response(client *c, response *r, bool head)
{
    memset(r, 0, sizeof *r);
    size_t head_len;
    if (!client_read_head(c, r, &head_len))
        return false;
    char value[64];
    size_t length = response_header(r, "Content-Length", value, sizeof value) ? strtoul(value, NULL, 10) : 0;
    if (head || r->status == 100)
        length = 0;
    if (length >= sizeof r->body)
        return false;
    while (c->len < head_len + length)
        if (client_fill(c) <= 0)
            return false;
    memcpy(r->body, c->buf + head_len, length);
    r->body[length] = '\0';
    r->body_len = length;
    client_consume(c, head_len + length);
    return true;
}

/* True when the server closed the connection with nothing more to say. */
static bool client_sees_eof(client *c)
{
    if (c->len > 0)
        return false;
    ssize_t n = client_fill(c);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

static bool header_is(const response *r, const char *name, const char *expected)
{
    char value[512];
    const char *got = response_header(r, name, value, sizeof value);
    if (!got || strcmp(got, expected) != 0) {
        fprintf(stderr, "header %s: expected \"%s\", got \"%s\"\n", name, expected, got ? got : "(none)");
        return false;
    }
    return true;
}

/* Sends one request on a fresh connection and reads one response. */
static bool exchange_once(int port, const char *request, response *r, bool expect_close)
{
    client c;
    if (!client_open(&c, port))
        return false;
    bool ok = client_send(&c, request) && client_read_response(&c, r, false);
    if (ok && expect_close)
        ok = client_sees_eof(&c);
    client_close(&c);
    return ok;
}

/* ---- client side: the cases ---- */

static void test_simple_get_and_keep_alive(int port)
{
    client c;
    response r;
    CHECK(client_open(&c, port));
    CHECK(client_send(&c, "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"));
    CHECK(client_read_response(&c, &r, false));
    CHECK(r.status == 200);
    CHECK_STR(r.body, "hello");
    CHECK(header_is(&r, "Content-Length", "5"));
    CHECK(header_is(&r, "Content-Type", "text/plain"));
    CHECK(header_is(&r, "X-Test", "1"));
    CHECK(header_is(&r, "Connection", "keep-alive"));
    char date[64];
    CHECK(response_header(&r, "Date", date, sizeof date) && strstr(date, " GMT") && strlen(date) == 29);
    CHECK(strncmp(r.head, "HTTP/1.1 200 OK\r\n", 17) == 0);
    /* second request on the same connection */
    CHECK(client_send(&c, "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"));
    CHECK(client_read_response(&c, &r, false));
    CHECK(r.status == 200);
    CHECK_STR(r.body, "hello");
    client_close(&c);
}

static void test_pipelining(int port)
{
    client c;
    response r;
    CHECK(client_open(&c, port));
    CHECK(client_send(&c, "GET /items/1/detail/a HTTP/1.1\r\n\r\n"
                          "GET /slow HTTP/1.1\r\n\r\n"
                          "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nthird"));
    CHECK(client_read_response(&c, &r, false));
    CHECK_STR(r.body, "id=1 name=a");
    CHECK(client_read_response(&c, &r, false));
    CHECK_STR(r.body, "slow");
    CHECK(client_read_response(&c, &r, false));
    CHECK_STR(r.body, "third");
    client_close(&c);
}

static void test_bodies(int port)
{
    response r;
    CHECK(exchange_once(port, "POST /echo HTTP/1.1\r\nContent-Type: text/x-test\r\nContent-Length: 4\r\n\r\nping", &r,
                        false));
    CHECK(r.status == 200);
    CHECK_STR(r.body, "ping");
    CHECK(header_is(&r, "Content-Type", "text/x-test"));

    CHECK(exchange_once(port,
                        "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
                        &r, false));
    CHECK(r.status == 200);
    CHECK_STR(r.body, "Wikipedia");

    /* 100-continue: the interim answer comes before the body is sent */
    client c;
    CHECK(client_open(&c, port));
    CHECK(client_send(&c, "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"));
    CHECK(client_read_response(&c, &r, false));
    CHECK(r.status == 100);
    CHECK(client_send(&c, "abc"));
    CHECK(client_read_response(&c, &r, false));
    CHECK(r.status == 200);
    CHECK_STR(r.body, "abc");
    client_close(&c);
}

/* Names and values split across reads are put back together. */
static void test_split_headers(int port)
{
    client c;
    response r;
    const struct timespec pause = {.tv_nsec = 30 * 1000 * 1000};
    CHECK(client_open(&c, port));
    const char *parts[] = {"GET /hea", "der HTTP/1.1\r\nX-Sp", "lit:  two ", "halves \r\n", "\r\n"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        CHECK(client_send(&c, parts[i]));
        nanosleep(&pause, NULL);
    }
    CHECK(client_read_response(&c, &r, false));
    CHECK_STR(r.body, "[two halves]");
    client_close(&c);
}

static void test_head(int port)
{
    client c;
    response r;
    CHECK(client_open(&c, port));
    CHECK(client_send(&c, "HEAD /hello HTTP/1.1\r\n\r\n"));
    CHECK(client_read_response(&c, &r, true));
    CHECK(r.status == 200);
    CHECK(header_is(&r, "Content-Length", "5"));
    /* had the body been sent, this response would not start where expected */
    CHECK(client_send(&c, "GET /header HTTP/1.1\r\n\r\n"));
    CHECK(client_read_response(&c, &r, false));
    CHECK(r.status == 200);
    CHECK_STR(r.body, "[(none)]");
    client_close(&c);
}

/* Reads the /large answer, checking every body byte without keeping it. */
static bool client_read_large(client *c, response *r)
{
    memset(r, 0, sizeof *r);
    size_t head_len;
    char value[64];
    if (!client_read_head(c, r, &head_len) || r->status != 200 ||
        !response_header(r, "Content-Length", value, sizeof value) ||
        strtoul(value, NULL, 10) != LARGE_BODY_BYTES)
        return false;
    client_consume(c, head_len);
    size_t checked = 0;
    while (checked < LARGE_BODY_BYTES) {
        if (c->len == 0 && client_fill(c) <= 0)
            return false;
        size_t n = c->len < LARGE_BODY_BYTES - checked ? c->len : LARGE_BODY_BYTES - checked;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)c->buf[i] != large_body_byte(checked + i))
                return false;
        client_consume(c, n);
        checked += n;
    }
    return true;
}

/* An answer larger than the socket takes at once: the part written at once
 * and the queued rest arrive whole and in order, before the next answer on
 * the connection, and before the FIN of a closing one. */
static void test_large_answers(int port)
{
    client c;
    response r;
    const struct timespec pause = {.tv_nsec = 100 * 1000 * 1000};
    CHECK(client_open(&c, port));
    int receive_buffer = 64 * 1024; /* keeps loopback from taking it all at once */
    CHECK(setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer) == 0);
    CHECK(client_send(&c, "GET /large HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n"));
    nanosleep(&pause, NULL); /* the server meets a full socket buffer */
    CHECK(client_read_large(&c, &r));
    CHECK(client_read_response(&c, &r, false));
    CHECK(r.status == 200);
    CHECK_STR(r.body, "hello");
    CHECK(client_send(&c, "GET /large HTTP/1.1\r\nConnection: close\r\n\r\n"));
    nanosleep(&pause, NULL);
    CHECK(client_read_large(&c, &r));
    CHECK(header_is(&r, "Connection", "close"));
    CHECK(client_sees_eof(&c));
    client_close(&c);
}

static void test_router(int port)
{
    response r;
    CHECK(exchange_once(port, "GET /nope?x=1 HTTP/1.1\r\n\r\n", &r, false));
    CHECK(r.status == 404);
    CHECK(header_is(&r, "Content-Type", "application/json; charset=utf-8"));
    CHECK_STR(r.body, "{\"statusCode\":404,\"message\":\"Cannot GET /nope\",\"error\":\"Not Found\"}");

    CHECK(exchange_once(port, "GET /only-post HTTP/1.1\r\n\r\n", &r, false));
    CHECK(r.status == 405);
    CHECK(header_is(&r, "Allow", "POST, PUT"));
    CHECK(strstr(r.body, "\"statusCode\":405") != NULL);

    CHECK(exchange_once(port, "DELETE /hello HTTP/1.1\r\n\r\n", &r, false));
    CHECK(r.status == 405);
    CHECK(header_is(&r, "Allow", "GET, HEAD"));

    CHECK(exchange_once(port, "GET /query/?a=1&b=%20 HTTP/1.1\r\n\r\n", &r, false));
    CHECK(r.status == 200);
    CHECK_STR(r.body, "path=/query/ query=a=1&b=%20 target=/query/?a=1&b=%20");

    CHECK(exchange_once(port, "GET /items/a%20b/detail/x%2Fy%e2%82%ac HTTP/1.1\r\n\r\n", &r, false));
    CHECK_STR(r.body, "id=a b name=x/y\xe2\x82\xac");
    CHECK(exchange_once(port, "GET /items/literal/detail/x HTTP/1.1\r\n\r\n", &r, false));
    CHECK_STR(r.body, "ok");
    CHECK(exchange_once(port, "GET /items/bad%zz/detail/x HTTP/1.1\r\n\r\n", &r, false));
    CHECK(r.status == 400);
    CHECK(exchange_once(port, "GET /items/bad%2/detail/x HTTP/1.1\r\n\r\n", &r, false));
    CHECK(r.status == 400);
    CHECK(exchange_once(port, "GET /items/nul%00/detail/x HTTP/1.1\r\n\r\n", &r, false));
    CHECK(r.status == 400);

    char request[1024];
    char long_id[300];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    snprintf(request, sizeof request, "GET /items/%s/detail/x HTTP/1.1\r\n\r\n", long_id);
    CHECK(exchange_once(port, request, &r, false));
    CHECK(r.status == 400);

    CHECK(exchange_once(port, "GET /escaped HTTP/1.1\r\n\r\n", &r, false));
    CHECK(r.status == 422);
    CHECK_STR(r.body, "{\"statusCode\":422,\"message\":\"say \\\"hi\\\"\\n\\\\\",\"error\":\"Unprocessable Entity\"}");
}

static void test_limits(int port)
{
    response r;
    CHECK(exchange_once(port, "POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", &r, true));
    CHECK(r.status == 413);
    CHECK(header_is(&r, "Connection", "close"));
    CHECK(strstr(r.body, "\"error\":\"Payload Too Large\"") != NULL);

    /* chunked: only the running total can tell */
    char request[4096];
    char chunk[801];
    memset(chunk, 'x', 800);
    chunk[800] = '\0';
    snprintf(request, sizeof request,
             "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n%s\r\n320\r\n%s\r\n0\r\n\r\n", chunk,
             chunk);
    CHECK(exchange_once(port, request, &r, true));
    CHECK(r.status == 413);

    char big[2000];
    memset(big, 'h', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(request, sizeof request, "GET /hello HTTP/1.1\r\nX-Big: %s\r\n\r\n", big);
    CHECK(exchange_once(port, request, &r, true));
    CHECK(r.status == 431);

    /* the same bytes arriving in small pieces are counted too */
    client c;
    CHECK(client_open(&c, port));
    bool sent = client_send(&c, "GET /hello HTTP/1.1\r\n");
    for (int i = 0; sent && i < 40; i++)
        sent = client_send(&c, "X-Piece: 0123456789012345678901234567890123456789\r\n");
    CHECK(client_read_response(&c, &r, false));
    CHECK(r.status == 431);
    client_close(&c);

    CHECK(exchange_once(port, "HELLO WORLD\r\n\r\n", &r, true));
    CHECK(r.status == 400);
    CHECK(strstr(r.body, "\"error\":\"Bad Request\"") != NULL);
    CHECK(exchange_once(port, "GET / HTTP/1.1\r\nBad Header\r\n\r\n", &r, true));
    CHECK(r.status == 400);
    CHECK(exchange_once(port, "POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", &r, true));
    CHECK(r.status == 501);
    CHECK(exchange_once(port, "POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", &r, true));
    CHECK(r.status == 400);
    CHECK(exchange_once(port, "POST /echo HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                        &r, true));
    CHECK(r.status == 400);
}

static void test_header_timeout(int port)
{
    client c;
    response r;
    CHECK(client_open(&c, port));
    CHECK(client_send(&c, "GET /hello HTTP/1.1\r\nHost: half"));
    CHECK(client_read_response(&c, &r, false));
    CHECK(r.status == 408);
    CHECK(header_is(&r, "Connection", "close"));
    CHECK(client_sees_eof(&c));
    client_close(&c);
}

/* One keep-alive GET /hello on c, answered 200. */
static bool hello_answered(client *c)
{
    response r;
    return client_send(c, "GET /hello HTTP/1.1\r\n\r\n") && client_read_response(c, &r, false) && r.status == 200;
}

/* The deadlines of one keep-alive connection in turn: the header deadline
 * of a first request passes while the connection idles (it must not close
 * it), then a second request that stalls still gets its 408 on time. */
static void test_timeouts_after_a_request(int port)
{
    client c;
    response r;
    CHECK(client_open(&c, port));
    CHECK(hello_answered(&c));
    usleep(450 * 1000); /* past the first header deadline (200 ms) */
    CHECK(hello_answered(&c));
    CHECK(client_send(&c, "GET /hello HTTP/1.1\r\nHost: half"));
    CHECK(client_read_response(&c, &r, false));
    CHECK(r.status == 408);
    CHECK(client_sees_eof(&c));
    client_close(&c);
}

static void test_idle_timeout(int port)
{
    client c;
    CHECK(client_open(&c, port));
    CHECK(hello_answered(&c));
    CHECK(client_sees_eof(&c)); /* closed silently after idle_timeout_ms */
    client_close(&c);
}

static void test_connection_close(int port)
{
    response r;
    CHECK(exchange_once(port, "GET /hello HTTP/1.0\r\n\r\n", &r, true));
    CHECK(r.status == 200);
    CHECK(header_is(&r, "Connection", "close"));

    client c;
    CHECK(client_open(&c, port));
    CHECK(client_send(&c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    CHECK(client_read_response(&c, &r, false));
    CHECK(header_is(&r, "Connection", "keep-alive"));
    CHECK(client_send(&c, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\nGET /hello HTTP/1.1\r\n\r\n"));
    CHECK(client_read_response(&c, &r, false));
    CHECK(r.status == 200);
    CHECK(header_is(&r, "Connection", "close"));
    CHECK(client_sees_eof(&c)); /* and the request after it is not answered */
    client_close(&c);
}

static void test_client_gone_while_pending(test_state *state)
{
    client c;
    CHECK(client_open(&c, state->port));
    CHECK(client_send(&c, "GET /pending HTTP/1.1\r\n\r\n"));
    const struct timespec pause = {.tv_nsec = 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    client_close(&c);
    for (int i = 0; i < 200 && atomic_load(&state->pending_outcome) == 0; i++)
        nanosleep(&pause, NULL);
    CHECK(atomic_load(&state->pending_outcome) == 1);
    CHECK(atomic_load(&state->pending_after_abort) == 0);
}

static void test_drain(test_state *state)
{
    client idle, busy, late;
    response r;
    int port = state->port;
    CHECK(client_open(&idle, port));
    CHECK(client_open(&late, port));
    CHECK(client_send(&idle, "GET /hello HTTP/1.1\r\n\r\n"));
    CHECK(client_read_response(&idle, &r, false));
    CHECK(client_send(&late, "GET /hello HTTP/1.1\r\n\r\n"));
    CHECK(client_read_response(&late, &r, false));

    CHECK(client_open(&busy, port));
    CHECK(client_send(&busy, "GET /drain-slow HTTP/1.1\r\n\r\n"));
    CHECK(client_read_response(&busy, &r, false));
    CHECK(r.status == 200);
    CHECK_STR(r.body, "slow");
    CHECK(header_is(&r, "Connection", "close"));
    CHECK(client_sees_eof(&busy));

    /* within the grace, a request on an idle connection is still answered, with close */
    CHECK(client_send(&late, "GET /hello HTTP/1.1\r\n\r\n"));
    CHECK(client_read_response(&late, &r, false));
    CHECK(r.status == 200);
    CHECK(header_is(&r, "Connection", "close"));
    CHECK(client_sees_eof(&late));

    /* closed after the drain grace: the idle timeout is longer than the
     * client's receive timeout, so only the grace can explain the EOF */
    CHECK(client_sees_eof(&idle));

    const struct timespec pause = {.tv_nsec = 20 * 1000 * 1000};
    for (int i = 0; i < 250 && atomic_load(&state->drained) == 0; i++)
        nanosleep(&pause, NULL);
    CHECK(atomic_load(&state->drained) == 1);
    client refused;
    CHECK(!client_open(&refused, port));
    client_close(&idle);
    client_close(&busy);
    client_close(&late);
}

static void *client_main(void *data)
{
    test_state *state = data;
    int port = state->port;
    test_simple_get_and_keep_alive(port);
    test_pipelining(port);
    test_bodies(port);
    test_split_headers(port);
    test_head(port);
    test_large_answers(port);
    test_router(port);
    test_limits(port);
    test_header_timeout(port);
    test_timeouts_after_a_request(port);
    test_idle_timeout(state->short_idle_port);
    test_connection_close(port);
    test_client_gone_while_pending(state);
    test_drain(state);
    uv_async_send(&state->client_finished);
    return NULL;
}

/* ---- main: the loop ---- */

static void on_server_closed(void *data)
{
    test_state *state = data;
    atomic_store(&state->closed, 1);
}

static void on_short_idle_server_closed(void *data)
{
    test_state *state = data;
    atomic_store(&state->short_idle_closed, 1);
}

static void on_client_finished(uv_async_t *async)
{
    test_state *state = async->data;
    http_server_get_stats(state->server, &state->final_stats);
    http_server_close(state->server, on_server_closed, state);
    http_server_close(state->short_idle_server, on_short_idle_server_closed, state);
    uv_close((uv_handle_t *)async, NULL);
}

static void closed_flag(void *data)
{
    *(int *)data = 1;
}

/* Listening on an inherited socket and on IPv6, then closing cleanly. */
static void test_listen_variants(uv_loop_t *loop, const http_limits *limits)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(fd, 16) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
    http_server *inherited = http_server_create(loop, limits, handle, NULL);
    CHECK(http_server_listen_fd(inherited, fd) == 0);
    CHECK(http_server_port(inherited) == ntohs(addr.sin_port));

    http_server *v6 = http_server_create(loop, limits, handle, NULL);
    int rc = http_server_listen(v6, "::1", 0);
    CHECK(rc == 0 || rc == UV_EADDRNOTAVAIL);
    if (rc == 0)
        CHECK(http_server_port(v6) > 0);

    int closed_inherited = 0, closed_v6 = 0;
    http_server_close(inherited, closed_flag, &closed_inherited);
    http_server_close(v6, closed_flag, &closed_v6);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(closed_inherited == 1 && closed_v6 == 1);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    uv_loop_t loop;
    CHECK(uv_loop_init(&loop) == 0);
    http_limits limits = {
        .max_header_bytes = 1024,
        .max_body_bytes = 1024,
        .header_timeout_ms = 200,
        .idle_timeout_ms = 10000, /* longer than the client's 5 s receive timeout */
        .drain_timeout_ms = 8000,
    };
    test_listen_variants(&loop, &limits);

    test_state state = {.loop = &loop};
    state.server = http_server_create(&loop, &limits, handle, &state);
    CHECK(state.server != NULL);
    CHECK(http_server_listen(state.server, "127.0.0.1", 0) == 0);
    state.port = http_server_port(state.server);
    CHECK(state.port > 0);
    http_limits short_idle = limits;
    short_idle.idle_timeout_ms = 300;
    state.short_idle_server = http_server_create(&loop, &short_idle, handle, &state);
    CHECK(http_server_listen(state.short_idle_server, "127.0.0.1", 0) == 0);
    state.short_idle_port = http_server_port(state.short_idle_server);
    uv_async_init(&loop, &state.client_finished, on_client_finished);
    state.client_finished.data = &state;

    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, client_main, &state) == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(thread, NULL);

    CHECK(atomic_load(&state.closed) == 1);
    CHECK(atomic_load(&state.short_idle_closed) == 1);
    CHECK(state.final_stats.connections > 20);
    CHECK(state.final_stats.requests > 20);
    CHECK(state.final_stats.pending_exchanges == 0);
    CHECK(state.final_stats.active_connections == 0);
    CHECK(uv_loop_close(&loop) == 0);
    UNIT_REPORT();
}
