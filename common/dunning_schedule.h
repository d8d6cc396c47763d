/* dunning_schedule: when a subscription's refused charge is tried again
 * (PAYMENT_DUNNING_SCHEDULE, "1d,3d,7d"): one delay per retry, in order;
 * once they are spent, the subscription is past due. Parsed at start-up, so
 * a bad value stops the server with the variable's name. */
#ifndef PAYMENTS_DUNNING_SCHEDULE_H
#define PAYMENTS_DUNNING_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DUNNING_SCHEDULE_MAX_RETRIES 16
/* Any one delay: a quarter, beyond any billing cycle worth retrying in. */
#define DUNNING_SCHEDULE_MAX_DELAY_MS (92ULL * 24 * 3600 * 1000)
#define DUNNING_SCHEDULE_DEFAULT "1d,3d,7d"

typedef struct dunning_schedule {
    uint64_t delays_ms[DUNNING_SCHEDULE_MAX_RETRIES];
    size_t count; /* retries after the first attempt; 0 with "none" */
} dunning_schedule;

/* Parses "1d,3d,7d" (durations as duration.h spells them, each at least
 * 1 ms) or "none". Returns 0, or -1 with a reason in err. */
int dunning_schedule_parse(dunning_schedule *out, const char *text, char *err, size_t errlen);

/* After `refusals` refused attempts of one period (1 for the first): true
 * with the wait before the next attempt, or false when none is left and the
 * subscription becomes past due. */
bool dunning_schedule_next(const dunning_schedule *schedule, unsigned refusals, uint64_t *delay_ms);

#endif
