/* Unit test for common/http_client: a tiny HTTP/1.1 server on the same libuv
 * loop (127.0.0.1, port 0) answers, fails, or stays silent, and each scenario
 * checks what the client's one callback reports. */
#include "harness.h"
#include "http_client.h"
#include "unit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* ---- the test server ------------------------------------------------------
 * GET/POST/... /echo  200, body "method=M body=B header=H" (H: X-Test value)
 *             /error  500, body "boom"
 *             /silent reads the request and never answers
 *             /big    200, a chunked body of 9 MiB (beyond the client's limit)
 * Connections are kept alive, so the client can reuse them. */

typedef struct test_server test_server;
typedef struct server_connection server_connection;

struct server_connection {
    uv_tcp_t tcp;
    test_server *server;
    char *data;
    size_t len, cap;
    server_connection *prev, *next;
};

struct test_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int port;
    int accepted;
    int requests;
    server_connection *connections;
    void (*on_silent)(test_server *server); /* a /silent request arrived */
    void *data;
};

typedef struct server_write {
    uv_write_t req;
    char *data;
} server_write;

static void on_connection_closed(uv_handle_t *handle)
{
    server_connection *conn = handle->data;
    free(conn->data);
    free(conn);
}

static void connection_close(server_connection *conn)
{
    test_server *server = conn->server;
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        server->connections = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    uv_close((uv_handle_t *)&conn->tcp, on_connection_closed);
}

static void on_server_write(uv_write_t *req, int status)
{
    (void)status; /* the client may have gone away: nothing to do */
    server_write *w = (server_write *)req;
    free(w->data);
    free(w);
}

/* Takes ownership of data. */
static void connection_write(server_connection *conn, char *data, size_t len)
{
    server_write *w = malloc(sizeof *w);
    if (!w) {
        free(data);
        return;
    }
    w->data = data;
    uv_buf_t buf = uv_buf_init(data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&conn->tcp, &buf, 1, on_server_write) != 0) {
        free(data);
        free(w);
    }
}

static void connection_respond(server_connection *conn, int status, const char *body, size_t body_len)
{
    char *response = malloc(body_len + 256);
    if (!response)
        return;
    int head = snprintf(response, 256,
                        "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
                        "Content-Length: %zu\r\n\r\n",
                        status, status == 200 ? "OK" : "Internal Server Error", body_len);
    memcpy(response + head, body, body_len);
    connection_write(conn, response, (size_t)head + body_len);
}

static void connection_respond_big(server_connection *conn)
{
    size_t size = (size_t)9 * 1024 * 1024;
    char *response = malloc(size + 256);
    if (!response)
        return;
    int head = snprintf(response, 256, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n", size);
    memset(response + head, 'x', size);
    memcpy(response + head + size, "\r\n0\r\n\r\n", 7);
    connection_write(conn, response, (size_t)head + size + 7);
}

static void connection_handle(server_connection *conn, const char *head, const char *body, size_t body_len)
{
    char method[16] = "", path[256] = "", x_test[128];
    sscanf(head, "%15s %255s", method, path);
    harness_header_value(head, "X-Test", x_test, sizeof x_test);
    conn->server->requests++;
    if (strcmp(path, "/echo") == 0) {
        char echo[1024];
        int n = snprintf(echo, sizeof echo, "method=%s body=%.*s header=%s", method, (int)body_len, body, x_test);
        connection_respond(conn, 200, echo, (size_t)n);
    } else if (strcmp(path, "/error") == 0) {
        connection_respond(conn, 500, "boom", 4);
    } else if (strcmp(path, "/big") == 0) {
        connection_respond_big(conn);
    } else if (strcmp(path, "/silent") == 0) {
        if (conn->server->on_silent)
            conn->server->on_silent(conn->server);
    } else {
        connection_respond(conn, 404, "", 0);
    }
}

/* Handles every complete request in the buffer; returns -1 on nonsense. */
static int connection_parse(server_connection *conn)
{
    for (;;) {
        if (conn->len == 0)
            return 0;
        conn->data[conn->len] = '\0';
        char *end = strstr(conn->data, "\r\n\r\n");
        if (!end)
            return conn->len > 16384 ? -1 : 0;
        end[2] = '\0'; /* cut after the last header line's CRLF */
        char length[32];
        harness_header_value(conn->data, "Content-Length", length, sizeof length);
        size_t head_len = (size_t)(end - conn->data) + 4;
        size_t body_len = (size_t)strtoul(length, NULL, 10);
        if (conn->len < head_len + body_len) {
            end[2] = '\r';
            return 0;
        }
        connection_handle(conn, conn->data, conn->data + head_len, body_len);
        conn->len -= head_len + body_len;
        memmove(conn->data, conn->data + head_len + body_len, conn->len);
    }
}

static void on_server_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    server_connection *conn = handle->data;
    (void)suggested;
    if (conn->cap - conn->len < 4097) {
        size_t cap = conn->cap ? conn->cap * 2 : 8192;
        char *grown = realloc(conn->data, cap);
        if (!grown) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        conn->data = grown;
        conn->cap = cap;
    }
    *buf = uv_buf_init(conn->data + conn->len, (unsigned)(conn->cap - conn->len - 1));
}

