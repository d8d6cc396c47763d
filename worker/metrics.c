/* metrics: counts this worker's answers, vendor calls and webhook deliveries
 * into its slot of the shared region, and publishes its gauges. The
 * observers run on the request path: an index lookup and a few relaxed
 * atomic adds, no lock, no allocation. */
#include "metrics.h"

#include "worker.h"

#include "log.h"
#include "webhook_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const int metrics_status_codes[METRICS_STATUSES - 1] = {200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 405, 408,
                                                        409, 413, 415, 422, 429, 431, 500, 502, 503, 504, 505};
const char *const metrics_vendor_operations[METRICS_VENDOR_OPERATIONS] = {
    "fetch", "approve", "cancel", "fetch_billing", "issue_billing", "charge_billing", "token", "call"};
const char *const metrics_vendor_outcomes[METRICS_VENDOR_OUTCOMES] = {"succeeded", "refused", "failed", "not_sent"};

int metrics_status_index(int status)
{
    for (int i = 0; i < METRICS_STATUSES - 1; i++)
        if (metrics_status_codes[i] == status)
            return i;
    return METRICS_STATUSES - 1;
}

bool metrics_route_label(size_t index, const char **method, const char **pattern, const char **listener)
{
    if (index == METRICS_ROUTE_UNMATCHED_API || index == METRICS_ROUTE_UNMATCHED_OPERATORS) {
        *method = "-";
        *pattern = "unmatched";
        *listener = index == METRICS_ROUTE_UNMATCHED_API ? "api" : "operators";
        return true;
    }
    const http_route *route = index < worker_route_count ? &worker_routes[index]
                              : index - worker_route_count < worker_operator_route_count
                                  ? &worker_operator_routes[index - worker_route_count]
                                  : NULL;
    if (!route)
        return false;
    *method = route->method;
    *pattern = route->pattern;
    *listener = index < worker_route_count ? "api" : "operators";
    return true;
}

/* ---- observers ---- */

static void count_answer(worker *w, size_t route, int status, uint64_t elapsed_us)
{
    metrics_slot *slot = w->metrics.slot;
    atomic_fetch_add_explicit(&slot->requests[route][metrics_status_index(status)], 1, memory_order_relaxed);
    metrics_histogram_observe(&slot->request_seconds[route], elapsed_us);
}

static void on_api_answer(void *data, int route, int status, uint64_t elapsed_us)
{
    count_answer(data, route < 0 ? METRICS_ROUTE_UNMATCHED_API : (size_t)route, status, elapsed_us);
}

static void on_operators_answer(void *data, int route, int status, uint64_t elapsed_us)
{
    count_answer(data, route < 0 ? METRICS_ROUTE_UNMATCHED_OPERATORS : worker_route_count + (size_t)route, status,
                 elapsed_us);
}

static size_t vendor_index(const char *vendor)
{
    const char *const *codes = vendor_codes();
    for (size_t i = 0; codes[i] && i < METRICS_VENDORS; i++)
        if (strcmp(codes[i], vendor) == 0)
            return i;
    return METRICS_VENDORS; /* not counted */
}

static size_t operation_index(const char *operation)
{
    for (size_t i = 0; i < METRICS_VENDOR_OPERATIONS - 1; i++)
        if (strcmp(metrics_vendor_operations[i], operation) == 0)
            return i;
    return METRICS_VENDOR_OPERATIONS - 1; /* "call" */
}

static void on_vendor_call(void *data, const char *vendor, const char *operation, vendor_call_outcome outcome,
                           uint64_t elapsed_us)
{
    worker *w = data;
    size_t v = vendor_index(vendor);
    if (v >= METRICS_VENDORS || (unsigned)outcome >= METRICS_VENDOR_OUTCOMES)
        return;
    size_t op = operation_index(operation);
    atomic_fetch_add_explicit(&w->metrics.slot->vendor_calls[v][op][outcome], 1, memory_order_relaxed);
    metrics_histogram_observe(&w->metrics.slot->vendor_seconds[v][op], elapsed_us);
}

static void on_delivery(void *data, bool delivered, uint64_t elapsed_us)
{
    worker *w = data;
    atomic_fetch_add_explicit(&w->metrics.slot->deliveries[delivered ? 0 : 1], 1, memory_order_relaxed);
    metrics_histogram_observe(&w->metrics.slot->delivery_seconds, elapsed_us);
}

/* ---- the slot ---- */

