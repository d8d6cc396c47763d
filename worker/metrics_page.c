/* GET /metrics: the Prometheus text of the whole instance, whichever worker
 * answers. Counters and histograms are summed over every slot of the shared
 * region (a slot keeps counting across its workers); gauges come from live
 * slots; the outbox and reconciler backlogs are read from the database at
 * the scrape. Served on the operators' listener only (routes.c). */
#include "worker.h"

#include "prometheus_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The backlogs every instance shares: notifications not yet delivered or
 * failed for good, and operations the reconciler has yet to settle. */
static const char backlog_sql[] =
    "SELECT (SELECT count(*) FROM payment_webhook_deliveries WHERE status IN ('pending', 'delivering')),"
    " (SELECT count(*) FROM payment_webhook_deliveries WHERE status = 'failed'),"
    " (SELECT count(*) FROM payment_operations WHERE state = 'pending')";

typedef struct page {
    byte_buffer out;
    const metrics_region *region;
    uint64_t fingerprint;
    int failed; /* out of memory somewhere: answer 500 */
} page;

static bool slot_counts(const page *p, const metrics_slot *slot)
{
    return atomic_load_explicit(&slot->fingerprint, memory_order_acquire) == p->fingerprint;
}

static bool slot_live(const metrics_slot *slot)
{
    return atomic_load_explicit(&slot->pid, memory_order_relaxed) != 0;
}

static uint64_t load(const _Atomic uint64_t *value)
{
    return atomic_load_explicit(value, memory_order_relaxed);
}

static void family(page *p, const char *name, const char *type, const char *help)
{
    p->failed |= prometheus_family(&p->out, name, type, help);
}

static void sample(page *p, const char *name, const prometheus_label *labels, size_t count, double value)
{
    p->failed |= prometheus_sample(&p->out, name, labels, count, value);
}

/* Adds one slot's histogram into counts[] and *sum_us; returns its count. */
static uint64_t histogram_add(const metrics_histogram *h, uint64_t *counts, uint64_t *sum_us)
{
    uint64_t n = 0;
    for (int i = 0; i <= METRICS_BUCKETS; i++) {
        uint64_t c = load(&h->buckets[i]);
        counts[i] += c;
        n += c;
    }
    *sum_us += load(&h->sum_us);
    return n;
}

/* ---- families ---- */

static void route_labels(size_t route, prometheus_label *labels)
{
    const char *method = "-", *pattern = "-", *listener = "-";
    metrics_route_label(route, &method, &pattern, &listener); /* counted routes all have one */
    labels[0] = (prometheus_label){"listener", listener};
    labels[1] = (prometheus_label){"method", method};
    labels[2] = (prometheus_label){"route", pattern};
}

static void write_requests(page *p)
{
    family(p, "payments_http_requests_total", "counter", "HTTP answers by listener, route pattern and status.");
    for (size_t r = 0; r < METRICS_ROUTES; r++)
        for (int s = 0; s < METRICS_STATUSES; s++) {
            uint64_t n = 0;
            for (int i = 0; i < METRICS_SLOTS; i++)
                if (slot_counts(p, &p->region->slots[i]))
                    n += load(&p->region->slots[i].requests[r][s]);
            if (n == 0)
                continue;
            char status[8];
            snprintf(status, sizeof status, "%d", s < METRICS_STATUSES - 1 ? metrics_status_codes[s] : 0);
            prometheus_label labels[4];
            route_labels(r, labels);
            labels[3] = (prometheus_label){"status", s < METRICS_STATUSES - 1 ? status : "other"};
            sample(p, "payments_http_requests_total", labels, 4, (double)n);
        }
}

static void write_request_seconds(page *p)
{
    const char *name = "payments_http_request_duration_seconds";
    family(p, name, "histogram", "Time from a complete request to its answer, by listener and route pattern.");
    for (size_t r = 0; r < METRICS_ROUTES; r++) {
        uint64_t counts[METRICS_BUCKETS + 1] = {0}, sum_us = 0, n = 0;
        for (int i = 0; i < METRICS_SLOTS; i++)
            if (slot_counts(p, &p->region->slots[i]))
                n += histogram_add(&p->region->slots[i].request_seconds[r], counts, &sum_us);
        if (n == 0)
            continue;
        prometheus_label labels[3];
        route_labels(r, labels);
        p->failed |= prometheus_histogram(&p->out, name, labels, 3, metrics_bucket_bounds, counts, METRICS_BUCKETS,
                                          (double)sum_us / 1e6);
    }
}