static void on_server_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    server_connection *conn = stream->data;
    if (nread < 0) {
        connection_close(conn);
        return;
    }
    conn->len += (size_t)nread;
    if (connection_parse(conn) < 0)
        connection_close(conn);
}

static void on_server_connection(uv_stream_t *listener, int status)
{
    test_server *server = listener->data;
    if (status < 0)
        return;
    server_connection *conn = calloc(1, sizeof *conn);
    if (!conn || uv_tcp_init(server->loop, &conn->tcp) != 0) {
        free(conn);
        return;
    }
    conn->tcp.data = conn;
    conn->server = server;
    conn->next = server->connections;
    if (conn->next)
        conn->next->prev = conn;
    server->connections = conn;
    if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&conn->tcp, on_server_alloc, on_server_read) != 0) {
        connection_close(conn);
        return;
    }
    server->accepted++;
}

static int test_server_start(test_server *server, uv_loop_t *loop)
{
    memset(server, 0, sizeof *server);
    server->loop = loop;
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int bound_len = sizeof bound;
    if (uv_ip4_addr("127.0.0.1", 0, &addr) != 0 || uv_tcp_init(loop, &server->listener) != 0)
        return -1;
    server->listener.data = server;
    if (uv_tcp_bind(&server->listener, (const struct sockaddr *)&addr, 0) != 0 ||
        uv_listen((uv_stream_t *)&server->listener, 64, on_server_connection) != 0 ||
        uv_tcp_getsockname(&server->listener, (struct sockaddr *)&bound, &bound_len) != 0)
        return -1;
    server->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

static void test_server_close(test_server *server)
{
    while (server->connections)
        connection_close(server->connections);
    uv_close((uv_handle_t *)&server->listener, NULL);
}

/* ---- scenarios ------------------------------------------------------------
 * Each scenario sends requests, records every callback, closes the client
 * once the expected number came back, then closes the server: the loop runs
 * out of handles and uv_run returns. */

typedef struct scenario scenario;

typedef struct test_call {
    scenario *scenario;
    int calls;
    long status;
    bool timed_out;
    bool address_refused;
    bool has_error;
    char error[256];
    char body[1024];
    size_t body_len;
} test_call;

struct scenario {
    uv_loop_t *loop;
    test_server server;
    http_client *client;
    int expected;
    int completed;
    int done_calls;
    test_call calls[24];
};

static void on_client_done(void *data)
{
    scenario *s = data;
    s->done_calls++;
    test_server_close(&s->server);
}

static void record_response(test_call *call, const http_client_response *res)
{
    call->calls++;
    call->status = res->status;
    call->timed_out = res->timed_out;
    call->address_refused = res->address_refused;
    call->has_error = res->error != NULL;
    snprintf(call->error, sizeof call->error, "%s", res->error ? res->error : "");
    call->body_len = res->body_len;
    snprintf(call->body, sizeof call->body, "%s", res->body ? res->body : "(null)");
}

static void on_response(const http_client_response *res, void *data)
{
    test_call *call = data;
    record_response(call, res);
    scenario *s = call->scenario;
    if (++s->completed == s->expected)
        http_client_close(s->client, on_client_done, s);
}

static void scenario_start(scenario *s, uv_loop_t *loop, int expected)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->expected = expected;
    for (size_t i = 0; i < sizeof s->calls / sizeof s->calls[0]; i++)
        s->calls[i].scenario = s;
    CHECK(test_server_start(&s->server, loop) == 0);
    s->server.data = s;
    s->client = http_client_create(loop);
    CHECK(s->client != NULL);
}

