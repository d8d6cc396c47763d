/* HTTP server and router, end to end over loopback: the servers run on a
 * libuv loop in a thread of their own, while each case drives them from the
 * main thread with the harness's blocking client (its receive timeouts turn
 * a server bug into a failed check instead of a hang) and checks every byte
 * that matters. Loop-side observations travel back through atomics and the
 * /stats route. */
#include "harness.h"
#include "http_router.h"
#include "http_server.h"
#include "unit.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The servers under test and what the loop thread saw. */
typedef struct test_state {
    uv_loop_t loop;
    pthread_t loop_thread;
    uv_async_t stop; /* from the main thread: close the servers */
    http_server *server;
    http_server *short_idle_server; /* idle_timeout_ms short enough to wait for */
    int port;
    int short_idle_port;
    atomic_int pending_outcome;      /* 0: not yet, 1: saw aborted, 2: never aborted */
    atomic_uint pending_after_abort; /* stats.pending_exchanges after the late answer */
    atomic_int drained;
    atomic_uint drained_connections; /* stats.active_connections when the drain ended */
    atomic_int closed;
    atomic_int short_idle_closed;
    http_server_stats final_stats;
} test_state;

static test_state state;

static const http_limits server_limits = {
    .max_header_bytes = 1024,
    .max_body_bytes = 1024,
    .header_timeout_ms = 200,
    .idle_timeout_ms = 10000, /* longer than the client's 5 s receive timeout */
    .drain_timeout_ms = 8000,
};

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
    uv_timer_init(&state->loop, &d->timer);
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
    test_state *state = data;
    http_server_stats stats;
    http_server_get_stats(s, &stats);
    atomic_store(&state->drained_connections, stats.active_connections);
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

/* The server's counters as it answers: this exchange is still pending. */
static void route_stats(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    test_state *state = context;
    http_server_stats stats;
    http_server_get_stats(state->server, &stats);
    char body[160];
    int n = snprintf(body, sizeof body, "requests=%llu connections=%llu pending=%u", (unsigned long long)stats.requests,
                     (unsigned long long)stats.connections, (unsigned)stats.pending_exchanges);
    http_respond(ex, 200, "text/plain", body, (size_t)n);
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
    {"GET", "/stats", route_stats},
};

static void handle(http_exchange *ex, void *context)
{
    http_router_dispatch(test_routes, sizeof test_routes / sizeof test_routes[0], ex, context);
}

/* ---- client side ---- */

static bool header_is(const harness_response *r, const char *name, const char *expected)
{
    char value[512];
    const char *got = harness_response_header(r, name, value, sizeof value);
    if (!got || strcmp(got, expected) != 0) {
        fprintf(stderr, "header %s: expected \"%s\", got \"%s\"\n", name, expected, got ? got : "(none)");
        return false;
    }
    return true;
}

/* Sends one request on a fresh connection and reads one response. */
static bool exchange_once(const char *request, harness_response *r, bool expect_close)
{
    harness_client c;
    if (!harness_client_open(&c, state.port))
        return false;
    bool ok = harness_client_send(&c, request) && harness_client_read_response(&c, r, false);
    if (ok && expect_close)
        ok = harness_client_sees_eof(&c);
    harness_client_close(&c);
    return ok;
}

/* Sends request on c and checks the status and body of its answer, which
 * stays in r for further checks. */
static void check_answer(harness_client *c, const char *request, int status, const char *body, harness_response *r)
{
    CHECK(harness_client_send(c, request));
    CHECK(harness_client_read_response(c, r, false));
    CHECK(r->status == status);
    CHECK_STR(r->body, body);
}

/* A refused request on a fresh connection: its status, and the close. */
static void check_refused(const char *request, int status, harness_response *r)
{
    CHECK(exchange_once(request, r, true));
    CHECK(r->status == status);
}

/* A fresh connection in c, request sent on it, and its first answer in r. */
static void open_and_ask(harness_client *c, const char *request, harness_response *r, bool head_request)
{
    CHECK(harness_client_open(c, state.port));
    CHECK(harness_client_send(c, request));
    CHECK(harness_client_read_response(c, r, head_request));
}

