/* webhook_schedule: the retry schedule's two spellings (a list of delays, or
 * exponential back-off given by its first delay, its cap and its total) both
 * become one array of delays, so the delivery code only ever indexes it. */
#include "webhook_schedule.h"

#include "duration.h"
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits text at commas into durations; returns how many, or -1 with err. */
static int parse_list(const char *text, uint64_t *out, size_t cap, char *err, size_t errlen)
{
    size_t count = 0;
    for (const char *item = text;; item++) {
        const char *end = strchr(item, ',');
        size_t len = end ? (size_t)(end - item) : strlen(item);
        if (count == cap)
            return error_format(err, errlen, "at most %zu delays", cap);
        if (duration_parse(item, len, WEBHOOK_SCHEDULE_MAX_DELAY_MS, &out[count]) < 0)
            return error_format(err, errlen, "\"%.*s\" is not a duration (e.g. 500ms, 10s, 5m, 2h, 1d)",
                                (int)(len > 40 ? 40 : len), item);
        count++;
        if (!end)
            return (int)count;
        item = end;
    }
}

static int parse_backoff(webhook_schedule *out, const char *text, char *err, size_t errlen)
{
    uint64_t spec[3];
    int n = parse_list(text, spec, 3, err, errlen);
    if (n < 0)
        return -1;
    uint64_t delay = spec[0], cap = spec[1], total = spec[2];
    if (n != 3 || delay == 0 || cap < delay)
        return error_format(err, errlen, "backoff:FIRST,MAX,TOTAL needs 0 < FIRST <= MAX");
    uint64_t sum = 0;
    while (sum < total) {
        if (out->count == WEBHOOK_SCHEDULE_MAX_RETRIES)
            return error_format(err, errlen, "backoff gives more than %d retries: raise FIRST or MAX",
                                WEBHOOK_SCHEDULE_MAX_RETRIES);
        uint64_t step = delay < total - sum ? delay : total - sum;
        out->delays_ms[out->count++] = step;
        sum += step;
        delay = delay > cap / 2 ? cap : delay * 2;
    }
    return 0;
}

int webhook_schedule_parse(webhook_schedule *out, const char *text, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!text)
        return error_format(err, errlen, "no schedule");
    if (strcmp(text, "none") == 0)
        return 0;
    if (strncmp(text, "backoff:", 8) == 0)
        return parse_backoff(out, text + 8, err, errlen);
    int n = parse_list(text, out->delays_ms, WEBHOOK_SCHEDULE_MAX_RETRIES, err, errlen);
    if (n < 0)
        return -1;
    out->count = (size_t)n;
    return 0;
}

size_t webhook_schedule_attempts(const webhook_schedule *schedule)
{
    return schedule->count + 1;
}

bool webhook_schedule_next(const webhook_schedule *schedule, unsigned attempt, double random_unit, uint64_t *delay_ms)
{
    if (attempt == 0 || attempt > schedule->count)
        return false;
    if (random_unit < 0 || random_unit >= 1)
        random_unit = 0.5;
    double base = (double)schedule->delays_ms[attempt - 1];
    *delay_ms = (uint64_t)(base * (0.8 + 0.4 * random_unit));
    return true;
}

uint64_t webhook_schedule_total_ms(const webhook_schedule *schedule)
{
    uint64_t total = 0;
    for (size_t i = 0; i < schedule->count; i++)
        total += schedule->delays_ms[i];
    return total;
}
