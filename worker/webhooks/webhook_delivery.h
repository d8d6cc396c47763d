/* webhook_delivery: one attempt at one claimed notification: the body
 * (IPaymentWebhookHistory {id, source, previous, current}, encrypted with
 * the connection key as the original server sends it), its signature, the
 * POST to the history's webhook_url, and the outcome in the outbox: 2xx
 * delivered, anything else retried on the schedule until the last attempt
 * fails it. A destination the policy refuses (webhook_destination.h) fails
 * at once, without retries: it will not stop being internal by waiting, and
 * an operator who allows it re-sends it (POST /payments/internal/webhooks/retry).
 * An alert rides the same way, its body the plain {"text": ...} of a
 * Slack-compatible receiver. */
#ifndef PAYMENTS_WEBHOOK_DELIVERY_H
#define PAYMENTS_WEBHOOK_DELIVERY_H

#include "crypto.h"
#include "http_client.h"
#include "pg_pool.h"
#include "seal.h"
#include "webhook_destination.h"
#include "webhook_schedule.h"
#include "webhook_store.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* What every delivery of a worker shares; owned by the outbox. */
typedef struct webhook_delivery_env {
    pg_pool *db;
    http_client *client; /* the outbox's own: closing it ends only deliveries */
    const crypto_cbc_key *connection_key;
    const seal_ring *history_seal;
    const char *secret;
    long timeout_ms;
    const webhook_schedule *schedule;
    webhook_destination_policy destinations; /* where notifications may go */
    /* Set once the worker stops: an attempt it interrupts (or that would
     * start now) goes back to pending at once and does not count. */
    bool stopping;
    /* Told of each attempt's end (not of one a stopping worker released):
     * delivered or not, and how long it took. May be NULL. */
    void (*observe)(void *data, bool delivered, uint64_t elapsed_us);
    void *observe_data;
} webhook_delivery_env;

/* Takes row. done runs exactly once, after the outcome was stored (or
 * failed to be: the claim's expiry then brings the notification back). */
void webhook_delivery_start(webhook_delivery_env *env, webhook_claimed *row, void (*done)(void *data), void *data);

#endif
