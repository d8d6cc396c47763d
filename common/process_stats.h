/* process_stats: this process's CPU time, memory and resource usage in the
 * shape of the contract's IPerformance (Node's process.cpuUsage(),
 * memoryUsage() and resourceUsage(): microseconds, bytes, kilobytes for
 * maxRSS), so master and workers report alike. */
#ifndef PAYMENTS_PROCESS_STATS_H
#define PAYMENTS_PROCESS_STATS_H

#include <jansson.h>

/* {"cpu":{...}, "memory":{...}, "resource":{...}}; new reference, or NULL. */
json_t *process_performance(void);
/* Adds b's numbers into a's (same shape), for totals over processes. */
void process_performance_add(json_t *total, const json_t *one);

#endif
