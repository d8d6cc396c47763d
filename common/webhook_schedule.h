/* webhook_schedule: when a failed webhook notification is tried again
 * (PAYMENT_WEBHOOK_RETRY_SCHEDULE). Parsed once at start-up, so a bad value
 * stops the server with the variable's name instead of surfacing days later
 * at the tenth retry. Pure computation: the caller supplies the randomness. */
#ifndef PAYMENTS_WEBHOOK_SCHEDULE_H
#define PAYMENTS_WEBHOOK_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_SCHEDULE_MAX_RETRIES 64
/* Any one delay: a month, far beyond any sensible retry. */
#define WEBHOOK_SCHEDULE_MAX_DELAY_MS (30ULL * 24 * 3600 * 1000)

/* The delays before each retry; a notification gets 1 + count attempts. */
typedef struct webhook_schedule {
    uint64_t delays_ms[WEBHOOK_SCHEDULE_MAX_RETRIES];
    size_t count;
} webhook_schedule;

/* The default: exponential back-off from 10 seconds, capped at 6 hours,
 * for three days in all. */
#define WEBHOOK_SCHEDULE_DEFAULT "backoff:10s,6h,3d"

/* Parses one of:
 *   "10s,1m,5m,1h"           the delays themselves, in order;
 *   "backoff:FIRST,MAX,TOTAL" FIRST doubling up to MAX each time, until the
 *                             delays add up to TOTAL (the last one trimmed);
 *   "none"                    no retry.
 * A duration is an integer with a unit ms, s, m, h or d (bare: seconds).
 * Returns 0, or -1 with a reason in err. */
int webhook_schedule_parse(webhook_schedule *out, const char *text, char *err, size_t errlen);

/* Attempts in all, the first included. */
size_t webhook_schedule_attempts(const webhook_schedule *schedule);

/* After attempt number `attempt` (1 for the first) failed: false when it was
 * the last; else true with the wait before the next one in *delay_ms, the
 * scheduled delay spread by +-20% with random_unit in [0, 1), so that
 * notifications failing together do not come back together. */
bool webhook_schedule_next(const webhook_schedule *schedule, unsigned attempt, double random_unit, uint64_t *delay_ms);

/* The sum of the scheduled delays (without jitter). */
uint64_t webhook_schedule_total_ms(const webhook_schedule *schedule);

#endif
