/* POST /payments/internal/webhooks/retry: an operator re-sends the
 * notifications that failed their last attempt (all of them, or one
 * history's with ?history_id=), each with a fresh retry schedule.
 * Authenticated with "Authorization: Bearer <PAYMENT_SYSTEM_PASSWORD>";
 * plain JSON both ways, for curl. */
#include "worker.h"

#include "api_input.h"
#include "query_param.h"
#include "system_auth.h"
#include "webhook_outbox.h"
#include "webhook_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct retry_call {
    http_exchange *ex;
    worker *app;
} retry_call;

static void on_retried(long count, const app_error *err, void *data)
{
    retry_call *call = data;
    if (err) {
        http_respond_error(call->ex, err->status, err->message);
    } else {
        if (count > 0)
            webhook_outbox_kick(call->app->outbox);
        char body[64];
        int len = snprintf(body, sizeof body, "{\"retried\":%ld}", count);
        http_respond(call->ex, 201, "application/json; charset=utf-8", body, (size_t)len);
    }
    free(call);
}

void webhooks_retry_failed(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    worker *w = context;
    if (!system_auth_check(ex, w))
        return;
    const http_request *request = http_exchange_request(ex);
    char history_id[40];
    bool one_history = query_param(request->query, "history_id", history_id, sizeof history_id);
    if ((request->query && *request->query && !one_history) || (one_history && !api_input_is_uuid(history_id))) {
        http_respond_error(ex, 400, "history_id must be a UUID");
        return;
    }
    retry_call *call = malloc(sizeof *call);
    if (!call) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    *call = (retry_call){ex, w};
    webhook_store_retry_failed(w->db, one_history ? history_id : NULL, on_retried, call);
}
