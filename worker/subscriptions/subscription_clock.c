/* subscription_clock: a small file read synchronously. It exists in local
 * mode only (config.c refuses it elsewhere), so a blocking read of a few
 * bytes never slows a server that bills real cards. */
#include "subscription_clock.h"

#include "log.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *problem_found(subscription_clock_problem problem, subscription_clock_problem *last)
{
    if (last && *last != problem) {
        if (problem == SUBSCRIPTION_CLOCK_UNREADABLE)
            log_warn("PAYMENT_TEST_CLOCK: cannot open the file; the scheduler takes the real time");
        else
            log_warn("PAYMENT_TEST_CLOCK: the file is empty; the scheduler takes the real time");
    }
    if (last)
        *last = problem;
    return NULL;
}

const char *subscription_clock_read(const cfg *config, char out[SUBSCRIPTION_CLOCK_MAX],
                                    subscription_clock_problem *last)
{
    if (!config->test_clock)
        return NULL;
    FILE *file = fopen(config->test_clock, "r");
    if (!file)
        return problem_found(SUBSCRIPTION_CLOCK_UNREADABLE, last);
    size_t len = fread(out, 1, SUBSCRIPTION_CLOCK_MAX - 1, file);
    fclose(file);
    out[len] = '\0';
    while (len > 0 && isspace((unsigned char)out[len - 1]))
        out[--len] = '\0';
    if (len == 0)
        return problem_found(SUBSCRIPTION_CLOCK_EMPTY, last);
    if (last)
        *last = SUBSCRIPTION_CLOCK_FINE;
    return out;
}