static int scenario_send_to(scenario *s, test_call *call, int port, const char *method, const char *path,
                            const char *body, const char *const *headers, long timeout_ms)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    http_client_request req = {
        .method = method,
        .url = url,
        .headers = headers,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = timeout_ms,
    };
    return http_client_send(s->client, &req, on_response, call);
}

static int scenario_send(scenario *s, test_call *call, const char *method, const char *path, const char *body,
                         const char *const *headers, long timeout_ms)
{
    return scenario_send_to(s, call, s->server.port, method, path, body, headers, timeout_ms);
}

static void scenario_run(scenario *s)
{
    uv_run(s->loop, UV_RUN_DEFAULT);
    CHECK(s->done_calls == 1);
    CHECK(s->completed == s->expected);
}

/* ---- tests ------------------------------------------------------------------ */

static uv_loop_t loop;
static uv_timer_t watchdog;

/* One request to the test server, run to its end: answered exactly once,
 * and never from inside the send. */
static void run_one(scenario *s, const char *method, const char *path, const char *body, long timeout_ms)
{
    scenario_start(s, &loop, 1);
    CHECK(scenario_send(s, &s->calls[0], method, path, body, NULL, timeout_ms) == 0);
    CHECK(http_client_pending(s->client) == 1);
    CHECK(s->calls[0].calls == 0);
    scenario_run(s);
    CHECK(s->calls[0].calls == 1);
}

static void on_watchdog(uv_timer_t *timer)
{
    (void)timer;
    fprintf(stderr, "test_http_client: a scenario did not finish in time\n");
    exit(1);
}

/* Scenarios run the loop until it runs out of handles; the watchdog, which
 * does not keep the loop alive, ends a scenario that never would. */
static bool loop_set_up(void)
{
    /* A proxy in the environment must not be used: this one refuses. */
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", harness_free_port());
    setenv("http_proxy", proxy, 1);
    setenv("HTTP_PROXY", proxy, 1);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    if (!CHECK(uv_loop_init(&loop) == 0))
        return false;
    if (!CHECK(uv_timer_init(&loop, &watchdog) == 0)) {
        uv_loop_close(&loop);
        return false;
    }
    uv_timer_start(&watchdog, on_watchdog, 60000, 0);
    uv_unref((uv_handle_t *)&watchdog);
    return true;
}

static void loop_tear_down(void)
{
    uv_close((uv_handle_t *)&watchdog, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0); /* every handle was closed */
}

static const unit_fixture loop_fixture = {"loop", loop_set_up, loop_tear_down};

UNIT_CASE(get, &loop_fixture)
{
    scenario s;
    run_one(&s, "GET", "/echo", NULL, 0);
    CHECK(s.calls[0].status == 200);
    CHECK(!s.calls[0].has_error && !s.calls[0].timed_out);
    CHECK_STR(s.calls[0].body, "method=GET body= header=");
    CHECK(s.calls[0].body_len == strlen("method=GET body= header="));
}

UNIT_CASE(post_and_headers, &loop_fixture)
{
    scenario s;
    scenario_start(&s, &loop, 3);
    const char *headers[] = {"X-Test: custom-value", "Content-Type: application/json", NULL};
    CHECK(scenario_send(&s, &s.calls[0], "POST", "/echo", "{\"a\":1}", headers, 0) == 0);
    CHECK(scenario_send(&s, &s.calls[1], "PUT", "/echo", "put-body", NULL, 0) == 0);
    CHECK(scenario_send(&s, &s.calls[2], "POST", "/echo", NULL, NULL, 0) == 0);
    scenario_run(&s);
    CHECK(s.calls[0].status == 200 && !s.calls[0].has_error);
    CHECK_STR(s.calls[0].body, "method=POST body={\"a\":1} header=custom-value");
    CHECK(s.calls[1].status == 200);
    CHECK_STR(s.calls[1].body, "method=PUT body=put-body header=");
    CHECK_STR(s.calls[2].body, "method=POST body= header=");
}

