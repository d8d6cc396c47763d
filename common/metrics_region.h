/* metrics_region: the counters every process of an instance shares, in one
 * shared-memory region the master creates and hands to each worker it starts
 * (an inherited descriptor). Each worker owns one slot and only adds to it
 * with relaxed atomics, so the request path takes no lock; the worker that
 * answers a scrape sums every slot. A slot outlives its worker: the next
 * worker to claim it continues its counts, so sums never go down while the
 * master lives. The region knows indexes, not names: the worker maps routes,
 * vendors and operations to indexes (worker/metrics.c). */
#ifndef PAYMENTS_METRICS_REGION_H
#define PAYMENTS_METRICS_REGION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_SLOTS 64            /* workers at once, a roll's replacements included */
#define METRICS_ROUTES 40           /* both route tables, and one "unmatched" per listener */
#define METRICS_STATUSES 24         /* the worker's usual status codes, and "other" */
#define METRICS_BUCKETS 13          /* finite histogram bounds; +Inf is one more */
#define METRICS_VENDORS 8           /* the adapter table's entries */
#define METRICS_VENDOR_OPERATIONS 8 /* fetch, approve, ... and "call" (worker/metrics.c) */
#define METRICS_VENDOR_OUTCOMES 4   /* vendor_call_outcome */
#define METRICS_DELIVERY_OUTCOMES 2 /* delivered, failed */
#define METRICS_CIRCUITS 16         /* circuits a slot shows */

/* Upper bounds of the latency buckets, in seconds (Prometheus' defaults
 * widened to 10 s, since vendor calls may take that long). */
extern const double metrics_bucket_bounds[METRICS_BUCKETS];

/* Latency in microseconds: per-bucket (not cumulative) counts, the last one
 * past every bound; the exposition writer accumulates them. */
typedef struct metrics_histogram {
    _Atomic uint64_t buckets[METRICS_BUCKETS + 1];
    _Atomic uint64_t sum_us;
} metrics_histogram;

typedef struct metrics_circuit {
    _Atomic uint32_t state; /* 0: unused entry; else vendor_circuit_state + 1 */
    char vendor[32];
    char store_id[64];
} metrics_circuit;

typedef struct metrics_slot {
    _Atomic int32_t pid;          /* the worker holding it; 0: free */
    _Atomic uint64_t fingerprint; /* of the worker's route and vendor tables */
    _Atomic uint64_t requests[METRICS_ROUTES][METRICS_STATUSES];
    metrics_histogram request_seconds[METRICS_ROUTES];
    _Atomic uint64_t vendor_calls[METRICS_VENDORS][METRICS_VENDOR_OPERATIONS][METRICS_VENDOR_OUTCOMES];
    metrics_histogram vendor_seconds[METRICS_VENDORS][METRICS_VENDOR_OPERATIONS];
    _Atomic uint64_t deliveries[METRICS_DELIVERY_OUTCOMES];
    metrics_histogram delivery_seconds;
    /* Gauges, written about once a second by their worker; the master
     * zeroes them when the worker exits. */
    _Atomic uint32_t pool_in_use;
    _Atomic uint32_t pool_waiting;
    _Atomic uint64_t cpu_us;
    _Atomic uint64_t rss_bytes;
    metrics_circuit circuits[METRICS_CIRCUITS];
} metrics_slot;

typedef struct metrics_region {
    uint64_t magic;
    _Atomic int32_t master_pid;
    _Atomic uint64_t master_cpu_us;
    _Atomic uint64_t master_rss_bytes;
    _Atomic uint64_t worker_restarts; /* workers that died unasked and were replaced */
    metrics_slot slots[METRICS_SLOTS];
} metrics_region;

/* Creates an anonymous shared region (memfd) and maps it; *fd is the
 * descriptor to hand down. NULL with one line in err. */
metrics_region *metrics_region_create(int *fd, char *err, size_t errlen);
/* Maps an inherited region; NULL with one line in err when fd is not one. */
metrics_region *metrics_region_attach(int fd, char *err, size_t errlen);
void metrics_region_unmap(metrics_region *region);

/* A worker takes a free slot for pid (continuing its counts, unless they
 * were made under another fingerprint: those are cleared); NULL when every
 * slot is taken. */
metrics_slot *metrics_region_claim(metrics_region *region, int pid, uint64_t fingerprint);
/* The master, after pid exited: its gauges are zeroed and its slot freed. */
void metrics_region_release(metrics_region *region, int pid);

/* This process's CPU time (user and system) and resident memory, the
 * figures each process writes into the region about once a second. */
void metrics_process_sample(uint64_t *cpu_us, uint64_t *rss_bytes);

/* Adds one observation of elapsed microseconds. */
void metrics_histogram_observe(metrics_histogram *h, uint64_t elapsed_us);

#endif
