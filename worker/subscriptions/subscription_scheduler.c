/* subscription_scheduler: one look at a time (open due periods until none
 * is left, then one claim), its charges counted as the worker's work so a
 * draining worker waits for them. Frees in one place, maybe_closed(). */
#include "subscription_scheduler.h"

#include "log.h"
#include "subscription_charge.h"
#include "subscription_clock.h"
#include "subscription_period_store.h"

#include <stdlib.h>

/* A claim lasts the vendor call, the write after it, and room. */
#define SCHEDULER_LEASE_GRACE_MS 10000

struct subscription_scheduler {
    worker *app;
    uv_timer_t timer;
    size_t in_flight;
    bool looking;
    bool stopping;
    bool timer_closed;
    bool failing; /* logged once until a look succeeds */
    char now[SUBSCRIPTION_CLOCK_MAX];
    const char *clock; /* now, or NULL for PostgreSQL's now() */
    subscription_clock_problem clock_problem;
    void (*closed)(void *data);
    void *closed_data;
};

static void maybe_closed(subscription_scheduler *scheduler)
{
    if (!scheduler->stopping || !scheduler->timer_closed || scheduler->looking || scheduler->in_flight > 0)
        return;
    void (*closed)(void *) = scheduler->closed;
    void *closed_data = scheduler->closed_data;
    free(scheduler);
    if (closed)
        closed(closed_data);
}

static void look_failed(subscription_scheduler *scheduler, const app_error *err)
{
    if (!scheduler->failing)
        log_warn("subscriptions: cannot look for due periods (%d %s); trying again", err->status, err->message);
    scheduler->failing = true;
    scheduler->looking = false;
    maybe_closed(scheduler);
}

static void on_charge_done(void *data)
{
    subscription_scheduler *scheduler = data;
    scheduler->in_flight--;
    worker_work_end(scheduler->app);
    maybe_closed(scheduler);
}

static void on_claimed(subscription_period **rows, size_t count, const app_error *err, void *data)
{
    subscription_scheduler *scheduler = data;
    if (err) {
        look_failed(scheduler, err);
        return;
    }
    scheduler->failing = false;
    for (size_t i = 0; i < count; i++) {
        scheduler->in_flight++;
        worker_work_begin(scheduler->app);
        subscription_charge_start(scheduler->app, rows[i], scheduler->clock, on_charge_done, scheduler);
    }
    free(rows);
    scheduler->looking = false;
    maybe_closed(scheduler);
}

static uint64_t lease_ms(const worker *w)
{
    return w->config.vendor_timeout_ms + SCHEDULER_LEASE_GRACE_MS;
}

/* A subscription that missed several instants (a stopped server, a test
 * clock moved on) gets one period per statement: open until none is left. */
static void on_opened(long count, const app_error *err, void *data)
{
    subscription_scheduler *scheduler = data;
    if (err) {
        look_failed(scheduler, err);
        return;
    }
    pg_pool *db = scheduler->app->db;
    if (count > 0 && !scheduler->stopping)
        subscription_period_store_open_due(db, scheduler->clock, on_opened, scheduler);
    else if (!scheduler->stopping)
        subscription_period_store_claim(db, scheduler->clock, lease_ms(scheduler->app), on_claimed, scheduler);
    else {
        scheduler->looking = false;
        maybe_closed(scheduler);
    }
}

static void on_tick(uv_timer_t *timer)
{
    subscription_scheduler *scheduler = timer->data;
    if (scheduler->stopping || scheduler->app->draining || scheduler->looking || scheduler->in_flight > 0)
        return;
    scheduler->looking = true;
    scheduler->clock = subscription_clock_read(&scheduler->app->config, scheduler->now, &scheduler->clock_problem);
    subscription_period_store_open_due(scheduler->app->db, scheduler->clock, on_opened, scheduler);
}

subscription_scheduler *subscription_scheduler_create(worker *w)
{
    subscription_scheduler *scheduler = calloc(1, sizeof *scheduler);
    if (!scheduler) {
        log_error("subscriptions: out of memory");
        return NULL;
    }
    scheduler->app = w;
    scheduler->timer.data = scheduler;
    if (uv_timer_init(w->loop, &scheduler->timer) < 0) {
        free(scheduler);
        log_error("subscriptions: cannot create the scheduler's timer");
        return NULL;
    }
    uint64_t interval = w->config.scheduler_interval_ms;
    if (uv_timer_start(&scheduler->timer, on_tick, interval, interval) < 0) {
        subscription_scheduler_close(scheduler, NULL, NULL);
        log_error("subscriptions: cannot start the scheduler's timer");
        return NULL;
    }
    return scheduler;
}

static void on_timer_closed(uv_handle_t *handle)
{
    subscription_scheduler *scheduler = handle->data;
    scheduler->timer_closed = true;
    maybe_closed(scheduler);
}

void subscription_scheduler_close(subscription_scheduler *scheduler, void (*done)(void *data), void *data)
{
    scheduler->stopping = true;
    scheduler->closed = done;
    scheduler->closed_data = data;
    uv_timer_stop(&scheduler->timer);
    uv_close((uv_handle_t *)&scheduler->timer, on_timer_closed);
}