/* One keep-alive GET /hello on c, answered 200. */
static bool hello_answered(harness_client *c)
{
    harness_response r;
    return harness_client_send(c, "GET /hello HTTP/1.1\r\n\r\n") && harness_client_read_response(c, &r, false) &&
           r.status == 200;
}

/* Waits up to ten seconds for the loop thread to set *value. */
static int wait_atomic(atomic_int *value)
{
    const struct timespec pause = {.tv_nsec = 20 * 1000 * 1000};
    for (int i = 0; i < 500 && atomic_load(value) == 0; i++)
        nanosleep(&pause, NULL);
    return atomic_load(value);
}

/* ---- the servers' loop, in a thread of its own ---- */

static void *loop_main(void *data)
{
    (void)data;
    uv_run(&state.loop, UV_RUN_DEFAULT);
    return NULL;
}

static void on_server_closed(void *data)
{
    atomic_store((atomic_int *)data, 1);
}

/* Closes the servers that started, and the handle that asked for it. */
static void on_stop(uv_async_t *async)
{
    if (state.server) {
        http_server_get_stats(state.server, &state.final_stats);
        http_server_close(state.server, on_server_closed, &state.closed);
    }
    if (state.short_idle_server)
        http_server_close(state.short_idle_server, on_server_closed, &state.short_idle_closed);
    uv_close((uv_handle_t *)async, NULL);
}

/* Starts a server on the loop, on a free loopback port. */
static http_server *server_start(const http_limits *limits, int *port)
{
    http_server *server = http_server_create(&state.loop, limits, handle, &state);
    if (!CHECK(server != NULL))
        return NULL;
    CHECK(http_server_listen(server, "127.0.0.1", 0) == 0);
    *port = http_server_port(server);
    CHECK(*port > 0);
    return server;
}

static bool servers_set_up(void)
{
    if (!CHECK(uv_loop_init(&state.loop) == 0))
        return false;
    if (!CHECK(uv_async_init(&state.loop, &state.stop, on_stop) == 0)) {
        uv_loop_close(&state.loop);
        return false;
    }
    http_limits short_idle = server_limits;
    short_idle.idle_timeout_ms = 300;
    state.server = server_start(&server_limits, &state.port);
    state.short_idle_server = server_start(&short_idle, &state.short_idle_port);
    if (state.server && state.short_idle_server && state.port > 0 && state.short_idle_port > 0 &&
        CHECK(pthread_create(&state.loop_thread, NULL, loop_main, NULL) == 0))
        return true;
    on_stop(&state.stop); /* no loop thread: close what started here */
    uv_run(&state.loop, UV_RUN_DEFAULT);
    uv_loop_close(&state.loop);
    return false;
}

static void servers_tear_down(void)
{
    CHECK(uv_async_send(&state.stop) == 0);
    CHECK(pthread_join(state.loop_thread, NULL) == 0);
    CHECK(atomic_load(&state.closed) == 1);
    CHECK(atomic_load(&state.short_idle_closed) == 1);
    CHECK(state.final_stats.pending_exchanges == 0);
    CHECK(uv_loop_close(&state.loop) == 0);
}

static const unit_fixture servers = {"servers", servers_set_up, servers_tear_down};

/* ---- client side: the cases ---- */

UNIT_CASE(simple_get_and_keep_alive, &servers)
{
    harness_client c;
    harness_response r;
    CHECK(harness_client_open(&c, state.port));
    check_answer(&c, "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n", 200, "hello", &r);
    CHECK(header_is(&r, "Content-Length", "5"));
    CHECK(header_is(&r, "Content-Type", "text/plain"));
    CHECK(header_is(&r, "X-Test", "1"));
    CHECK(header_is(&r, "Connection", "keep-alive"));
    char date[64];
    CHECK(harness_response_header(&r, "Date", date, sizeof date) && strstr(date, " GMT") && strlen(date) == 29);
    CHECK(strncmp(r.head, "HTTP/1.1 200 OK\r\n", 17) == 0);
    /* second request on the same connection */
    check_answer(&c, "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n", 200, "hello", &r);
    harness_client_close(&c);
}

