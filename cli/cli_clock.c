/* Time for the command line: the monotonic clock, which a change of the
 * system time cannot stretch or cut short, and a sleep that signals do not
 * shorten. */
#include "cli.h"

#include <errno.h>
#include <time.h>

long long cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cli_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}
