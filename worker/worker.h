/* The worker's context: everything a request handler may reach, owned by
 * main.c and passed to every route as its context. No other globals. */
#ifndef PAYMENTS_WORKER_H
#define PAYMENTS_WORKER_H

#include "attempt_limit.h"
#include "config.h"
#include "crypto.h"
#include "http_client.h"
#include "http_router.h"
#include "http_server.h"
#include "ipc.h"
#include "metrics.h"
#include "password.h"
#include "pg_pool.h"
#include "rate_limit.h"
#include "routing/route_table.h"
#include "seal.h"
#include "vendors/vendor.h"
#include "webhooks/shared_fetch.h"

#include <stdbool.h>
#include <uv.h>

typedef struct worker {
    cfg config;
    uv_loop_t *loop;
    http_server *http;
    http_server *operators_http; /* the operators' listener; NULL when none */
    pg_pool *db;
    http_client *client;
    ipc_channel *ipc; /* NULL when run without a master */
    crypto_cbc_key connection_key;
    /* The previous connection key, accepted until the grace period's end
     * (config.connection_grace_until_ms); unset when there is none. */
    crypto_cbc_key connection_previous;
    vendor_context *vendors;
    vendor_stores *stores;
    route_table *routes; /* PAYMENT_ROUTES_FILE's rules; NULL when unset */
    /* Stored vendor documents, one key ring per table. */
    seal_ring history_seal;
    seal_ring cancel_seal;
    seal_ring reservation_seal;
    password_secret password;                 /* keys record password hashes */
    password_secret password_previous;        /* PAYMENT_PASSWORD_SECRET_PREVIOUS; keyed NULL when unset */
    struct webhook_outbox *outbox;            /* notifications to webhook_urls; NULL once stopping */
    struct operation_reconciler *reconciler;  /* settles interrupted operations; NULL once stopping */
    struct subscription_scheduler *scheduler; /* charges due subscriptions; NULL once stopping */
    bool draining;
    /* work.c: requests, thread-pool jobs and other work not yet finished; a
     * draining worker exits only once it is 0. work_idle (set by main.c)
     * runs from the loop each time the count falls to 0. */
    unsigned work_in_flight;
    void (*work_idle)(struct worker *w);
    uv_timer_t work_idle_timer;
    char **argv;         /* for /monitors/system */
    char system_uid[40]; /* random per process start */
    char started_at[32]; /* ISO-8601 */
    char *cluster_json;  /* the master's latest figures of every process, or NULL */
    /* No unlimited guessing (guess_guard.c): failed record passwords per
     * client address and per record, failed system passwords per client
     * address; and the vendor webhook routes' rate per client address. */
    attempt_limit *record_guesses_by_address;
    attempt_limit *record_guesses_by_record;
    attempt_limit *system_guesses_by_address;
    rate_limit *webhook_rate;
    /* Vendor fetches of the payments that vendor webhooks name, shared by
     * concurrent webhooks for one payment (webhooks/shared_fetch.h). */
    shared_fetch_table shared_fetches;
    worker_metrics metrics; /* metrics.c: this worker's slot of the instance's counters */
} worker;

/* work.c: one piece of work starts or ends. Every begin has exactly one end;
 * whatever a request may leave running calls them, so that a drain waits for
 * it whether or not its client is still connected. */
void worker_work_begin(worker *w);
void worker_work_end(worker *w);
/* Opens the timer that reports the count falling to 0; closed by
 * worker_work_close once nothing can begin any more. */
int worker_work_init(worker *w);
void worker_work_close(worker *w);

/* The route tables (routes.c): the public API's and the operators'. */
extern const http_route worker_routes[];
extern const size_t worker_route_count;
extern const http_route worker_operator_routes[];
extern const size_t worker_operator_route_count;

/* operators_listener.c: serves worker_operator_routes on fd, the inherited
 * operators' socket (PAYMENT_ADMIN_LISTEN_FD) or, run alone (fd < 0 and not
 * under_master), binds PAYMENT_ADMIN_HOST:PAYMENT_ADMIN_PORT. */
int operators_listener_open(worker *w, const http_limits *limits, int fd, bool under_master);

/* config_check.c: the vendor stores file and the routing table, read as a
 * starting worker reads them (0, or -1 with one line in err and both NULL);
 * and --check-config: the whole configuration judged, one line on stderr
 * when it is refused. Returns the process's exit status. */
int worker_settings_open(const cfg *c, vendor_stores **stores, route_table **routes, char *err, size_t errlen);
int worker_config_check(void);

/* guess_guard.c: the worker's limiters, made from the configuration. */
int guess_guard_open(worker *w);
void guess_guard_close(worker *w);

/* api/webhook_rate.c: the vendor webhook routes behind a rate per client
 * address (429 with Retry-After past it). */
void webhook_rate_receive(http_exchange *ex, const http_route_params *params, void *context);

/* monitors.c */
void monitors_health(http_exchange *ex, const http_route_params *params, void *context);
void monitors_ready(http_exchange *ex, const http_route_params *params, void *context);
void monitors_performance(http_exchange *ex, const http_route_params *params, void *context);
void monitors_system(http_exchange *ex, const http_route_params *params, void *context);
/* This worker's own figures for the master: IPerformance plus HTTP counters. */
char *monitors_stats_json(const worker *w);
/* Fills system_uid and started_at. */
void monitors_init(worker *w, char **argv);

/* metrics_page.c: GET /metrics, the Prometheus text of every worker's
 * counts (operators' listener only) */
void metrics_page(http_exchange *ex, const http_route_params *params, void *context);

/* api/histories.c */
void histories_create(http_exchange *ex, const http_route_params *params, void *context);
void histories_get(http_exchange *ex, const http_route_params *params, void *context);
void histories_at(http_exchange *ex, const http_route_params *params, void *context);
/* api/cancels.c */
void cancels_create(http_exchange *ex, const http_route_params *params, void *context);
/* api/reservations.c */
void reservations_create(http_exchange *ex, const http_route_params *params, void *context);
void reservations_get(http_exchange *ex, const http_route_params *params, void *context);
void reservations_at(http_exchange *ex, const http_route_params *params, void *context);
/* api/charges.c: a reservation's billing key charged for an order */
void charges_create(http_exchange *ex, const http_route_params *params, void *context);
/* api/charge_attempts.c: the vendor's answers to charges, by password */
void charge_attempts_at(http_exchange *ex, const http_route_params *params, void *context);
void charge_attempts_list(http_exchange *ex, const http_route_params *params, void *context);
/* api/payment_routes.c: which vendor and store a checkout uses */
void payment_routes_resolve(http_exchange *ex, const http_route_params *params, void *context);
/* webhooks/webhook_receive.c: the vendors' webhooks */
void webhooks_receive(http_exchange *ex, worker *w, const vendor_adapter *vendor);
/* webhooks/webhook_retry.c: an operator re-sends failed notifications */
void webhooks_retry_failed(http_exchange *ex, const http_route_params *params, void *context);
/* operations/operation_list.c: an operator lists operations by state */
void operations_list(http_exchange *ex, const http_route_params *params, void *context);
/* webhooks/test_receiver.c: the test receiver (local mode) */
void test_receiver_keep(http_exchange *ex, const http_route_params *params, void *context);
void test_receiver_list(http_exchange *ex, const http_route_params *params, void *context);

#endif