UNIT_CASE(pipelining, &servers)
{
    harness_client c;
    harness_response r;
    CHECK(harness_client_open(&c, state.port));
    CHECK(harness_client_send(&c, "GET /items/1/detail/a HTTP/1.1\r\n\r\n"
                                  "GET /slow HTTP/1.1\r\n\r\n"
                                  "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nthird"));
    CHECK(harness_client_read_response(&c, &r, false));
    CHECK_STR(r.body, "id=1 name=a");
    CHECK(harness_client_read_response(&c, &r, false));
    CHECK_STR(r.body, "slow");
    CHECK(harness_client_read_response(&c, &r, false));
    CHECK_STR(r.body, "third");
    harness_client_close(&c);
}

UNIT_CASE(bodies, &servers)
{
    harness_response r;
    CHECK(
        exchange_once("POST /echo HTTP/1.1\r\nContent-Type: text/x-test\r\nContent-Length: 4\r\n\r\nping", &r, false));
    CHECK(r.status == 200);
    CHECK_STR(r.body, "ping");
    CHECK(header_is(&r, "Content-Type", "text/x-test"));

    CHECK(exchange_once("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
                        &r, false));
    CHECK(r.status == 200);
    CHECK_STR(r.body, "Wikipedia");

    /* 100-continue: the interim answer comes before the body is sent */
    harness_client c;
    open_and_ask(&c, "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", &r, false);
    CHECK(r.status == 100);
    check_answer(&c, "abc", 200, "abc", &r);
    harness_client_close(&c);
}

/* Names and values split across reads are put back together. */
UNIT_CASE(split_headers, &servers)
{
    harness_client c;
    harness_response r;
    const struct timespec pause = {.tv_nsec = 30 * 1000 * 1000};
    CHECK(harness_client_open(&c, state.port));
    const char *parts[] = {"GET /hea", "der HTTP/1.1\r\nX-Sp", "lit:  two ", "halves \r\n", "\r\n"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        CHECK(harness_client_send(&c, parts[i]));
        nanosleep(&pause, NULL);
    }
    CHECK(harness_client_read_response(&c, &r, false));
    CHECK_STR(r.body, "[two halves]");
    harness_client_close(&c);
}

UNIT_CASE(head, &servers)
{
    harness_client c;
    harness_response r;
    open_and_ask(&c, "HEAD /hello HTTP/1.1\r\n\r\n", &r, true);
    CHECK(r.status == 200);
    CHECK(header_is(&r, "Content-Length", "5"));
    /* had the body been sent, this response would not start where expected */
    check_answer(&c, "GET /header HTTP/1.1\r\n\r\n", 200, "[(none)]", &r);
    harness_client_close(&c);
}

/* Reads the /large answer, checking every body byte without keeping it. */
static bool client_read_large(harness_client *c, harness_response *r)
{
    memset(r, 0, sizeof *r);
    size_t head_len;
    char value[64];
    if (!harness_client_read_head(c, r, &head_len) || r->status != 200 ||
        !harness_response_header(r, "Content-Length", value, sizeof value) ||
        strtoul(value, NULL, 10) != LARGE_BODY_BYTES)
        return false;
    harness_client_consume(c, head_len);
    size_t checked = 0;
    while (checked < LARGE_BODY_BYTES) {
        if (c->len == 0 && harness_client_fill(c) <= 0)
            return false;
        size_t n = c->len < LARGE_BODY_BYTES - checked ? c->len : LARGE_BODY_BYTES - checked;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)c->buf[i] != large_body_byte(checked + i))
                return false;
        harness_client_consume(c, n);
        checked += n;
    }
    return true;
}

/* An answer larger than the socket takes at once: the part written at once
 * and the queued rest arrive whole and in order, before the next answer on
 * the connection, and before the FIN of a closing one. */
UNIT_CASE(large_answers, &servers)
{
    harness_client c;
    harness_response r;
    const struct timespec pause = {.tv_nsec = 100 * 1000 * 1000};
    CHECK(harness_client_open(&c, state.port));
    int receive_buffer = 64 * 1024; /* keeps loopback from taking it all at once */
    CHECK(setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer) == 0);
    CHECK(harness_client_send(&c, "GET /large HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n"));
    nanosleep(&pause, NULL); /* the server meets a full socket buffer */
    CHECK(client_read_large(&c, &r));
    CHECK(harness_client_read_response(&c, &r, false));
    CHECK(r.status == 200);
    CHECK_STR(r.body, "hello");
    CHECK(harness_client_send(&c, "GET /large HTTP/1.1\r\nConnection: close\r\n\r\n"));
    nanosleep(&pause, NULL);
    CHECK(client_read_large(&c, &r));
    CHECK(header_is(&r, "Connection", "close"));
    CHECK(harness_client_sees_eof(&c));
    harness_client_close(&c);
}

