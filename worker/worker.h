/* The worker's context: everything a request handler may reach, owned by
 * main.c and passed to every route as its context. No other globals. */
#ifndef PAYMENTS_WORKER_H
#define PAYMENTS_WORKER_H

#include "config.h"
#include "crypto.h"
#include "http_client.h"
#include "http_router.h"
#include "http_server.h"
#include "ipc.h"
#include "pg_pool.h"

#include <stdbool.h>
#include <uv.h>

typedef struct worker {
    cfg config;
    uv_loop_t *loop;
    http_server *http;
    pg_pool *db;
    http_client *client;
    ipc_channel *ipc; /* NULL when run without a master */
    crypto_cbc_key connection_key;
    bool draining;
} worker;

/* The route table (routes.c). */
extern const http_route worker_routes[];
extern const size_t worker_route_count;

/* monitors.c */
void monitors_health(http_exchange *ex, const http_route_params *params, void *context);
void monitors_ready(http_exchange *ex, const http_route_params *params, void *context);

#endif
