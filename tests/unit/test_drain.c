/* What a worker's drain relies on, one loop in this thread: the HTTP server's
 * drain waits for an exchange whose client left until the handler answers it
 * (bounded by drain_timeout_ms), and a database pool or vendor context closed
 * under work still running answers that work with an error, never freed or
 * NULL memory (ASan checks the rest), once to each waiter of a shared fetch. */
#include "harness.h"
#include "http_client.h"
#include "http_server.h"
#include "pg_pool.h"
#include "shared_fetch.h"
#include "unit.h"
#include "vendor.h"

#include <stdlib.h>
#include <unistd.h>

/* ---- the HTTP server's drain ---- */

typedef struct drain_case {
    uv_loop_t loop;
    http_server *server;
    http_exchange *held; /* the request the handler has not answered */
    bool drained;
    bool closed;
} drain_case;

static void hold_request(http_exchange *ex, void *context)
{
    drain_case *t = context;
    t->held = ex;
}

static void on_drained(http_server *s, void *data)
{
    (void)s;
    drain_case *t = data;
    t->drained = true;
}

static void on_closed(void *data)
{
    drain_case *t = data;
    t->closed = true;
}

static bool request_held(void *data)
{
    return ((drain_case *)data)->held != NULL;
}

static bool exchange_aborted(void *data)
{
    return http_exchange_aborted(((drain_case *)data)->held);
}

/* A server whose handler holds the one request a client sends, the client
 * leaving without waiting for the answer, and then the server's drain. */
static bool drain_after_abandoned_request(drain_case *t, uint64_t drain_timeout_ms)
{
    http_limits limits = {.max_header_bytes = 1024,
                          .max_body_bytes = 1024,
                          .header_timeout_ms = 5000,
                          .idle_timeout_ms = 5000,
                          .drain_timeout_ms = drain_timeout_ms};
    harness_client client = {.fd = -1};
    if (uv_loop_init(&t->loop) != 0)
        return false;
    t->server = http_server_create(&t->loop, &limits, hold_request, t);
    if (!t->server || http_server_listen(t->server, "127.0.0.1", 0) != 0)
        return false;
    if (!harness_client_open(&client, http_server_port(t->server)) ||
        !harness_client_send(&client, "GET /slow HTTP/1.1\r\nHost: test\r\n\r\n"))
        return false;
    if (!harness_run_until(&t->loop, request_held, t, 5000))
        return false;
    harness_client_close(&client);
    if (!harness_run_until(&t->loop, exchange_aborted, t, 5000))
        return false;
    http_server_drain(t->server, on_drained, t);
    return true;
}

static void close_server(drain_case *t)
{
    http_server_close(t->server, on_closed, t);
    CHECK(harness_run_until_true(&t->loop, &t->closed, 5000));
    uv_run(&t->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&t->loop) == 0);
}

UNIT_CASE(drain_waits_for_an_abandoned_request, NULL)
{
    drain_case t = {0};
    if (!CHECK(drain_after_abandoned_request(&t, 5000)))
        return;
    /* No connection is left, but the handler still holds the request. */
    harness_run_until_true(&t.loop, &t.drained, 300);
    CHECK(!t.drained);
    http_respond(t.held, 200, "text/plain", "late", 4);
    CHECK(harness_run_until_true(&t.loop, &t.drained, 2000));
    close_server(&t);
}

UNIT_CASE(drain_timeout_leaves_an_abandoned_request, NULL)
{
    drain_case t = {0};
    if (!CHECK(drain_after_abandoned_request(&t, 100)))
        return;
    CHECK(harness_run_until_true(&t.loop, &t.drained, 2000));
    http_server_stats stats;
    http_server_get_stats(t.server, &stats);
    CHECK(stats.pending_exchanges == 1);
    close_server(&t);
    /* The answer after the server is gone frees the exchange, nothing else. */
    http_respond(t.held, 200, "text/plain", "too late", 8);
}

/* ---- closed under work still running ---- */

typedef struct answer {
    int calls;
    int status;
} answer;

