/* subscription_clock: a small file read synchronously. It exists in local
 * mode only (config.c refuses it elsewhere), so a blocking read of a few
 * bytes never slows a server that bills real cards. */
#include "subscription_clock.h"

#include "log.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *subscription_clock_read(const cfg *config, char out[SUBSCRIPTION_CLOCK_MAX])
{
    if (!config->test_clock)
        return NULL;
    FILE *file = fopen(config->test_clock, "r");
    if (!file) {
        log_warn("PAYMENT_TEST_CLOCK: cannot open the file; the scheduler takes the real time");
        return NULL;
    }
    size_t len = fread(out, 1, SUBSCRIPTION_CLOCK_MAX - 1, file);
    fclose(file);
    out[len] = '\0';
    while (len > 0 && isspace((unsigned char)out[len - 1]))
        out[--len] = '\0';
    if (len == 0) {
        log_warn("PAYMENT_TEST_CLOCK: the file is empty; the scheduler takes the real time");
        return NULL;
    }
    return out;
}