UNIT_CASE(server_error_is_an_answer, &loop_fixture)
{
    scenario s;
    run_one(&s, "GET", "/error", NULL, 0);
    CHECK(s.calls[0].status == 500);
    CHECK(!s.calls[0].has_error);
    CHECK_STR(s.calls[0].body, "boom");
}

UNIT_CASE(timeout, &loop_fixture)
{
    scenario s;
    run_one(&s, "POST", "/silent", "x", 200);
    CHECK(s.calls[0].timed_out);
    CHECK(s.calls[0].has_error && s.calls[0].error[0] != '\0');
    CHECK(s.calls[0].status == 0);
    CHECK(s.server.requests == 1); /* it did reach the server */
}

UNIT_CASE(connection_refused, &loop_fixture)
{
    scenario s;
    scenario_start(&s, &loop, 1);
    int port = harness_free_port();
    CHECK(port > 0);
    CHECK(scenario_send_to(&s, &s.calls[0], port, "GET", "/echo", NULL, NULL, 0) == 0);
    scenario_run(&s);
    CHECK(s.calls[0].calls == 1);
    CHECK(s.calls[0].status == 0);
    CHECK(s.calls[0].has_error && s.calls[0].error[0] != '\0');
    CHECK(!s.calls[0].timed_out);
    CHECK_STR(s.calls[0].body, "");
}

/* What an address filter saw, and what it answers. */
typedef struct filter_probe {
    bool allow;
    int asked;
    char address[64];
    int port;
} filter_probe;

static bool probe_filter(const struct sockaddr *address, void *data)
{
    filter_probe *probe = data;
    probe->asked++;
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)address;
        inet_ntop(AF_INET, &in->sin_addr, probe->address, sizeof probe->address);
        probe->port = ntohs(in->sin_port);
    }
    return probe->allow;
}

static void run_filtered(scenario *s, filter_probe *probe)
{
    scenario_start(s, &loop, 1);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", s->server.port);
    http_client_request req = {
        .method = "GET", .url = url, .address_filter = probe_filter, .address_filter_data = probe};
    CHECK(http_client_send(s->client, &req, on_response, &s->calls[0]) == 0);
    scenario_run(s);
    CHECK(s->calls[0].calls == 1);
    CHECK(probe->asked >= 1);
    CHECK_STR(probe->address, "127.0.0.1");
    CHECK(probe->port == s->server.port);
}

UNIT_CASE(address_filter_refuses, &loop_fixture)
{
    scenario s;
    filter_probe probe = {.allow = false};
    run_filtered(&s, &probe);
    CHECK(s.calls[0].status == 0 && s.calls[0].has_error);
    CHECK(s.calls[0].address_refused);
    CHECK(strstr(s.calls[0].error, "refused to connect to 127.0.0.1") != NULL);
    CHECK(s.server.accepted == 0); /* refused before connecting */
}

UNIT_CASE(address_filter_allows, &loop_fixture)
{
    scenario s;
    filter_probe probe = {.allow = true};
    run_filtered(&s, &probe);
    CHECK(s.calls[0].status == 200 && !s.calls[0].has_error && !s.calls[0].address_refused);
    CHECK_STR(s.calls[0].body, "method=GET body= header=");
}

UNIT_CASE(body_limit, &loop_fixture)
{
    scenario s;
    run_one(&s, "GET", "/big", NULL, 0);
    CHECK(s.calls[0].status == 0 && s.calls[0].has_error);
    CHECK_STR(s.calls[0].error, "response body too large");
    CHECK(s.calls[0].body_len == 0);
}

