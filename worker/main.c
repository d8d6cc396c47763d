/* payments-worker: one libuv loop serving HTTP, PostgreSQL and vendor calls.
 * Started by payments-master with the listening socket on PAYMENT_LISTEN_FD,
 * the operators' on PAYMENT_ADMIN_LISTEN_FD, an IPC pipe on
 * PAYMENT_IPC_FD (messages in common/ipc.h) and the shared metrics region on
 * PAYMENT_METRICS_FD (metrics.h); it reports ready, sends stats,
 * and drains when asked (or on QUIT, or when the master goes away). Run
 * alone, it binds PAYMENT_API_HOST:PAYMENT_API_PORT and
 * PAYMENT_ADMIN_HOST:PAYMENT_ADMIN_PORT itself. */
#include "seal_columns.h"
#include "worker.h"

#include "cors.h"
#include "log.h"
#include "operation_reconciler.h"
#include "subscription_scheduler.h"
#include "webhook_outbox.h"

#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct worker_process {
    worker app; /* first: work.c's callbacks get the process back from it */
    uv_signal_t sig_quit, sig_term, sig_int, sig_usr1, sig_hup;
    uv_timer_t stats_timer;
    uv_prepare_t log_flusher; /* writes the turn's log lines before the loop waits */
    uv_timer_t drain_timer;   /* bounds the wait for work in flight */
    unsigned http_draining;   /* HTTP servers (API, operators) not drained yet */
    bool http_drained;        /* no connection left, every exchange answered */
    bool shutting_down;
} worker_process;

static void usage(FILE *out)
{
    fputs("usage: payments-worker [--check-config] [--help]\n"
          "\n"
          "A payments worker: serves the HTTP API on one event loop. Normally started by\n"
          "payments-master; run alone it binds PAYMENT_API_HOST:PAYMENT_API_PORT.\n"
          "Configuration comes from the environment and PAYMENT_ENV_FILE (default .env).\n"
          "\n"
          "  --check-config  read the configuration as a starting worker does (settings,\n"
          "                  vendor URLs, vendor stores file, routing table), opening no\n"
          "                  socket and no database: exit 0 silently when it is usable,\n"
          "                  or 1 with one line on stderr saying why not (what the master\n"
          "                  runs before it starts or replaces workers)\n"
          "  --help          this text\n"
          "\n"
          "Signals: QUIT drains and exits, TERM/INT exit at once, USR1 reopens the log.\n",
          out);
}

