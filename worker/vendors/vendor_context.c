/* The vendor context: one per worker, shared by every adapter. It counts the
 * work in flight so that vendor_context_destroy never frees what a pending
 * callback still needs: the context goes when the last callback has run. */
#include "vendor_internal.h"

#include "config.h"
#include "request_id.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vendor_context *vendor_context_create(uv_loop_t *loop, http_client *client, long timeout_ms)
{
    if (!loop || !client || timeout_ms < 0)
        return NULL;
    vendor_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->loop = loop;
    ctx->client = client;
    ctx->timeout_ms = timeout_ms;
    return ctx;
}

int vendor_context_configure(vendor_context *ctx, const struct cfg *config)
{
    vendor_timeout *timeouts = calloc(vendor_count(), sizeof *timeouts);
    if (!timeouts)
        return -1;
    for (size_t i = 0; i < vendor_count(); i++) {
        const vendor_adapter *adapter = vendor_at(i);
        snprintf(timeouts[i].code, sizeof timeouts[i].code, "%s", adapter->code);
        timeouts[i].timeout_ms = (long)vendor_settings_timeout_ms(config, adapter);
    }
    free(ctx->timeouts);
    ctx->timeouts = timeouts;
    ctx->timeout_count = vendor_count();
    ctx->circuit_policy.failures = config->circuit_failures;
    ctx->circuit_policy.cooldown_ms = config->circuit_cooldown_ms;
    ctx->calls_limit = config->vendor_concurrency;
    return 0;
}

long vendor_context_timeout(const vendor_context *ctx, const char *code)
{
    for (size_t i = 0; i < ctx->timeout_count; i++)
        if (strcmp(ctx->timeouts[i].code, code) == 0)
            return ctx->timeouts[i].timeout_ms;
    return ctx->timeout_ms;
}

void vendor_context_observe(vendor_context *ctx, vendor_call_observer observer, void *data)
{
    ctx->observer = observer;
    ctx->observer_data = data;
}

const char *const vendor_circuit_state_names[3] = {"closed", "open", "half-open"};

void vendor_context_each_circuit(const vendor_context *ctx,
                                 void (*fn)(void *data, const char *vendor, const char *store_id, unsigned state),
                                 void *data)
{
    for (const vendor_circuit *c = ctx->circuits; c; c = c->next)
        fn(data, c->vendor, c->store_id, (unsigned)c->state);
}

json_t *vendor_context_circuits(const vendor_context *ctx)
{
    return vendor_circuit_list_json(ctx->circuits);
}

bool vendor_context_circuit_open(vendor_context *ctx, const vendor_stores *stores, const char *vendor_code,
                                 const char *store_id)
{
    const vendor_store *store = vendor_stores_find(stores, vendor_code, store_id);
    if (!store)
        return false; /* no account: the call fails for that reason, not its circuit */
    uv_update_time(ctx->loop);
    return vendor_circuit_is_open(ctx->circuits, &ctx->circuit_policy, vendor_code, store->store_id, uv_now(ctx->loop));
}

static void context_free(vendor_context *ctx)
{
    vendor_token_free_all(ctx);
    vendor_circuit_free_all(&ctx->circuits);
    free(ctx->timeouts);
    free(ctx);
}

/* A worker closes its context before its HTTP client but keeps the memory
 * until its loop has ended: work that outlived the drain may still call, and
 * then gets an error instead of a freed or NULL context. */
void vendor_context_close(vendor_context *ctx)
{
    if (ctx)
        ctx->closed = true;
}

/* After this no new request reaches the HTTP client (which the worker may be
 * closing); calls still in flight complete, then the memory goes. */
void vendor_context_destroy(vendor_context *ctx)
{
    if (!ctx || ctx->destroyed)
        return;
    ctx->closed = true;
    ctx->destroyed = true;
    if (ctx->in_flight == 0)
        context_free(ctx);
}

void vendor_context_hold(vendor_context *ctx)
{
    ctx->in_flight++;
}

void vendor_context_release(vendor_context *ctx)
{
    ctx->in_flight--;
    if (ctx->in_flight == 0 && ctx->destroyed)
        context_free(ctx);
}

/* ---- deferred callbacks ---- */

typedef struct vendor_deferred {
    uv_timer_t timer;
    vendor_context *ctx;
    void (*fn)(void *data);
    void *data;
    request_id caller; /* the ambient request id, again when fn runs */
} vendor_deferred;

static void deferred_closed(uv_handle_t *handle)
{
    vendor_deferred *d = handle->data;
    vendor_context *ctx = d->ctx;
    request_id saved;
    request_id_enter(&d->caller, &saved);
    d->fn(d->data);
    request_id_restore(&saved);
    free(d);
    vendor_context_release(ctx);
}

static void deferred_fire(uv_timer_t *timer)
{
    uv_close((uv_handle_t *)timer, deferred_closed);
}

void vendor_later(vendor_context *ctx, void (*fn)(void *data), void *data)
{
    vendor_deferred *d = calloc(1, sizeof *d);
    if (!d || uv_timer_init(ctx->loop, &d->timer) != 0) {
        /* Out of memory: answering now still answers exactly once. */
        free(d);
        fn(data);
        return;
    }
    d->ctx = ctx;
    d->fn = fn;
    request_id_capture(&d->caller);
    d->data = data;
    d->timer.data = d;
    vendor_context_hold(ctx);
    if (uv_timer_start(&d->timer, deferred_fire, 0, 0) != 0)
        uv_close((uv_handle_t *)&d->timer, deferred_closed); /* fn still runs from the loop */
}

/* ---- results ---- */

void vendor_payment_free(vendor_payment *payment)
{
    if (!payment)
        return;
    json_decref(payment->cancels);
    json_decref(payment->data);
    free(payment);
}

void vendor_billing_free(vendor_billing *billing)
{
    if (!billing)
        return;
    json_decref(billing->data);
    free(billing);
}
