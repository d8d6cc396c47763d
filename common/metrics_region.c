/* metrics_region: the shared-memory counters of an instance (see the header).
 * The region is a memfd, so it needs no name in /dev/shm and goes away with
 * the last process that maps it. Writers use relaxed atomics: a scrape may
 * see one request counted and its latency not yet, which Prometheus
 * tolerates, and the request path never waits. */
#include "metrics_region.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#define METRICS_MAGIC 0x70796d6d65747201ull /* changes with the layout */

const double metrics_bucket_bounds[METRICS_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                       0.25,  0.5,    1,     2.5,  5,     10};

static metrics_region *region_map(int fd, char *err, size_t errlen)
{
    void *p = mmap(NULL, sizeof(metrics_region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "cannot map the metrics region: %s", strerror(errno));
        return NULL;
    }
    return p;
}

metrics_region *metrics_region_create(int *fd, char *err, size_t errlen)
{
    *fd = memfd_create("payments-metrics", MFD_CLOEXEC);
    if (*fd < 0) {
        snprintf(err, errlen, "cannot create the metrics region: %s", strerror(errno));
        return NULL;
    }
    metrics_region *region = NULL;
    if (ftruncate(*fd, sizeof(metrics_region)) != 0)
        snprintf(err, errlen, "cannot size the metrics region: %s", strerror(errno));
    else
        region = region_map(*fd, err, errlen);
    if (!region) {
        close(*fd);
        *fd = -1;
        return NULL;
    }
    region->magic = METRICS_MAGIC; /* the rest is zero, as ftruncate made it */
    return region;
}

metrics_region *metrics_region_attach(int fd, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size != sizeof(metrics_region)) {
        snprintf(err, errlen, "descriptor %d is not this build's metrics region", fd);
        return NULL;
    }
    metrics_region *region = region_map(fd, err, errlen);
    if (region && region->magic != METRICS_MAGIC) {
        snprintf(err, errlen, "descriptor %d is not this build's metrics region", fd);
        metrics_region_unmap(region);
        return NULL;
    }
    return region;
}

void metrics_region_unmap(metrics_region *region)
{
    if (region)
        munmap(region, sizeof *region);
}

/* Counts made by another build's tables would be summed under wrong labels. */
static void slot_adopt(metrics_slot *slot, uint64_t fingerprint)
{
    if (atomic_load_explicit(&slot->fingerprint, memory_order_relaxed) == fingerprint)
        return;
    int32_t pid = atomic_load_explicit(&slot->pid, memory_order_relaxed);
    memset((void *)slot, 0, sizeof *slot);
    atomic_store_explicit(&slot->pid, pid, memory_order_relaxed);
    atomic_store_explicit(&slot->fingerprint, fingerprint, memory_order_release);
}

metrics_slot *metrics_region_claim(metrics_region *region, int pid, uint64_t fingerprint)
{
    for (int i = 0; i < METRICS_SLOTS; i++) {
        metrics_slot *slot = &region->slots[i];
        int32_t expected = 0;
        if (atomic_compare_exchange_strong(&slot->pid, &expected, pid)) {
            slot_adopt(slot, fingerprint);
            return slot;
        }
    }
    return NULL;
}

void metrics_region_release(metrics_region *region, int pid)
{
    for (int i = 0; i < METRICS_SLOTS; i++) {
        metrics_slot *slot = &region->slots[i];
        if (atomic_load(&slot->pid) != pid)
            continue;
        atomic_store(&slot->pool_in_use, 0);
        atomic_store(&slot->pool_waiting, 0);
        atomic_store(&slot->cpu_us, 0);
        atomic_store(&slot->rss_bytes, 0);
        for (int c = 0; c < METRICS_CIRCUITS; c++)
            atomic_store(&slot->circuits[c].state, 0);
        atomic_store(&slot->pid, 0);
        return;
    }
}

void metrics_histogram_observe(metrics_histogram *h, uint64_t elapsed_us)
{
    int i = 0;
    while (i < METRICS_BUCKETS && (double)elapsed_us > metrics_bucket_bounds[i] * 1e6)
        i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, elapsed_us, memory_order_relaxed);
}

void metrics_process_sample(uint64_t *cpu_us, uint64_t *rss_bytes)
{
    struct rusage ru;
    *cpu_us = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        *cpu_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec +
                  (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
    size_t rss = 0;
    *rss_bytes = uv_resident_set_memory(&rss) == 0 ? rss : 0;
}