static void on_request(http_exchange *ex, void *context)
{
    worker *w = context;
    if (cors_handle(ex, cfg_setting(&w->config, "PAYMENT_CORS_ORIGINS")))
        return;
    http_router_dispatch(worker_routes, worker_route_count, ex, context);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void shut_down(worker_process *p);

static void on_outbox_closed(void *data)
{
    shut_down(data);
}

static void on_reconciler_closed(void *data)
{
    shut_down(data);
}

static void on_scheduler_closed(void *data)
{
    shut_down(data);
}

/* Last step of a drain: every resource closes; uv_run returns when all are.
 * The webhook outbox goes first: it records its interrupted deliveries
 * through the database pool, which closes after it. The vendor context and
 * the pool only close here: their memory stays until the loop has ended, so
 * that work which outlived the drain timeout meets an error, not a NULL or
 * freed pointer (its operation is then the reconciler's). */
static void shut_down(worker_process *p)
{
    worker *w = &p->app;
    if (w->scheduler) {
        /* Its charges are operations: the reconciler outlives them. */
        subscription_scheduler *scheduler = w->scheduler;
        w->scheduler = NULL;
        subscription_scheduler_close(scheduler, on_scheduler_closed, p);
        return;
    }
    if (w->reconciler) {
        /* Its settlements record through the pool and the vendor context. */
        operation_reconciler *reconciler = w->reconciler;
        w->reconciler = NULL;
        operation_reconciler_close(reconciler, on_reconciler_closed, p);
        return;
    }
    if (w->outbox) {
        webhook_outbox *outbox = w->outbox;
        w->outbox = NULL;
        webhook_outbox_close(outbox, on_outbox_closed, p);
        return;
    }
    vendor_context_close(w->vendors);
    http_server_close(w->http, NULL, NULL);
    if (w->operators_http)
        http_server_close(w->operators_http, NULL, NULL);
    w->operators_http = NULL;
    pg_pool_shut_down(w->db);
    http_client_close(w->client, NULL, NULL);
    if (w->ipc)
        ipc_close(w->ipc);
    w->ipc = NULL;
    worker_work_close(w);
    close_handle((uv_handle_t *)&p->drain_timer);
    close_handle((uv_handle_t *)&p->stats_timer);
    close_handle((uv_handle_t *)&p->log_flusher);
    close_handle((uv_handle_t *)&p->sig_quit);
    close_handle((uv_handle_t *)&p->sig_term);
    close_handle((uv_handle_t *)&p->sig_int);
    close_handle((uv_handle_t *)&p->sig_usr1);
    close_handle((uv_handle_t *)&p->sig_hup);
}

static void begin_shut_down(worker_process *p)
{
    if (p->shutting_down)
        return;
    p->shutting_down = true;
    uv_timer_stop(&p->drain_timer);
    shut_down(p);
}

/* A drain ends when the HTTP server has nothing left (connections, and
 * exchanges whose client left) and no other work is in flight. */
static void finish_drain_when_idle(worker_process *p)
{
    if (!p->http_drained || p->app.work_in_flight > 0)
        return;
    log_info("drained, exiting");
    begin_shut_down(p);
}

static void on_work_idle(worker *w)
{
    finish_drain_when_idle((worker_process *)w);
}

/* Once for each server, the API's and the operators'. */
static void on_drained(http_server *s, void *data)
{
    (void)s;
    worker_process *p = data;
    if (p->http_draining > 0 && --p->http_draining > 0)
        return;
    p->http_drained = true;
    finish_drain_when_idle(p);
}

static void on_drain_timeout(uv_timer_t *timer)
{
    worker_process *p = timer->data;
    http_server_stats http;
    http_server_get_stats(p->app.http, &http);
    log_warn("drain: %u piece(s) of work and %u request(s) still in flight after %llu ms, exiting anyway; "
             "what they leave unsettled is the reconciler's",
             p->app.work_in_flight, http.pending_exchanges, (unsigned long long)p->app.config.drain_timeout_ms);
    begin_shut_down(p);
}

static void start_drain(worker_process *p, const char *why)
{
    worker *w = &p->app;
    if (w->draining)
        return;
    w->draining = true;
    log_info("draining (%s)", why);
    if (w->ipc)
        ipc_send_draining(w->ipc);
    w->work_idle = on_work_idle;
    if (uv_timer_start(&p->drain_timer, on_drain_timeout, w->config.drain_timeout_ms, 0) < 0)
        log_error("drain: cannot start the drain timer: the drain waits for its work unbounded");
    p->http_draining = w->operators_http ? 2 : 1;
    http_server_drain(w->http, on_drained, p);
    if (w->operators_http)
        http_server_drain(w->operators_http, on_drained, p);
}

static void send_stats(uv_timer_t *timer)
{
    worker_process *p = timer->data;
    metrics_publish(&p->app);
    if (!p->app.ipc)
        return;
    char *stats = monitors_stats_json(&p->app);
    if (stats)
        ipc_send_stats(p->app.ipc, stats);
    free(stats);
}

static void on_drain_message(const char *payload, void *process)
{
    (void)payload;
    start_drain(process, "asked by master");
}

static void on_cluster_message(const char *payload, void *process)
{
    worker_process *p = process;
    ipc_keep_payload(&p->app.cluster_json, payload);
}

/* What the master says (common/ipc.h). */
static const ipc_handler master_messages[IPC_KIND_COUNT] = {
    [IPC_DRAIN] = on_drain_message,
    [IPC_CLUSTER] = on_cluster_message,
};

static void on_ipc(ipc_channel *ch, const char *line, void *data)
{
    if (line)
        ipc_dispatch(ch, line, master_messages, data);
    else
        start_drain(data, "master went away");
}

static void on_signal(uv_signal_t *handle, int signum)
{
    worker_process *p = handle->data;
    if (signum == SIGQUIT) {
        start_drain(p, "SIGQUIT");
    } else if (signum == SIGUSR1) {
        if (log_reopen() < 0)
            log_error("cannot reopen the log file");
        else
            log_info("log file reopened");
    } else if (signum == SIGTERM || signum == SIGINT) {
        /* Fast stop: the master is tearing everything down. */
        log_info("stopping at once (signal %d)", signum);
        log_flush();
        _exit(0);
    }
}

static int watch_signal(worker_process *p, uv_signal_t *h, int signum)
{
    h->data = p;
    if (uv_signal_init(p->app.loop, h) < 0)
        return -1;
    return uv_signal_start(h, on_signal, signum);
}

static int env_fd(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return -1;
    char *end;
    long fd = strtol(v, &end, 10);
    return (*end || fd < 0 || fd > 1024) ? -1 : (int)fd;
}

static int open_listener(worker *w)
{
    int fd = env_fd("PAYMENT_LISTEN_FD");
    int rc =
        fd >= 0 ? http_server_listen_fd(w->http, fd) : http_server_listen(w->http, w->config.host, w->config.api_port);
    if (rc < 0)
        log_error("cannot listen: %s", uv_strerror(rc));
    return rc;
}

static int open_ipc(worker_process *p)
{
    int fd = env_fd("PAYMENT_IPC_FD");
    if (fd < 0)
        return 0;
    p->app.ipc = ipc_create(p->app.loop, "master", on_ipc, p);
    if (!p->app.ipc || ipc_open_fd(p->app.ipc, fd) < 0 || ipc_start(p->app.ipc) < 0) {
        log_error("cannot open the IPC channel on fd %d", fd);
        return -1;
    }
    return 0;
}

static int open_database(worker *w)
{
    char *conninfo = cfg_postgres_conninfo(&w->config);
    if (!conninfo)
        return -1;
    pg_pool_options options = {
        .conninfo = conninfo,
        .schema = w->config.postgres.schema,
        .size = w->config.postgres.pool_size,
        .max_queue = w->config.postgres.queue_size,
    };
    w->db = pg_pool_create(w->loop, &options);
    free(conninfo);
    return w->db ? 0 : -1;
}

static int open_http(worker *w)
{
    http_limits limits = {
        .max_header_bytes = w->config.max_header_bytes,
        .max_body_bytes = w->config.max_body_bytes,
        .header_timeout_ms = w->config.header_timeout_ms,
        .idle_timeout_ms = w->config.idle_timeout_ms,
        .drain_timeout_ms = w->config.drain_timeout_ms,
        .max_connections = w->config.max_connections,
    };
    w->http = http_server_create(w->loop, &limits, on_request, w);
    if (!w->http || open_listener(w) < 0)
        return -1;
    http_server_log_requests(w->http, true);
    return operators_listener_open(w, &limits, env_fd("PAYMENT_ADMIN_LISTEN_FD"), env_fd("PAYMENT_LISTEN_FD") >= 0);
}

/* What the payment routes need: vendor credentials and calls, the key rings
 * of stored documents and the password secret. */
static int open_payments(worker *w)
{
    const cfg *c = &w->config;
    if (seal_ring_configure(&w->history_seal, c, SEAL_RING_HISTORY) < 0 ||
        seal_ring_configure(&w->cancel_seal, c, SEAL_RING_CANCEL) < 0 ||
        seal_ring_configure(&w->reservation_seal, c, SEAL_RING_RESERVATION) < 0) {
        log_error("PAYMENT_HISTORY/CANCEL_HISTORY/RESERVATION_ENCRYPTION_KEY/IV or their previous keys unusable");
        return -1;
    }
    if (password_secret_init(&w->password, c->password_secret) < 0 ||
        (c->password_secret_previous && password_secret_init(&w->password_previous, c->password_secret_previous) < 0)) {
        log_error("cannot derive the password secret");
        return -1;
    }
    char err[512];
    if (worker_settings_open(c, &w->stores, &w->routes, err, sizeof err) < 0) {
        log_error("%s", err);
        return -1;
    }
    w->vendors = vendor_context_create(w->loop, w->client, (long)c->vendor_timeout_ms);
    if (!w->vendors || vendor_context_configure(w->vendors, c) < 0) {
        log_error("cannot create the vendor context");
        return -1;
    }
    return 0;
}

/* After the loop ended, so no callback can reach them any more: key
 * material is wiped, the rest freed. */
static void close_payments(worker *w)
{
    vendor_context_destroy(w->vendors);
    w->vendors = NULL;
    pg_pool_free(w->db);
    w->db = NULL;
    vendor_stores_free(w->stores);
    w->stores = NULL;
    route_table_free(w->routes);
    w->routes = NULL;
    seal_ring_clear(&w->history_seal);
    seal_ring_clear(&w->cancel_seal);
    seal_ring_clear(&w->reservation_seal);
    password_secret_clear(&w->password);
    password_secret_clear(&w->password_previous);
    crypto_cbc_key_clear(&w->connection_key);
    crypto_cbc_key_clear(&w->connection_previous);
    guess_guard_close(w);
}

static void flush_log(uv_prepare_t *handle)
{
    (void)handle;
    log_flush();
}

/* An access line per request costs a write(2) each unbatched: the lines of
 * one turn of the loop go out together, before it waits. The flusher does
 * not keep the loop alive; shut_down closes it. */
static int start_log_batches(worker_process *p)
{
    p->log_flusher.data = p;
    if (uv_prepare_init(p->app.loop, &p->log_flusher) < 0 || uv_prepare_start(&p->log_flusher, flush_log) < 0)
        return -1;
    uv_unref((uv_handle_t *)&p->log_flusher);
    log_set_batched(true);
    return 0;
}

static int start_worker(worker_process *p)
{
    worker *w = &p->app;
    const cfg_cipher *c = &w->config.connection_cipher;
    if (crypto_cbc_key_init(&w->connection_key, c->key, c->iv) < 0) {
        log_error("PAYMENT_CONNECTION_ENCRYPTION_KEY/IV unusable");
        return -1;
    }
    const cfg_cipher *previous = &w->config.connection_previous;
    if (previous->key && crypto_cbc_key_init(&w->connection_previous, previous->key, previous->iv) < 0) {
        log_error("PAYMENT_CONNECTION_ENCRYPTION_KEY/IV_PREVIOUS unusable");
        return -1;
    }
    w->client = http_client_create(w->loop);
    if (!w->client || guess_guard_open(w) < 0 || open_payments(w) < 0 || open_database(w) < 0 || open_http(w) < 0 ||
        open_ipc(p) < 0)
        return -1;
    w->outbox = webhook_outbox_create(w->loop, w->db, &w->connection_key, &w->history_seal, &w->config);
    if (!w->outbox)
        return -1;
    w->reconciler = operation_reconciler_create(w);
    if (!w->reconciler)
        return -1;
    metrics_open(w); /* a worker it fails for serves unmeasured (logged) */
    w->scheduler = subscription_scheduler_create(w);
    if (!w->scheduler)
        return -1;
    p->drain_timer.data = p;
    if (worker_work_init(w) < 0 || uv_timer_init(w->loop, &p->drain_timer) < 0)
        return -1;
    if (watch_signal(p, &p->sig_quit, SIGQUIT) < 0 || watch_signal(p, &p->sig_term, SIGTERM) < 0 ||
        watch_signal(p, &p->sig_int, SIGINT) < 0 || watch_signal(p, &p->sig_usr1, SIGUSR1) < 0 ||
        watch_signal(p, &p->sig_hup, SIGHUP) < 0)
        return -1;
    p->stats_timer.data = p;
    if (uv_timer_init(w->loop, &p->stats_timer) < 0 || uv_timer_start(&p->stats_timer, send_stats, 0, 1000) < 0)
        return -1;
    if (start_log_batches(p) < 0 || (w->ipc && ipc_send_ready(w->ipc) < 0))
        return -1;
    log_info("ready on port %d", http_server_port(w->http));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--check-config") == 0)
        return worker_config_check();
    if (argc > 1) {
        int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    static worker_process p;
    char err[256];
    if (cfg_load(&p.app.config, err, sizeof err) < 0) {
        fprintf(stderr, "payments-worker: %s\n", err);
        return 1;
    }
    if (log_open("worker", p.app.config.log_file) < 0)
        fprintf(stderr, "payments-worker: cannot open log file, logging to stderr\n");
    log_set_format(p.app.config.log_format);
    if (vendor_settings_check(&p.app.config, err, sizeof err) < 0) {
        fprintf(stderr, "payments-worker: %s\n", err);
        cfg_free(&p.app.config);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    p.app.loop = uv_default_loop();
    monitors_init(&p.app, argv);
    if (start_worker(&p) < 0) {
        log_error("start-up failed");
        return 1;
    }
    uv_run(p.app.loop, UV_RUN_DEFAULT);
    uv_loop_close(p.app.loop);
    close_payments(&p.app);
    metrics_close(&p.app);
    free(p.app.cluster_json);
    cfg_free(&p.app.config);
    log_close();
    return 0;
}
