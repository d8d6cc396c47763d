/* subscription_clock: the instant the scheduler and the subscription routes
 * take for now. Normally PostgreSQL's now(); with PAYMENT_TEST_CLOCK (local
 * mode only), the instant written in that file, read again each time, so a
 * test moves a running server through months in seconds. */
#ifndef PAYMENTS_SUBSCRIPTION_CLOCK_H
#define PAYMENTS_SUBSCRIPTION_CLOCK_H

#include "config.h"

#include <stdbool.h>

#define SUBSCRIPTION_CLOCK_MAX 64

/* The SQL expression of now for parameter number param ("$3"): the
 * parameter when it is set, else now(). */
#define SUBSCRIPTION_CLOCK_SQL(param) "coalesce(" param "::timestamptz, now())"

/* What the last read of the test clock's file found wrong, so that a reader
 * polling it (the scheduler, at every tick) logs a problem once, and again
 * only after the file changed. */
typedef enum subscription_clock_problem {
    SUBSCRIPTION_CLOCK_FINE,
    SUBSCRIPTION_CLOCK_UNREADABLE,
    SUBSCRIPTION_CLOCK_EMPTY,
} subscription_clock_problem;

/* Fills out with the test clock's instant and returns it, or returns NULL
 * (now() it is) when there is no test clock or its file cannot be read.
 * A problem is logged (a test that forgot to write the file sees why
 * nothing is due) when it differs from *last, which is updated; NULL last:
 * not logged, for readers that a polling one already speaks for. */
const char *subscription_clock_read(const cfg *config, char out[SUBSCRIPTION_CLOCK_MAX],
                                    subscription_clock_problem *last);

#endif