/* A request on a fresh connection and the status it gets. */
static void check_status(const char *request, int status)
{
    harness_response r;
    CHECK(exchange_once(request, &r, false));
    CHECK(r.status == status);
}

UNIT_CASE(router, &servers)
{
    harness_response r;
    CHECK(exchange_once("GET /nope?x=1 HTTP/1.1\r\n\r\n", &r, false));
    CHECK(r.status == 404);
    CHECK(header_is(&r, "Content-Type", "application/json; charset=utf-8"));
    CHECK_STR(r.body, "{\"statusCode\":404,\"message\":\"Cannot GET /nope\",\"error\":\"Not Found\"}");

    CHECK(exchange_once("GET /only-post HTTP/1.1\r\n\r\n", &r, false));
    CHECK(r.status == 405);
    CHECK(header_is(&r, "Allow", "POST, PUT"));
    CHECK(strstr(r.body, "\"statusCode\":405") != NULL);

    CHECK(exchange_once("DELETE /hello HTTP/1.1\r\n\r\n", &r, false));
    CHECK(r.status == 405);
    CHECK(header_is(&r, "Allow", "GET, HEAD"));

    CHECK(exchange_once("GET /escaped HTTP/1.1\r\n\r\n", &r, false));
    CHECK(r.status == 422);
    CHECK_STR(r.body, "{\"statusCode\":422,\"message\":\"say \\\"hi\\\"\\n\\\\\",\"error\":\"Unprocessable Entity\"}");
}

/* Paths, queries and parameters, decoded once; a parameter that does not
 * decode to clean text is a 400. */
UNIT_CASE(route_parameters, &servers)
{
    harness_response r;
    CHECK(exchange_once("GET /query/?a=1&b=%20 HTTP/1.1\r\n\r\n", &r, false));
    CHECK(r.status == 200);
    CHECK_STR(r.body, "path=/query/ query=a=1&b=%20 target=/query/?a=1&b=%20");

    CHECK(exchange_once("GET /items/a%20b/detail/x%2Fy%e2%82%ac HTTP/1.1\r\n\r\n", &r, false));
    CHECK_STR(r.body, "id=a b name=x/y\xe2\x82\xac");
    CHECK(exchange_once("GET /items/literal/detail/x HTTP/1.1\r\n\r\n", &r, false));
    CHECK_STR(r.body, "ok");
    check_status("GET /items/bad%zz/detail/x HTTP/1.1\r\n\r\n", 400);
    check_status("GET /items/bad%2/detail/x HTTP/1.1\r\n\r\n", 400);
    check_status("GET /items/nul%00/detail/x HTTP/1.1\r\n\r\n", 400);

    char request[1024];
    char long_id[300];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    snprintf(request, sizeof request, "GET /items/%s/detail/x HTTP/1.1\r\n\r\n", long_id);
    check_status(request, 400);
}

