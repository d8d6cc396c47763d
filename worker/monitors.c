/* Monitors: liveness (/monitors/health, no dependency) and readiness
 * (/monitors/ready, a round trip to PostgreSQL: 503 while it is down), for
 * load balancers and orchestration. */
#include "worker.h"

#include <stdlib.h>

void monitors_health(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    (void)context;
    http_respond(ex, 200, "application/json", "{}", 2);
}

static void on_ready_query(PGresult *res, const app_error *err, void *data)
{
    http_exchange *ex = data;
    (void)res;
    if (err) {
        http_respond_error(ex, err->status, err->message);
        return;
    }
    static const char body[] = "{\"database\":\"up\"}";
    http_respond(ex, 200, "application/json", body, sizeof body - 1);
}

void monitors_ready(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    worker *w = context;
    pg_pool_query(w->db, "SELECT 1", 0, NULL, on_ready_query, ex);
}
