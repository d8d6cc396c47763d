/* operation_reconciler: one claim at a time, a batch of settlements after
 * it, each counted as work of the worker so that a draining worker waits
 * for it. Frees in one place, maybe_closed(). */
#include "operation_reconciler.h"

#include "log.h"
#include "operation_decide.h"
#include "operation_store.h"

#include <stdlib.h>

/* A claim lasts the vendor call and the write after it, with room. */
#define RECONCILER_LEASE_GRACE_MS 10000

struct operation_reconciler {
    worker *app;
    uv_timer_t timer;
    size_t in_flight;
    bool claiming;
    bool again;
    bool stopping;
    bool timer_closed;
    bool claim_failing; /* logged once until a claim succeeds */
    void (*closed)(void *data);
    void *closed_data;
};

static void claim(operation_reconciler *reconciler);

static void maybe_closed(operation_reconciler *reconciler)
{
    if (!reconciler->stopping || !reconciler->timer_closed || reconciler->claiming || reconciler->in_flight > 0)
        return;
    void (*closed)(void *) = reconciler->closed;
    void *closed_data = reconciler->closed_data;
    free(reconciler);
    if (closed)
        closed(closed_data);
}

static void on_decided(void *data)
{
    operation_reconciler *reconciler = data;
    reconciler->in_flight--;
    worker_work_end(reconciler->app);
    maybe_closed(reconciler);
}

static void on_claimed(operation_claimed **rows, size_t count, const app_error *err, void *data)
{
    operation_reconciler *reconciler = data;
    if (err && !reconciler->claim_failing)
        log_warn("reconciler: cannot claim operations (%d %s); retrying", err->status, err->message);
    reconciler->claim_failing = err != NULL;
    for (size_t i = 0; i < count; i++) {
        reconciler->in_flight++;
        worker_work_begin(reconciler->app);
        operation_decide(reconciler->app, rows[i], on_decided, reconciler);
    }
    free(rows);
    reconciler->claiming = false;
    if (reconciler->again) {
        reconciler->again = false;
        claim(reconciler);
    }
    maybe_closed(reconciler);
}

static void claim(operation_reconciler *reconciler)
{
    if (reconciler->stopping || reconciler->app->draining || reconciler->in_flight > 0)
        return;
    if (reconciler->claiming) {
        reconciler->again = true;
        return;
    }
    reconciler->claiming = true;
    const cfg *config = &reconciler->app->config;
    operation_store_claim(reconciler->app->db, config->reconcile_after_ms,
                          config->vendor_timeout_ms + RECONCILER_LEASE_GRACE_MS, on_claimed, reconciler);
}

static void on_tick(uv_timer_t *timer)
{
    claim(timer->data);
}

operation_reconciler *operation_reconciler_create(worker *w)
{
    operation_reconciler *reconciler = calloc(1, sizeof *reconciler);
    if (!reconciler) {
        log_error("reconciler: out of memory");
        return NULL;
    }
    reconciler->app = w;
    reconciler->timer.data = reconciler;
    if (uv_timer_init(w->loop, &reconciler->timer) < 0) {
        free(reconciler);
        log_error("reconciler: cannot create its timer");
        return NULL;
    }
    uint64_t interval = w->config.reconcile_interval_ms;
    if (uv_timer_start(&reconciler->timer, on_tick, interval, interval) < 0) {
        operation_reconciler_close(reconciler, NULL, NULL);
        log_error("reconciler: cannot start its timer");
        return NULL;
    }
    return reconciler;
}

void operation_reconciler_kick(operation_reconciler *reconciler)
{
    if (reconciler)
        claim(reconciler);
}

static void on_timer_closed(uv_handle_t *handle)
{
    operation_reconciler *reconciler = handle->data;
    reconciler->timer_closed = true;
    maybe_closed(reconciler);
}

void operation_reconciler_close(operation_reconciler *reconciler, void (*done)(void *data), void *data)
{
    reconciler->stopping = true;
    reconciler->closed = done;
    reconciler->closed_data = data;
    uv_timer_stop(&reconciler->timer);
    uv_close((uv_handle_t *)&reconciler->timer, on_timer_closed);
}
