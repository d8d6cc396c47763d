/* subscription_period_store: the scheduler's SQL. Due instants become
 * period rows (unique per subscription and instant, so inserting one is the
 * claim that it exists once for every worker and instance); a period is
 * charged under a claim with an expiry, taken with FOR UPDATE SKIP LOCKED,
 * and its outcome is recorded only while the claim is still its own. */
#ifndef PAYMENTS_SUBSCRIPTION_PERIOD_STORE_H
#define PAYMENTS_SUBSCRIPTION_PERIOD_STORE_H

#include "db_count.h"
#include "pg_pool.h"
#include "seal.h"
#include "subscription_alert.h"

#include <stddef.h>
#include <stdint.h>

/* The order of a period's charge: its source is the period's row, so the
 * vendor order id derived from it is the same at every attempt. */
#define SUBSCRIPTION_ORDER_SCHEMA "payments"
#define SUBSCRIPTION_ORDER_TABLE "payment_subscription_periods"

/* Periods one claim takes at most. */
#define SUBSCRIPTION_CLAIM_BATCH 16

typedef struct subscription_period {
    char *id; /* the period's, the order's source id */
    char *subscription_id;
    char *reservation_id;
    char *amount;
    char *currency;
    char *name;
    char *webhook_url; /* NULL when none */
    char *attempts;    /* refused charges so far */
    char *history_id;  /* its order's history, when a charge of it was recorded: a claim taken over */
    /* A refusal of its order recorded with the charge but not yet counted
     * here (a claim taken over), in words; else NULL. */
    char *unrecorded_refusal;
} subscription_period;

void subscription_period_free(subscription_period *period);

/* count: how many rows the statement wrote. */
typedef db_count_cb subscription_count_cb;
/* rows (and each row) are the callback's to free. */
typedef void (*subscription_claim_cb)(subscription_period **rows, size_t count, const app_error *err, void *data);

/* Inserts the period of every active subscription due at now (the test
 * clock, or NULL for now()) and moves each on to its next due instant: one
 * period per subscription per call, so a caller repeats while count > 0. */
void subscription_period_store_open_due(pg_pool *pool, const char *now, subscription_count_cb cb, void *data);

/* Claims until now + lease_ms the periods due for an attempt, of active
 * subscriptions, and those whose claim expired (with the history of their
 * order when it was recorded meanwhile: a worker died after the vendor
 * charged, and the reconciler recorded the charge). */
void subscription_period_store_claim(pg_pool *pool, const char *now, uint64_t lease_ms, subscription_claim_cb cb,
                                     void *data);

/* The period was charged: history_id is its payment. Its notification is
 * queued in the same transaction, sealed with ring (the history ring), and
 * the run of refusals ends there, closing its alerts' incidents. */
void subscription_period_store_charged(pg_pool *pool, const seal_ring *ring, const char *id, const char *history_id,
                                       subscription_count_cb cb, void *data);

/* The period's charge was refused for `outcome` (words, no card data).
 * retry_ms: the wait before the next attempt, from now; NULL when dunning
 * is over and the subscription becomes past due. count is 1 when it did
 * become past due now. Its notification ("refused", or "past_due") and the
 * alerts it opens (alert, copied) are queued in the same transaction. */
void subscription_period_store_refused(pg_pool *pool, const seal_ring *ring, const char *id, const char *outcome,
                                       const char *retry_ms, const char *now, const subscription_alert *alert,
                                       subscription_count_cb cb, void *data);

#endif
