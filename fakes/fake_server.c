/* fake_server: the process shell of a fake vendor. It owns the loop, the HTTP
 * server and client, and the stop sequence (signal -> held answers sent ->
 * drain -> close server -> close client -> close signal handles -> loop
 * ends); the vendor only brings its route table and its own state. */
#include "fake_server.h"

#include "fake_control.h"
#include "fake_hold.h"
#include "fake_settings.h"
#include "fake_state.h"
#include "fake_stats.h"
#include "log.h"
#include "run_as.h"

#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fake_runtime {
    fake_server fs; /* first: route handlers receive &fs */
    const fake_server_spec *spec;
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    bool signals_open;
    bool stopping;
} fake_runtime;

static const http_limits fake_limits = {
    .max_header_bytes = 64 * 1024,
    .max_body_bytes = 1024 * 1024,
    .header_timeout_ms = 30000,
    .idle_timeout_ms = 60000,
    .drain_timeout_ms = 5000,
};

void fake_server_route(const fake_server_spec *spec, http_exchange *ex, fake_server *fs)
{
    http_router_dispatch(spec->routes, spec->route_count, ex, fs);
}

static void runtime_handle(http_exchange *ex, void *context)
{
    fake_runtime *rt = context;
    /* fake_respond finds the fake through the exchange. */
    http_exchange_set_data(ex, &rt->fs);
    if (fake_control_serve(&rt->fs, ex))
        return;
    if (rt->spec->serve)
        rt->spec->serve(rt->spec, ex, &rt->fs);
    else
        fake_server_route(rt->spec, ex, &rt->fs);
}

static void runtime_signal_closed(uv_handle_t *handle)
{
    (void)handle;
}

static void runtime_client_closed(void *data)
{
    fake_runtime *rt = data;
    rt->fs.client = NULL;
    if (!rt->signals_open)
        return;
    rt->signals_open = false;
    uv_close((uv_handle_t *)&rt->sigterm, runtime_signal_closed);
    uv_close((uv_handle_t *)&rt->sigint, runtime_signal_closed);
}

static void runtime_http_closed(void *data)
{
    fake_runtime *rt = data;
    rt->fs.http = NULL;
    if (rt->fs.client)
        http_client_close(rt->fs.client, runtime_client_closed, rt);
    else
        runtime_client_closed(rt);
}

static void runtime_drained(http_server *s, void *data)
{
    fake_runtime *rt = data;
    log_info("drained; closing");
    http_server_close(s, runtime_http_closed, rt);
}

static void runtime_on_signal(uv_signal_t *handle, int signum)
{
    fake_runtime *rt = handle->data;
    if (rt->stopping) {
        log_info("signal %d while stopping; still draining", signum);
        return;
    }
    rt->stopping = true;
    log_info("signal %d: stopping; %zu held answers go out now", signum, rt->fs.held_count);
    /* A held answer would keep its connection, and so the drain, waiting. */
    fake_hold_release_all(&rt->fs);
    http_server_drain(rt->fs.http, runtime_drained, rt);
}

static int runtime_start_signals(fake_runtime *rt)
{
    rt->sigterm.data = rt;
    rt->sigint.data = rt;
    if (uv_signal_init(&rt->loop, &rt->sigterm) != 0)
        return -1;
    if (uv_signal_init(&rt->loop, &rt->sigint) != 0) {
        uv_close((uv_handle_t *)&rt->sigterm, runtime_signal_closed);
        return -1;
    }
    rt->signals_open = true;
    if (uv_signal_start(&rt->sigterm, runtime_on_signal, SIGTERM) != 0 ||
        uv_signal_start(&rt->sigint, runtime_on_signal, SIGINT) != 0)
        return -1;
    return 0;
}

/* With --user, started as root: the port is bound, root is no longer needed.
 * A user that cannot be taken stops the fake rather than leaving it root. */
static int runtime_leave_root(fake_server *fs)
{
    if (!fs->settings.user)
        return 0;
    run_as_user user;
    char err[256];
    if (run_as_lookup(fs->settings.user, &user, err, sizeof err) < 0 ||
        (run_as_needed(&user) && run_as_drop(&user, err, sizeof err) < 0)) {
        log_error("--user: %s", err);
        return -1;
    }
    if (getuid() == user.uid)
        log_info("running as user %s (uid %d)", user.name, (int)user.uid);
    return 0;
}