static void on_query(PGresult *res, const app_error *err, void *data)
{
    answer *a = data;
    a->calls++;
    a->status = err ? err->status : (res ? 200 : 0);
}

UNIT_CASE(pool_shut_down_answers_later_queries_with_503, NULL)
{
    uv_loop_t loop;
    if (!CHECK(uv_loop_init(&loop) == 0))
        return;
    /* Nobody listens there: the pool is simply down. */
    char conninfo[128];
    snprintf(conninfo, sizeof conninfo, "postgresql://postgres@127.0.0.1:%d/postgres?connect_timeout=2",
             harness_free_port());
    pg_pool_options options = {.conninfo = conninfo, .size = 2};
    pg_pool *pool = pg_pool_create(&loop, &options);
    if (!CHECK(pool != NULL))
        return;
    pg_pool_shut_down(pool);
    uv_run(&loop, UV_RUN_DEFAULT); /* every handle of the pool closes; its memory stays */
    answer late = {0};
    pg_pool_query(pool, "SELECT 1", 0, NULL, on_query, &late);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(late.calls == 1);
    CHECK(late.status == 503);
    pg_pool_free(pool);
    CHECK(uv_loop_close(&loop) == 0);
}

static void on_payment(vendor_payment *payment, const app_error *err, void *data)
{
    answer *a = data;
    a->calls++;
    a->status = err ? err->status : 200;
    vendor_payment_free(payment);
}

/* A vendor context on loop as a stopping worker leaves it: closed, its
 * client closing. NULL when it cannot be made. */
static vendor_context *closed_vendor_context(uv_loop_t *loop)
{
    if (!CHECK(uv_loop_init(loop) == 0))
        return NULL;
    http_client *client = http_client_create(loop);
    vendor_context *ctx = client ? vendor_context_create(loop, client, 1000) : NULL;
    if (!CHECK(ctx != NULL))
        return NULL;
    vendor_context_close(ctx);
    http_client_close(client, NULL, NULL);
    return ctx;
}

UNIT_CASE(vendor_context_closed_answers_502_without_the_client, NULL)
{
    uv_loop_t loop;
    vendor_context *ctx = closed_vendor_context(&loop);
    if (!ctx)
        return;
    uv_run(&loop, UV_RUN_DEFAULT);
    /* A call after the close, as a password check finishing late makes. */
    vendor_store store = {"closed", "http://127.0.0.1:9", "key", "secret", NULL};
    answer late = {0};
    vendor_find("iamport")->fetch(ctx, &store, "imp_1", on_payment, &late);
    CHECK(late.calls == 0); /* answered from the loop, like every call */
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(late.calls == 1);
    CHECK(late.status == 502);
    vendor_context_destroy(ctx);
    CHECK(uv_loop_close(&loop) == 0);
}

typedef struct shared_answer {
    int calls;
    int status;
} shared_answer;

static void on_shared_payment(const vendor_payment *payment, const app_error *err, void *data)
{
    (void)payment;
    shared_answer *a = data;
    a->calls++;
    a->status = err ? err->status : 200;
}

/* Vendor webhooks for one payment share its fetches: on a closed context
 * both the fetch out and the one waiting for it answer each waiter once. */
UNIT_CASE(shared_fetches_on_a_closed_context_answer_every_waiter_once, NULL)
{
    uv_loop_t loop;
    vendor_context *ctx = closed_vendor_context(&loop);
    if (!ctx)
        return;
    vendor_store store = {"closed", "http://127.0.0.1:9", "key", "secret", NULL};
    shared_fetch_table table = {0};
    shared_answer answers[4] = {{0}};
    for (int i = 0; i < 4; i++)
        shared_fetch_join(&table, ctx, vendor_find("iamport"), &store, "imp_1", on_shared_payment, &answers[i]);
    for (int i = 0; i < 4; i++)
        CHECK(answers[i].calls == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 4; i++)
        CHECK(answers[i].calls == 1 && answers[i].status == 502);
    CHECK(table.fetches == NULL);
    vendor_context_destroy(ctx);
    CHECK(uv_loop_close(&loop) == 0);
}