static void write_vendor_calls(page *p)
{
    const char *const *codes = vendor_codes();
    family(p, "payments_vendor_calls_total", "counter", "Calls to vendors by vendor, operation and outcome.");
    for (size_t v = 0; v < METRICS_VENDORS && codes[v]; v++)
        for (size_t op = 0; op < METRICS_VENDOR_OPERATIONS; op++)
            for (size_t o = 0; o < METRICS_VENDOR_OUTCOMES; o++) {
                uint64_t n = 0;
                for (int i = 0; i < METRICS_SLOTS; i++)
                    if (slot_counts(p, &p->region->slots[i]))
                        n += load(&p->region->slots[i].vendor_calls[v][op][o]);
                prometheus_label labels[3] = {{"vendor", codes[v]},
                                              {"operation", metrics_vendor_operations[op]},
                                              {"outcome", metrics_vendor_outcomes[o]}};
                if (n)
                    sample(p, "payments_vendor_calls_total", labels, 3, (double)n);
            }
}

static void write_vendor_seconds(page *p)
{
    const char *const *codes = vendor_codes();
    const char *name = "payments_vendor_call_duration_seconds";
    family(p, name, "histogram", "Time a vendor call took, by vendor and operation.");
    for (size_t v = 0; v < METRICS_VENDORS && codes[v]; v++)
        for (size_t op = 0; op < METRICS_VENDOR_OPERATIONS; op++) {
            uint64_t counts[METRICS_BUCKETS + 1] = {0}, sum_us = 0, n = 0;
            for (int i = 0; i < METRICS_SLOTS; i++)
                if (slot_counts(p, &p->region->slots[i]))
                    n += histogram_add(&p->region->slots[i].vendor_seconds[v][op], counts, &sum_us);
            prometheus_label labels[2] = {{"vendor", codes[v]}, {"operation", metrics_vendor_operations[op]}};
            if (n)
                p->failed |= prometheus_histogram(&p->out, name, labels, 2, metrics_bucket_bounds, counts,
                                                  METRICS_BUCKETS, (double)sum_us / 1e6);
        }
}

/* One line per (vendor, store, state) that some live worker is in. */
static void write_circuits(page *p)
{
    const char *name = "payments_vendor_circuit_workers";
    family(p, name, "gauge", "Workers whose circuit breaker for a vendor and store is in each state.");
    for (int i = 0; i < METRICS_SLOTS; i++) {
        const metrics_slot *slot = &p->region->slots[i];
        for (int c = 0; slot_live(slot) && c < METRICS_CIRCUITS; c++) {
            const metrics_circuit *entry = &slot->circuits[c];
            uint32_t state = atomic_load_explicit(&entry->state, memory_order_acquire);
            if (state == 0 || state > 3)
                continue;
            bool seen = false; /* counted already, from an earlier slot */
            for (int j = 0; j < i && !seen; j++)
                for (int k = 0; k < METRICS_CIRCUITS && !seen; k++) {
                    const metrics_circuit *other = &p->region->slots[j].circuits[k];
                    seen = slot_live(&p->region->slots[j]) && atomic_load(&other->state) == state &&
                           strcmp(other->vendor, entry->vendor) == 0 && strcmp(other->store_id, entry->store_id) == 0;
                }
            if (seen)
                continue;
            unsigned workers = 0;
            for (int j = i; j < METRICS_SLOTS; j++)
                for (int k = 0; slot_live(&p->region->slots[j]) && k < METRICS_CIRCUITS; k++) {
                    const metrics_circuit *other = &p->region->slots[j].circuits[k];
                    workers += atomic_load(&other->state) == state && strcmp(other->vendor, entry->vendor) == 0 &&
                               strcmp(other->store_id, entry->store_id) == 0;
                }
            prometheus_label labels[3] = {{"vendor", entry->vendor},
                                          {"store", entry->store_id},
                                          {"state", vendor_circuit_state_names[state - 1]}};
            sample(p, name, labels, 3, workers);
        }
    }
}

static void write_pool(page *p)
{
    uint64_t in_use = 0, waiting = 0;
    for (int i = 0; i < METRICS_SLOTS; i++) {
        in_use += atomic_load_explicit(&p->region->slots[i].pool_in_use, memory_order_relaxed);
        waiting += atomic_load_explicit(&p->region->slots[i].pool_waiting, memory_order_relaxed);
    }
    family(p, "payments_database_pool_in_use", "gauge", "Database connections running a statement or leased.");
    sample(p, "payments_database_pool_in_use", NULL, 0, (double)in_use);
    family(p, "payments_database_pool_waiting", "gauge", "Statements waiting for a free database connection.");
    sample(p, "payments_database_pool_waiting", NULL, 0, (double)waiting);
}