/* Everything up to "listening"; on failure the caller tears down. */
static int runtime_start(fake_runtime *rt)
{
    fake_server *fs = &rt->fs;
    fs->client = http_client_create(&rt->loop);
    fs->http = http_server_create(&rt->loop, &fake_limits, runtime_handle, rt);
    if (!fs->client || !fs->http) {
        log_error("cannot create the HTTP server or client");
        return -1;
    }
    if (runtime_start_signals(rt) != 0) {
        log_error("cannot watch TERM/INT");
        return -1;
    }
    int rc = http_server_listen(fs->http, fs->settings.host, fs->settings.port);
    if (rc != 0) {
        log_error("cannot listen on %s:%d: %s", fs->settings.host, fs->settings.port, uv_strerror(rc));
        return -1;
    }
    log_info("listening on %s:%d", fs->settings.host, http_server_port(fs->http));
    return runtime_leave_root(fs);
}

/* After a failed start: close what was opened and let the loop finish. */
static void runtime_abort(fake_runtime *rt)
{
    if (rt->fs.http) {
        http_server_close(rt->fs.http, runtime_http_closed, rt);
        return;
    }
    if (rt->fs.client) {
        http_client_close(rt->fs.client, runtime_client_closed, rt);
        return;
    }
    runtime_client_closed(rt);
}

static int runtime_run(fake_runtime *rt)
{
    if (uv_loop_init(&rt->loop) != 0) {
        log_error("cannot create the event loop");
        return 1;
    }
    rt->fs.loop = &rt->loop;
    fake_latency_init(&rt->fs.latency, rt->fs.settings.latency);
    rt->fs.billing = (fake_billing_rules){.fail_next = 0, .refuse_amount = rt->fs.settings.refuse_amount};
    int code = 0;
    if (fake_stats_create(&rt->fs, rt->spec->counters) != 0 || fake_state_create(&rt->fs, rt->spec) != 0) {
        log_error("cannot set up the fake's state");
        code = 1;
    } else if (runtime_start(rt) != 0) {
        code = 1;
        runtime_abort(rt);
    }
    uv_run(&rt->loop, UV_RUN_DEFAULT);
    fake_state_destroy(&rt->fs, rt->spec);
    fake_stats_destroy(&rt->fs);
    fake_latency_free(&rt->fs.latency);
    if (uv_loop_close(&rt->loop) != 0)
        log_warn("event loop closed with handles still open");
    if (code == 0)
        log_info("stopped");
    return code;
}

int fake_server_main(int argc, char **argv, const fake_server_spec *spec)
{
    fake_runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return 1;
    rt->spec = spec;
    int code;
    switch (fake_settings_load(&rt->fs.settings, argc, argv, spec)) {
    case FAKE_SETTINGS_HELP:
        code = 0;
        break;
    case FAKE_SETTINGS_ERROR:
        code = 2;
        break;
    default:
        /* A webhook listener that hangs up must not kill the fake. */
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || log_open(spec->name, NULL) != 0) {
            fprintf(stderr, "%s: cannot set up signals or the log\n", spec->name);
            code = 1;
            break;
        }
        code = runtime_run(rt);
        log_close();
        break;
    }
    fake_settings_free(&rt->fs.settings);
    free(rt);
    return code;
}

static void webhook_done(const http_client_response *res, void *data)
{
    (void)data;
    if (res->error)
        log_warn("webhook not delivered: %s", res->error);
    else
        log_info("webhook answered with status %ld", res->status);
}

/* POSTs body (len bytes, of content_type) to the webhook URL; the body stays
 * the caller's. */
static void webhook_send(fake_server *fs, const char *url, const char *content_type, const char *body, size_t len)
{
    fake_stats_count(fs, "webhooks");
    char content_header[128];
    snprintf(content_header, sizeof content_header, "Content-Type: %s", content_type);
    const char *const headers[] = {content_header, NULL};
    http_client_request req = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .body = body,
        .body_len = len,
        .timeout_ms = 10000,
    };
    if (http_client_send(fs->client, &req, webhook_done, NULL) != 0)
        log_error("webhook not sent: the HTTP client refused the request");
}

void fake_server_send_webhook(fake_server *fs, json_t *doc)
{
    fake_server_send_webhook_to(fs, NULL, doc);
}

void fake_server_send_webhook_to(fake_server *fs, const char *url, json_t *doc)
{
    if (!url)
        url = fs->settings.webhook_url;
    if (!url || !fs->client) {
        json_decref(doc);
        return;
    }
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!body) {
        log_error("webhook not sent: cannot encode the document");
        return;
    }
    webhook_send(fs, url, "application/json", body, strlen(body));
    free(body);
}

void fake_server_send_form_webhook(fake_server *fs, const char *form)
{
    if (fs->settings.webhook_url && fs->client)
        webhook_send(fs, fs->settings.webhook_url, "application/x-www-form-urlencoded", form, strlen(form));
}
