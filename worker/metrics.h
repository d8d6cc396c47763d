/* The worker's share of the instance's metrics: its slot in the region the
 * master hands down (PAYMENT_METRICS_FD), the observers that count answers,
 * vendor calls and webhook deliveries into it, the gauges it publishes each
 * second, and GET /metrics on the operators' listener (metrics_page.c). */
#ifndef PAYMENTS_WORKER_METRICS_H
#define PAYMENTS_WORKER_METRICS_H

#include "metrics_region.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct worker;

typedef struct worker_metrics {
    metrics_region *region; /* NULL: this worker is not measured */
    metrics_slot *slot;
    bool owned;           /* made here, by a worker run alone */
    uint64_t fingerprint; /* of the route and vendor tables that give indexes their names */
} worker_metrics;

/* The labels of the region's indexes, as this build names them. */
#define METRICS_ROUTE_UNMATCHED_API (METRICS_ROUTES - 2)
#define METRICS_ROUTE_UNMATCHED_OPERATORS (METRICS_ROUTES - 1)
extern const int metrics_status_codes[METRICS_STATUSES - 1]; /* the last index is "other" */
extern const char *const metrics_vendor_operations[METRICS_VENDOR_OPERATIONS];
extern const char *const metrics_vendor_outcomes[METRICS_VENDOR_OUTCOMES];
int metrics_status_index(int status);
/* The route of index i: its method, pattern and listener ("api" or
 * "operators"); pattern "unmatched" for either listener's unmatched index
 * (method "-"); false past the tables. */
bool metrics_route_label(size_t index, const char **method, const char **pattern, const char **listener);

/* Attaches to the master's region (or, run alone, makes one), claims a slot
 * and starts observing. A worker without metrics still serves: -1 is only
 * logged by the caller. */
int metrics_open(struct worker *w);
/* The gauges: database pool, circuits, CPU and memory. About once a second. */
void metrics_publish(struct worker *w);
void metrics_close(struct worker *w);

#endif