UNIT_CASE(concurrent, &loop_fixture)
{
    enum { COUNT = 20 };
    scenario s;
    scenario_start(&s, &loop, COUNT);
    char bodies[COUNT][16];
    for (int i = 0; i < COUNT; i++) {
        snprintf(bodies[i], sizeof bodies[i], "request-%d", i);
        CHECK(scenario_send(&s, &s.calls[i], "POST", "/echo", bodies[i], NULL, 0) == 0);
    }
    CHECK(http_client_pending(s.client) == COUNT);
    scenario_run(&s);
    for (int i = 0; i < COUNT; i++) {
        char expected[64];
        snprintf(expected, sizeof expected, "method=POST body=request-%d header=", i);
        CHECK(s.calls[i].calls == 1);
        CHECK(s.calls[i].status == 200);
        CHECK_STR(s.calls[i].body, expected);
    }
    CHECK(s.server.requests == COUNT);
}

/* The second request is sent from the first one's callback: it must go over
 * the same kept-alive connection. */
static void on_first_of_two(const http_client_response *res, void *data)
{
    test_call *call = data;
    record_response(call, res);
    scenario *s = call->scenario;
    s->completed++;
    CHECK(scenario_send(s, &s->calls[1], "GET", "/echo", NULL, NULL, 0) == 0);
}

UNIT_CASE(connection_reuse, &loop_fixture)
{
    scenario s;
    scenario_start(&s, &loop, 2);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", s.server.port);
    http_client_request req = {.method = "GET", .url = url};
    CHECK(http_client_send(s.client, &req, on_first_of_two, &s.calls[0]) == 0);
    scenario_run(&s);
    CHECK(s.calls[0].status == 200 && s.calls[1].status == 200);
    CHECK(s.server.requests == 2);
    CHECK(s.server.accepted == 1);
}

/* Closing with a transfer in flight: the close happens from the server's
 * read callback, i.e. outside any curl call. */
static void close_when_silent_request_arrives(test_server *server)
{
    scenario *s = server->data;
    CHECK(http_client_pending(s->client) == 1);
    http_client_close(s->client, on_client_done, s);
    CHECK(s->calls[0].calls == 1); /* completed during close */
    CHECK(s->done_calls == 0);     /* done comes later, from the loop */
    CHECK(scenario_send(s, &s->calls[1], "GET", "/echo", NULL, NULL, 0) == -1);
    http_client_close(s->client, on_client_done, s); /* a second close is ignored */
}

UNIT_CASE(close_in_flight, &loop_fixture)
{
    scenario s;
    scenario_start(&s, &loop, 1);
    s.server.on_silent = close_when_silent_request_arrives;
    CHECK(scenario_send(&s, &s.calls[0], "GET", "/silent", NULL, NULL, 5000) == 0);
    scenario_run(&s);
    CHECK(s.calls[0].calls == 1);
    CHECK(s.calls[1].calls == 0);
    CHECK(s.calls[0].status == 0 && !s.calls[0].timed_out);
    CHECK_STR(s.calls[0].error, "client closed");
}

static void count_done(void *data)
{
    (*(int *)data)++;
}

UNIT_CASE(refused_requests, &loop_fixture)
{
    http_client *c = http_client_create(&loop);
    CHECK(c != NULL);
    test_call call = {0};
    http_client_request bad_method = {.method = "GET /x HTTP/1.1\r\nX:", .url = "http://127.0.0.1:1/"};
    const char *bad_header[] = {"X-Test: a\r\nX-Injected: b", NULL};
    http_client_request bad_headers = {.method = "GET", .url = "http://127.0.0.1:1/", .headers = bad_header};
    http_client_request no_url = {.method = "GET"};
    http_client_request negative = {.method = "GET", .url = "http://127.0.0.1:1/", .timeout_ms = -1};
    CHECK(http_client_send(c, &bad_method, on_response, &call) == -1);
    CHECK(http_client_send(c, &bad_headers, on_response, &call) == -1);
    CHECK(http_client_send(c, &no_url, on_response, &call) == -1);
    CHECK(http_client_send(c, &negative, on_response, &call) == -1);
    CHECK(http_client_pending(c) == 0);
    int done = 0;
    http_client_close(c, count_done, &done);
    CHECK(done == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(done == 1);
    CHECK(call.calls == 0);
}
