/* The updater link's server side over loopback: a client address that keeps
 * failing the handshake (a wrong secret) is then closed at once, with no
 * challenge, even when it comes with the right secret, until its delay
 * passes; then the right secret is accepted again. */
#include "harness.h"
#include "unit.h"
#include "updater_link.h"

#include <string.h>

#define SECRET "correct horse battery staple"
#define WRONG "correct horse battery stapler"

typedef struct link_server {
    uv_tcp_t tcp;
    attempt_limit *guesses;
    int accepted;
    char last_reason[256]; /* of the last link the server closed */
    int closed;
} link_server;

typedef struct link_outcome {
    bool ready;
    bool closed;
    char reason[256];
} link_outcome;

static void on_server_ready(updater_link *link, void *data)
{
    (void)link;
    (void)data;
}

static void on_any_message(updater_link *link, json_t *message, void *data)
{
    (void)link;
    (void)message;
    (void)data;
}

static void on_server_closed(updater_link *link, const char *reason, void *data)
{
    (void)link;
    link_server *server = data;
    snprintf(server->last_reason, sizeof server->last_reason, "%s", reason);
    server->closed++;
}

static const updater_link_handlers server_handlers = {on_server_ready, on_any_message, on_server_closed};

static void on_connection(uv_stream_t *stream, int status)
{
    link_server *server = stream->data;
    if (status < 0)
        return;
    server->accepted++;
    updater_link *link = updater_link_accept(stream, SECRET, "master", server->guesses, &server_handlers, server);
    CHECK(link != NULL);
}

static void on_client_ready(updater_link *link, void *data)
{
    link_outcome *outcome = data;
    outcome->ready = true;
    updater_link_close(link, "done");
}

static void on_client_closed(updater_link *link, const char *reason, void *data)
{
    (void)link;
    link_outcome *outcome = data;
    outcome->closed = true;
    snprintf(outcome->reason, sizeof outcome->reason, "%s", reason);
}

static const updater_link_handlers client_handlers = {on_client_ready, on_any_message, on_client_closed};

/* One client link with secret, run until both ends closed it. */
static link_outcome attempt(uv_loop_t *loop, link_server *server, int port, const char *secret)
{
    link_outcome outcome = {0};
    int closed_before = server->closed;
    updater_link *link =
        updater_link_connect(loop, "127.0.0.1", port, secret, "client", "tester", &client_handlers, &outcome);
    CHECK(link != NULL);
    CHECK(harness_run_until_true(loop, &outcome.closed, 10000));
    CHECK(harness_run_until_count(loop, &server->closed, closed_before + 1, 10000));
    return outcome;
}

static bool listen_on_loopback(uv_loop_t *loop, link_server *server, int *port)
{
    struct sockaddr_in address;
    struct sockaddr_storage bound;
    int len = sizeof bound;
    server->tcp.data = server;
    if (uv_tcp_init(loop, &server->tcp) < 0 || uv_ip4_addr("127.0.0.1", 0, &address) < 0 ||
        uv_tcp_bind(&server->tcp, (const struct sockaddr *)&address, 0) < 0 ||
        uv_listen((uv_stream_t *)&server->tcp, 16, on_connection) < 0 ||
        uv_tcp_getsockname(&server->tcp, (struct sockaddr *)&bound, &len) < 0)
        return false;
    *port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    return true;
}

UNIT_CASE(failing_handshakes_close_the_address, NULL)
{
    uv_loop_t loop;
    if (!CHECK(uv_loop_init(&loop) == 0))
        return;
    attempt_limit_settings settings = {.free_failures = 2, .first_delay_ms = 300, .max_delay_ms = 300};
    link_server server = {.guesses = attempt_limit_create(&settings, 64)};
    int port = 0;
    if (!CHECK(server.guesses != NULL) || !CHECK(listen_on_loopback(&loop, &server, &port)))
        return;
    CHECK(attempt(&loop, &server, port, SECRET).ready);
    for (int i = 0; i < 3; i++) {
        link_outcome wrong = attempt(&loop, &server, port, WRONG);
        CHECK(!wrong.ready);
        CHECK(strstr(server.last_reason, "too many failed handshakes") == NULL); /* a real refusal */
    }
    /* Blocked: closed at accept, before any challenge, the right secret too. */
    link_outcome blocked = attempt(&loop, &server, port, SECRET);
    CHECK(!blocked.ready);
    CHECK_STR(server.last_reason, "too many failed handshakes from this address");
    /* Once the delay passed, the right secret is welcome again. */
    link_outcome later = {0};
    for (int i = 0; i < 50 && !later.ready; i++) {
        uv_sleep(50);
        later = attempt(&loop, &server, port, SECRET);
    }
    CHECK(later.ready);
    uv_close((uv_handle_t *)&server.tcp, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    attempt_limit_destroy(server.guesses);
}