/* FNV-1a over the names the indexes stand for: workers of another build
 * (a roll to a new commit) must not add into counts labelled otherwise. */
static uint64_t hash_text(uint64_t h, const char *text)
{
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull;
}

static uint64_t tables_fingerprint(void)
{
    uint64_t h = 14695981039346656037ull;
    const char *method, *pattern, *listener;
    for (size_t i = 0; i < METRICS_ROUTES; i++)
        if (metrics_route_label(i, &method, &pattern, &listener))
            h = hash_text(hash_text(hash_text(h, method), pattern), listener);
    for (const char *const *code = vendor_codes(); *code; code++)
        h = hash_text(h, *code);
    return h;
}

static metrics_region *region_open(worker_metrics *m)
{
    char err[256];
    const char *fd_text = getenv("PAYMENT_METRICS_FD");
    metrics_region *region = NULL;
    if (fd_text && *fd_text) {
        region = metrics_region_attach(atoi(fd_text), err, sizeof err);
    } else {
        int fd;
        region = metrics_region_create(&fd, err, sizeof err);
        if (region)
            close(fd); /* the mapping keeps it; nobody else shares it */
        m->owned = region != NULL;
    }
    if (!region)
        log_warn("metrics: %s; this worker is not measured", err);
    return region;
}

int metrics_open(worker *w)
{
    worker_metrics *m = &w->metrics;
    if (worker_route_count + worker_operator_route_count > METRICS_ROUTE_UNMATCHED_API) {
        log_warn("metrics: more routes than the region counts (%d); this worker is not measured",
                 METRICS_ROUTE_UNMATCHED_API);
        return -1;
    }
    m->region = region_open(m);
    if (!m->region)
        return -1;
    m->fingerprint = tables_fingerprint();
    m->slot = metrics_region_claim(m->region, (int)getpid(), m->fingerprint);
    if (!m->slot) {
        log_warn("metrics: all %d slots are taken; this worker is not measured", METRICS_SLOTS);
        metrics_close(w);
        return -1;
    }
    http_server_observe(w->http, on_api_answer, w);
    if (w->operators_http)
        http_server_observe(w->operators_http, on_operators_answer, w);
    vendor_context_observe(w->vendors, on_vendor_call, w);
    if (w->outbox)
        webhook_outbox_observe(w->outbox, on_delivery, w);
    return 0;
}

/* ---- gauges ---- */

typedef struct circuit_cursor {
    metrics_slot *slot;
    size_t next;
} circuit_cursor;

/* The strings change only while the entry is marked unused, so a reader
 * that sees it used sees them whole. */
static void publish_circuit(void *data, const char *vendor, const char *store_id, unsigned state)
{
    circuit_cursor *cursor = data;
    if (cursor->next >= METRICS_CIRCUITS)
        return;
    metrics_circuit *entry = &cursor->slot->circuits[cursor->next++];
    if (strcmp(entry->vendor, vendor) != 0 || strcmp(entry->store_id, store_id) != 0) {
        atomic_store_explicit(&entry->state, 0, memory_order_release);
        snprintf(entry->vendor, sizeof entry->vendor, "%s", vendor);
        snprintf(entry->store_id, sizeof entry->store_id, "%s", store_id);
    }
    atomic_store_explicit(&entry->state, state + 1, memory_order_release);
}

void metrics_publish(worker *w)
{
    metrics_slot *slot = w->metrics.slot;
    if (!slot)
        return;
    unsigned in_use = 0, waiting = 0;
    if (w->db)
        pg_pool_usage(w->db, &in_use, &waiting);
    atomic_store_explicit(&slot->pool_in_use, in_use, memory_order_relaxed);
    atomic_store_explicit(&slot->pool_waiting, waiting, memory_order_relaxed);
    uint64_t cpu_us, rss_bytes;
    metrics_process_sample(&cpu_us, &rss_bytes);
    atomic_store_explicit(&slot->cpu_us, cpu_us, memory_order_relaxed);
    atomic_store_explicit(&slot->rss_bytes, rss_bytes, memory_order_relaxed);
    circuit_cursor cursor = {slot, 0};
    if (w->vendors)
        vendor_context_each_circuit(w->vendors, publish_circuit, &cursor);
}

void metrics_close(worker *w)
{
    worker_metrics *m = &w->metrics;
    if (m->slot && m->owned)
        atomic_store(&m->slot->pid, 0);
    metrics_region_unmap(m->region);
    *m = (worker_metrics){0};
}