static void write_deliveries(page *p)
{
    uint64_t delivered = 0, failed = 0, counts[METRICS_BUCKETS + 1] = {0}, sum_us = 0;
    for (int i = 0; i < METRICS_SLOTS; i++) {
        const metrics_slot *slot = &p->region->slots[i];
        if (!slot_counts(p, slot))
            continue;
        delivered += load(&slot->deliveries[0]);
        failed += load(&slot->deliveries[1]);
        histogram_add(&slot->delivery_seconds, counts, &sum_us);
    }
    family(p, "payments_webhook_deliveries_total", "counter", "Attempts to deliver a notification, by outcome.");
    sample(p, "payments_webhook_deliveries_total", &(prometheus_label){"outcome", "delivered"}, 1, (double)delivered);
    sample(p, "payments_webhook_deliveries_total", &(prometheus_label){"outcome", "failed"}, 1, (double)failed);
    const char *name = "payments_webhook_delivery_duration_seconds";
    family(p, name, "histogram", "Time one attempt to deliver a notification took.");
    p->failed |= prometheus_histogram(&p->out, name, NULL, 0, metrics_bucket_bounds, counts, METRICS_BUCKETS,
                                      (double)sum_us / 1e6);
}

/* The database's figures; absent when the query failed. */
static void write_backlogs(page *p, PGresult *res)
{
    if (!res || PQntuples(res) != 1 || PQnfields(res) != 3)
        return;
    family(p, "payments_webhook_outbox_pending", "gauge", "Notifications not yet delivered (pending or in flight).");
    sample(p, "payments_webhook_outbox_pending", NULL, 0, atof(PQgetvalue(res, 0, 0)));
    family(p, "payments_webhook_outbox_failed", "gauge", "Notifications that failed for good (an operator may retry).");
    sample(p, "payments_webhook_outbox_failed", NULL, 0, atof(PQgetvalue(res, 0, 1)));
    family(p, "payments_operations_pending", "gauge", "Vendor operations not yet settled: the reconciler's backlog.");
    sample(p, "payments_operations_pending", NULL, 0, atof(PQgetvalue(res, 0, 2)));
}

static void process_sample(page *p, const char *name, const char *role, int pid, double value)
{
    char pid_text[16];
    snprintf(pid_text, sizeof pid_text, "%d", pid);
    prometheus_label labels[2] = {{"process", role}, {"pid", pid_text}};
    sample(p, name, labels, 2, value);
}

static void write_processes(page *p)
{
    const metrics_region *r = p->region;
    int master_pid = atomic_load(&r->master_pid);
    const char *cpu = "payments_process_cpu_seconds_total";
    family(p, cpu, "counter", "CPU time (user and system) of each process of the instance.");
    if (master_pid)
        process_sample(p, cpu, "master", master_pid, (double)load(&r->master_cpu_us) / 1e6);
    for (int i = 0; i < METRICS_SLOTS; i++)
        if (slot_live(&r->slots[i]))
            process_sample(p, cpu, "worker", atomic_load(&r->slots[i].pid), (double)load(&r->slots[i].cpu_us) / 1e6);
    const char *rss = "payments_process_resident_memory_bytes";
    family(p, rss, "gauge", "Resident memory of each process of the instance.");
    if (master_pid)
        process_sample(p, rss, "master", master_pid, (double)load(&r->master_rss_bytes));
    for (int i = 0; i < METRICS_SLOTS; i++)
        if (slot_live(&r->slots[i]))
            process_sample(p, rss, "worker", atomic_load(&r->slots[i].pid), (double)load(&r->slots[i].rss_bytes));
    family(p, "payments_worker_restarts_total", "counter", "Workers that died unasked and were replaced.");
    sample(p, "payments_worker_restarts_total", NULL, 0, (double)load(&r->worker_restarts));
}

/* ---- the answer ---- */

static void answer(http_exchange *ex, worker *w, PGresult *backlogs)
{
    metrics_publish(w); /* the answering worker's own gauges, fresh */
    page p = {.region = w->metrics.region, .fingerprint = w->metrics.fingerprint};
    write_requests(&p);
    write_request_seconds(&p);
    write_vendor_calls(&p);
    write_vendor_seconds(&p);
    write_circuits(&p);
    write_pool(&p);
    write_deliveries(&p);
    write_backlogs(&p, backlogs);
    write_processes(&p);
    if (p.failed)
        http_respond_error(ex, 500, "out of memory writing the metrics");
    else
        http_respond(ex, 200, PROMETHEUS_CONTENT_TYPE, p.out.data, p.out.len);
    byte_buffer_release(&p.out);
}

typedef struct scrape {
    http_exchange *ex;
    worker *w;
} scrape;

static void on_backlogs(PGresult *res, const app_error *err, void *data)
{
    scrape *s = data;
    answer(s->ex, s->w, err ? NULL : res);
    worker_work_end(s->w);
    free(s);
}

void metrics_page(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    worker *w = context;
    if (!w->metrics.region) {
        http_respond_error(ex, 503, "this worker keeps no metrics (see its log)");
        return;
    }
    scrape *s = malloc(sizeof *s);
    if (!s) {
        answer(ex, w, NULL);
        return;
    }
    *s = (scrape){ex, w};
    worker_work_begin(w);
    pg_pool_query(w->db, backlog_sql, 0, NULL, on_backlogs, s);
}
