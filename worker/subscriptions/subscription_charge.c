/* subscription_charge: what charge_run's answer means for a period. Only
 * an answer the vendor gave (or a refusal before any call that will not
 * change by itself) counts as a refused attempt; anything that may have
 * charged leaves the period claimed, so that no second order is started. */
#include "subscription_charge.h"

#include "subscription_alert.h"
#include "charge_run.h"
#include "log.h"
#include "subscription_clock.h"
#include "webhook_outbox.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct subscription_charge {
    worker *app;
    subscription_period *period;
    char now[SUBSCRIPTION_CLOCK_MAX];
    bool has_now;
    char outcome[512]; /* the refusal, in words: room for an app_error's message and a vendor's */
    char retry_ms[24];
    charge_order order;
    subscription_alert alert; /* what its refusal may open, lives through the write */
    void (*done)(void *data);
    void *data;
} subscription_charge;

static void finish(subscription_charge *charge)
{
    void (*done)(void *) = charge->done;
    void *data = charge->data;
    subscription_period_free(charge->period);
    free(charge);
    done(data);
}

static void on_charged_recorded(long count, const app_error *err, void *data)
{
    subscription_charge *charge = data;
    (void)count;
    if (err)
        log_warn("subscriptions: period %s charged, not yet recorded (%d %s); its claim's expiry settles it",
                 charge->period->id, err->status, err->message);
    else
        webhook_outbox_kick(charge->app->outbox);
    finish(charge);
}

/* The notification and any alert it opened are in the outbox: kicked so
 * they go out now rather than at the outbox's next look. */
static void on_refused_recorded(long count, const app_error *err, void *data)
{
    subscription_charge *charge = data;
    (void)count;
    if (err)
        log_warn("subscriptions: the refusal of period %s is not recorded (%d %s); it will be charged again",
                 charge->period->id, err->status, err->message);
    else
        webhook_outbox_kick(charge->app->outbox);
    finish(charge);
}

/* Dunning: the wait before the next attempt, or none left; charge->outcome
 * says why it was refused. */
static void record_refusal(subscription_charge *charge)
{
    unsigned refusals = (unsigned)atoi(charge->period->attempts) + 1;
    uint64_t delay = 0;
    bool retry = dunning_schedule_next(&charge->app->config.dunning, refusals, &delay);
    snprintf(charge->retry_ms, sizeof charge->retry_ms, "%llu", (unsigned long long)delay);
    const subscription_period *period = charge->period;
    subscription_alert_prepare(&charge->alert, &charge->app->config, period->subscription_id, period->id, period->name,
                               charge->outcome);
    subscription_period_store_refused(charge->app->db, &charge->app->history_seal, period->id, charge->outcome,
                                      retry ? charge->retry_ms : NULL, charge->has_now ? charge->now : NULL,
                                      &charge->alert, on_refused_recorded, charge);
}

static void record_error(subscription_charge *charge, const app_error *err)
{
    if (err->vendor.code[0])
        snprintf(charge->outcome, sizeof charge->outcome, "refused by %s: %s %s", err->vendor.code,
                 err->vendor.vendor_code, err->vendor.message);
    else
        snprintf(charge->outcome, sizeof charge->outcome, "refused: %s", err->message);
    record_refusal(charge);
}

static void on_charge(const charge_outcome *outcome, const app_error *err, void *data)
{
    subscription_charge *charge = data;
    if (!err) {
        subscription_period_store_charged(charge->app->db, &charge->app->history_seal, charge->period->id,
                                          outcome->history->id, on_charged_recorded, charge);
        return;
    }
    bool vendor_refused = err->status == 422 && err->vendor.code[0];
    bool refused_before_call = !outcome->operation_id && (err->status == 404 || err->status == 422);
    if (vendor_refused || refused_before_call) {
        record_error(charge, err);
        return;
    }
    /* Not sent, pending elsewhere, or unknown: the claim expires and the
     * period is taken again for the same order. */
    log_info("subscriptions: period %s not settled now (%d %s); it is taken again after its claim", charge->period->id,
             err->status, err->message);
    finish(charge);
}

void subscription_charge_start(worker *w, subscription_period *period, const char *now, void (*done)(void *data),
                               void *data)
{
    subscription_charge *charge = calloc(1, sizeof *charge);
    if (!charge) {
        log_error("subscriptions: out of memory; period %s is taken again after its claim", period->id);
        subscription_period_free(period);
        done(data);
        return;
    }
    *charge = (subscription_charge){.app = w, .period = period, .done = done, .data = data};
    if (now) {
        snprintf(charge->now, sizeof charge->now, "%s", now);
        charge->has_now = true;
    }
    charge->order = (charge_order){
        .reservation_id = period->reservation_id,
        .source_schema = SUBSCRIPTION_ORDER_SCHEMA,
        .source_table = SUBSCRIPTION_ORDER_TABLE,
        .source_id = period->id,
        .name = period->name,
        .price = strtod(period->amount, NULL),
        .currency = period->currency,
        .webhook_url = period->webhook_url,
    };
    /* A claim taken over from a worker that died: its charge may be
     * recorded already (the reconciler finished it); then only that is
     * left to write down. */
    if (period->history_id) {
        subscription_period_store_charged(w->db, &w->history_seal, period->id, period->history_id, on_charged_recorded,
                                          charge);
        return;
    }
    /* Or its refusal is (the reconciler settled it as refused, or its
     * worker died before writing it down): it counts toward dunning now,
     * rather than being charged again at once. */
    if (period->unrecorded_refusal) {
        snprintf(charge->outcome, sizeof charge->outcome, "%s", period->unrecorded_refusal);
        record_refusal(charge);
        return;
    }
    charge_run(w, &charge->order, on_charge, charge);
}
