/* webhook_rate: the vendor webhook routes are open to anyone (a webhook's
 * body is never trusted, each one costs a vendor call), so each client
 * address gets a token bucket (PAYMENT_WEBHOOK_RATE, _BURST) before the
 * handler runs; past it, 429 with Retry-After, which vendors honour. */
#include "too_many.h"
#include "worker.h"

#include <stdio.h>

static bool within_rate(http_exchange *ex, worker *w)
{
    const char *address = http_exchange_request(ex)->remote_address;
    uint64_t wait_ms = rate_limit_take(w->webhook_rate, address ? address : "", uv_now(w->loop));
    if (wait_ms == 0)
        return true;
    too_many_respond(ex, wait_ms, "too many webhooks from this address");
    return false;
}

/* The route /payments/webhooks/:vendor: an unknown name is answered as the
 * router answers an unknown path, before any token is taken. */
void webhook_rate_receive(http_exchange *ex, const http_route_params *params, void *context)
{
    const vendor_adapter *adapter = vendor_find_webhook(http_route_param(params, "vendor"));
    if (!adapter) {
        const http_request *request = http_exchange_request(ex);
        char message[512];
        snprintf(message, sizeof message, "Cannot %s %s", request->method_name, request->path);
        http_respond_error(ex, 404, message);
        return;
    }
    if (within_rate(ex, context))
        webhooks_receive(ex, context, adapter);
}
