/* webhook_outbox: one claim at a time; a kick during a claim asks for
 * another right after it. Closing waits for the timer, the outbox's HTTP
 * client, the claim and every delivery, and frees in one place,
 * maybe_closed(). */
#include "webhook_outbox.h"

#include "log.h"
#include "webhook_delivery.h"
#include "webhook_store.h"

#include <stdlib.h>

struct webhook_outbox {
    webhook_delivery_env env;
    uv_timer_t timer;
    uint64_t claim_ms;
    size_t in_flight;
    bool claiming;
    bool again;         /* kicked during a claim */
    bool claim_failing; /* the last claim failed: logged once until one succeeds */
    bool timer_closed, client_closed;
    void (*closed)(void *data);
    void *closed_data;
};

_Static_assert(WEBHOOK_OUTBOX_MAX_IN_FLIGHT >= WEBHOOK_STORE_CLAIM_BATCH, "a whole batch must fit in flight");

static void claim(webhook_outbox *outbox);

static void maybe_closed(webhook_outbox *outbox)
{
    if (!outbox->env.stopping || !outbox->timer_closed || !outbox->client_closed || outbox->claiming ||
        outbox->in_flight > 0)
        return;
    void (*closed)(void *) = outbox->closed;
    void *closed_data = outbox->closed_data;
    free(outbox);
    if (closed)
        closed(closed_data);
}

static void on_delivered(void *data)
{
    webhook_outbox *outbox = data;
    outbox->in_flight--;
    if (outbox->env.stopping)
        maybe_closed(outbox);
    else
        claim(outbox); /* the next notification of that history may be due now */
}

static void note_claim_result(webhook_outbox *outbox, const app_error *err)
{
    if (err && !outbox->claim_failing)
        log_warn("webhooks: cannot claim notifications (%d %s); retrying", err->status, err->message);
    else if (!err && outbox->claim_failing)
        log_info("webhooks: claiming notifications again");
    outbox->claim_failing = err != NULL;
}

static void on_claimed(webhook_claimed **rows, size_t count, const app_error *err, void *data)
{
    webhook_outbox *outbox = data;
    note_claim_result(outbox, err);
    /* Still "claiming" while deliveries start: one that ends at once
     * cannot free the outbox under this loop. */
    for (size_t i = 0; i < count; i++) {
        outbox->in_flight++;
        webhook_delivery_start(&outbox->env, rows[i], on_delivered, outbox);
    }
    free(rows);
    outbox->claiming = false;
    if (count == WEBHOOK_STORE_CLAIM_BATCH)
        outbox->again = true; /* a full batch: more are likely due */
    if (outbox->again) {
        outbox->again = false;
        claim(outbox);
    }
    maybe_closed(outbox);
}

static void claim(webhook_outbox *outbox)
{
    if (outbox->env.stopping || outbox->in_flight + WEBHOOK_STORE_CLAIM_BATCH > WEBHOOK_OUTBOX_MAX_IN_FLIGHT)
        return;
    if (outbox->claiming) {
        outbox->again = true;
        return;
    }
    outbox->claiming = true;
    webhook_store_claim(outbox->env.db, outbox->claim_ms, on_claimed, outbox);
}

static void on_tick(uv_timer_t *timer)
{
    claim(timer->data);
}

void webhook_outbox_observe(webhook_outbox *outbox, void (*observe)(void *data, bool delivered, uint64_t elapsed_us),
                            void *data)
{
    outbox->env.observe = observe;
    outbox->env.observe_data = data;
}

webhook_outbox *webhook_outbox_create(uv_loop_t *loop, pg_pool *db, const crypto_cbc_key *connection_key,
                                      const seal_ring *history_seal, const cfg *config)
{
    webhook_outbox *outbox = calloc(1, sizeof *outbox);
    http_client *client = outbox ? http_client_create(loop) : NULL;
    if (!client) {
        free(outbox);
        log_error("webhooks: cannot create the outbox");
        return NULL;
    }
    outbox->env = (webhook_delivery_env){
        .db = db,
        .client = client,
        .connection_key = connection_key,
        .history_seal = history_seal,
        .secret = config->webhook_secret,
        .timeout_ms = (long)config->webhook_timeout_ms,
        .schedule = &config->webhook_retry,
        .destinations = webhook_destination_policy_of(config),
    };
    outbox->claim_ms = config->webhook_timeout_ms + WEBHOOK_OUTBOX_CLAIM_GRACE_MS;
    outbox->timer.data = outbox;
    if (uv_timer_init(loop, &outbox->timer) < 0) {
        http_client_close(client, NULL, NULL);
        free(outbox);
        log_error("webhooks: cannot create the outbox timer");
        return NULL;
    }
    if (uv_timer_start(&outbox->timer, on_tick, 0, config->webhook_poll_ms) < 0) {
        webhook_outbox_close(outbox, NULL, NULL); /* frees it from the loop */
        log_error("webhooks: cannot start the outbox timer");
        return NULL;
    }
    return outbox;
}

void webhook_outbox_kick(webhook_outbox *outbox)
{
    if (outbox)
        claim(outbox);
}

static void on_timer_closed(uv_handle_t *handle)
{
    webhook_outbox *outbox = handle->data;
    outbox->timer_closed = true;
    maybe_closed(outbox);
}

static void on_client_closed(void *data)
{
    webhook_outbox *outbox = data;
    outbox->client_closed = true;
    maybe_closed(outbox);
}

void webhook_outbox_close(webhook_outbox *outbox, void (*done)(void *data), void *data)
{
    outbox->env.stopping = true;
    outbox->closed = done;
    outbox->closed_data = data;
    uv_timer_stop(&outbox->timer);
    uv_close((uv_handle_t *)&outbox->timer, on_timer_closed);
    http_client_close(outbox->env.client, on_client_closed, outbox);
}