UNIT_CASE(size_limits, &servers)
{
    harness_response r;
    check_refused("POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", 413, &r);
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
    check_refused(request, 413, &r);

    char big[2000];
    memset(big, 'h', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(request, sizeof request, "GET /hello HTTP/1.1\r\nX-Big: %s\r\n\r\n", big);
    check_refused(request, 431, &r);

    /* the same bytes arriving in small pieces are counted too */
    harness_client c;
    CHECK(harness_client_open(&c, state.port));
    bool sent = harness_client_send(&c, "GET /hello HTTP/1.1\r\n");
    for (int i = 0; sent && i < 40; i++)
        sent = harness_client_send(&c, "X-Piece: 0123456789012345678901234567890123456789\r\n");
    CHECK(harness_client_read_response(&c, &r, false));
    CHECK(r.status == 431);
    harness_client_close(&c);
}

UNIT_CASE(malformed_requests, &servers)
{
    harness_response r;
    check_refused("HELLO WORLD\r\n\r\n", 400, &r);
    CHECK(strstr(r.body, "\"error\":\"Bad Request\"") != NULL);
    check_refused("GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400, &r);
    check_refused("POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, &r);
    check_refused("POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400, &r);
    check_refused("POST /echo HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, &r);
}

UNIT_CASE(header_timeout, &servers)
{
    harness_response r;
    check_refused("GET /hello HTTP/1.1\r\nHost: half", 408, &r);
    CHECK(header_is(&r, "Connection", "close"));
}

/* The deadlines of one keep-alive connection in turn: the header deadline
 * of a first request passes while the connection idles (it must not close
 * it), then a second request that stalls still gets its 408 on time. */
UNIT_CASE(timeouts_after_a_request, &servers)
{
    harness_client c;
    harness_response r;
    CHECK(harness_client_open(&c, state.port));
    CHECK(hello_answered(&c));
    usleep(450 * 1000); /* past the first header deadline (200 ms) */
    CHECK(hello_answered(&c));
    CHECK(harness_client_send(&c, "GET /hello HTTP/1.1\r\nHost: half"));
    CHECK(harness_client_read_response(&c, &r, false));
    CHECK(r.status == 408);
    CHECK(harness_client_sees_eof(&c));
    harness_client_close(&c);
}

UNIT_CASE(idle_timeout, &servers)
{
    harness_client c;
    CHECK(harness_client_open(&c, state.short_idle_port));
    CHECK(hello_answered(&c));
    CHECK(harness_client_sees_eof(&c)); /* closed silently after idle_timeout_ms */
    harness_client_close(&c);
}

UNIT_CASE(connection_close, &servers)
{
    harness_response r;
    CHECK(exchange_once("GET /hello HTTP/1.0\r\n\r\n", &r, true));
    CHECK(r.status == 200);
    CHECK(header_is(&r, "Connection", "close"));

    harness_client c;
    open_and_ask(&c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r, false);
    CHECK(header_is(&r, "Connection", "keep-alive"));
    CHECK(harness_client_send(&c, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\nGET /hello HTTP/1.1\r\n\r\n"));
    CHECK(harness_client_read_response(&c, &r, false));
    CHECK(r.status == 200);
    CHECK(header_is(&r, "Connection", "close"));
    CHECK(harness_client_sees_eof(&c)); /* and the request after it is not answered */
    harness_client_close(&c);
}

UNIT_CASE(client_gone_while_pending, &servers)
{
    harness_client c;
    CHECK(harness_client_open(&c, state.port));
    CHECK(harness_client_send(&c, "GET /pending HTTP/1.1\r\n\r\n"));
    const struct timespec pause = {.tv_nsec = 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    harness_client_close(&c);
    CHECK(wait_atomic(&state.pending_outcome) == 1);
    CHECK(atomic_load(&state.pending_after_abort) == 0);
}

typedef struct stats_reading {
    unsigned long long requests, connections;
    unsigned pending;
} stats_reading;

/* The server's counters, through /stats on a connection of its own. */
static stats_reading read_stats(void)
{
    stats_reading reading = {0};
    harness_response r;
    CHECK(exchange_once("GET /stats HTTP/1.1\r\n\r\n", &r, false));
    CHECK(sscanf(r.body, "requests=%llu connections=%llu pending=%u", &reading.requests, &reading.connections,
                 &reading.pending) == 3);
    return reading;
}

/* Every connection and every answered request is counted once, and the
 * exchange being answered is the only one pending. */
UNIT_CASE(stats, &servers)
{
    stats_reading before = read_stats();
    harness_client c;
    for (int i = 0; i < 3; i++) {
        CHECK(harness_client_open(&c, state.port));
        CHECK(hello_answered(&c) && hello_answered(&c));
        harness_client_close(&c);
    }
    stats_reading after = read_stats();
    CHECK(after.connections - before.connections == 4);   /* three, and the second reading's */
    CHECK(after.requests - before.requests == 1 + 3 * 2); /* the first reading, then six */
    CHECK(before.pending == 1 && after.pending == 1);
}

/* Past HTTP_BUFFERS_KEPT_UP_TO connections an idle connection keeps no
 * buffers: 100 more keep-alive connections, each answered once, hold about
 * their structures (under 2 KiB each), not a read and a spare write buffer
 * of 16 KiB each. A sanitizer's malloc is its own: there only the answers
 * are checked. */
UNIT_CASE(idle_connections_keep_no_buffers, &servers)
{
    enum { FIRST = HTTP_BUFFERS_KEPT_UP_TO, MORE = 100 };
    harness_client *clients = calloc(FIRST + MORE, sizeof *clients);
    if (!CHECK(clients != NULL))
        return;
    int answered = 0, opened = 0;
    size_t before = 0;
    for (int i = 0; i < FIRST + MORE; i++) {
        if (i == FIRST)
            before = mallinfo2().uordblks;
        if (!harness_client_open(&clients[i], state.port))
            break;
        opened++;
        answered += hello_answered(&clients[i]);
    }
    CHECK(answered == FIRST + MORE);
    harness_client last; /* one more exchange: the loop ran every earlier write's callback */
    if (CHECK(harness_client_open(&last, state.port))) {
        CHECK(hello_answered(&last));
        harness_client_close(&last);
    }
    size_t after = mallinfo2().uordblks;
#ifndef __SANITIZE_ADDRESS__
    CHECK(after >= before && (after - before) / MORE < 2048);
#else
    (void)before;
    (void)after;
#endif
    for (int i = 0; i < opened; i++)
        harness_client_close(&clients[i]);
    free(clients);
}

UNIT_CASE(drain, &servers)
{
    harness_client idle, busy, late;
    harness_response r;
    CHECK(harness_client_open(&idle, state.port));
    CHECK(harness_client_open(&late, state.port));
    CHECK(hello_answered(&idle));
    CHECK(hello_answered(&late));

    CHECK(harness_client_open(&busy, state.port));
    check_answer(&busy, "GET /drain-slow HTTP/1.1\r\n\r\n", 200, "slow", &r);
    CHECK(header_is(&r, "Connection", "close"));
    CHECK(harness_client_sees_eof(&busy));

    /* within the grace, a request on an idle connection is still answered, with close */
    check_answer(&late, "GET /hello HTTP/1.1\r\n\r\n", 200, "hello", &r);
    CHECK(header_is(&r, "Connection", "close"));
    CHECK(harness_client_sees_eof(&late));

    /* closed after the drain grace: the idle timeout is longer than the
     * client's receive timeout, so only the grace can explain the EOF */
    CHECK(harness_client_sees_eof(&idle));

    CHECK(wait_atomic(&state.drained) == 1);
    CHECK(atomic_load(&state.drained_connections) == 0);
    harness_client refused;
    CHECK(!harness_client_open(&refused, state.port));
    harness_client_close(&idle);
    harness_client_close(&busy);
    harness_client_close(&late);
}

/* ---- a server of its own: other ways to listen ---- */

static void closed_flag(void *data)
{
    *(int *)data = 1;
}

/* Listening on an inherited socket and on IPv6, then closing cleanly. */
UNIT_CASE(listen_variants, NULL)
{
    uv_loop_t loop;
    CHECK(uv_loop_init(&loop) == 0);
    int port = 0;
    int fd = harness_silent_listener(&port);
    CHECK(fd >= 0);
    http_server *inherited = http_server_create(&loop, &server_limits, handle, NULL);
    CHECK(http_server_listen_fd(inherited, fd) == 0);
    CHECK(http_server_port(inherited) == port);

    http_server *v6 = http_server_create(&loop, &server_limits, handle, NULL);
    int rc = http_server_listen(v6, "::1", 0);
    CHECK(rc == 0 || rc == UV_EADDRNOTAVAIL);
    if (rc == 0)
        CHECK(http_server_port(v6) > 0);

    int closed_inherited = 0, closed_v6 = 0;
    http_server_close(inherited, closed_flag, &closed_inherited);
    http_server_close(v6, closed_flag, &closed_v6);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(closed_inherited == 1 && closed_v6 == 1);
    CHECK(uv_loop_close(&loop) == 0);
}
