/* dunning_schedule: a list of delays, one per retry of a refused charge.
 * Kept apart from the webhook schedule: a retry here charges a card, so
 * there is no back-off spelling that could silently add retries. */
#include "dunning_schedule.h"

#include "duration.h"
#include "error.h"

#include <string.h>

int dunning_schedule_parse(dunning_schedule *out, const char *text, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return error_format(err, errlen, "no schedule");
    if (strcmp(text, "none") == 0)
        return 0;
    for (const char *item = text;; item++) {
        const char *end = strchr(item, ',');
        size_t len = end ? (size_t)(end - item) : strlen(item);
        if (out->count == DUNNING_SCHEDULE_MAX_RETRIES)
            return error_format(err, errlen, "at most %d retries", DUNNING_SCHEDULE_MAX_RETRIES);
        uint64_t delay = 0;
        if (duration_parse(item, len, DUNNING_SCHEDULE_MAX_DELAY_MS, &delay) < 0 || delay == 0)
            return error_format(err, errlen, "\"%.*s\" is not a duration from 1ms to 92d (e.g. 1d, 12h)",
                                (int)(len > 40 ? 40 : len), item);
        out->delays_ms[out->count++] = delay;
        if (!end)
            return 0;
        item = end;
    }
}

bool dunning_schedule_next(const dunning_schedule *schedule, unsigned refusals, uint64_t *delay_ms)
{
    if (refusals == 0 || refusals > schedule->count)
        return false;
    *delay_ms = schedule->delays_ms[refusals - 1];
    return true;
}
