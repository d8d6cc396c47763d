/* attempt_limit: a key's failures and the end of its block, in a key_table.
 * A key with no failure for as long as the longest delay is forgotten, so
 * an honest client's old typos do not shorten its free tries forever. */
#include "attempt_limit.h"

#include "key_table.h"

#include <stdlib.h>

struct attempt_limit {
    attempt_limit_settings settings;
    key_table *table;
};

typedef struct attempt_state {
    unsigned failures;
    uint64_t blocked_until_ms;
} attempt_state;

attempt_limit *attempt_limit_create(const attempt_limit_settings *settings, size_t capacity)
{
    attempt_limit *limit = calloc(1, sizeof *limit);
    if (!limit)
        return NULL;
    limit->settings = *settings;
    if (limit->settings.max_delay_ms < limit->settings.first_delay_ms)
        limit->settings.max_delay_ms = limit->settings.first_delay_ms;
    limit->table = key_table_create(capacity, sizeof(attempt_state));
    if (!limit->table) {
        free(limit);
        return NULL;
    }
    return limit;
}

void attempt_limit_destroy(attempt_limit *limit)
{
    if (!limit)
        return;
    key_table_destroy(limit->table);
    free(limit);
}

uint64_t attempt_limit_check(attempt_limit *limit, const char *key, uint64_t now_ms)
{
    const attempt_state *state = key_table_find(limit->table, key, now_ms);
    return state && state->blocked_until_ms > now_ms ? state->blocked_until_ms - now_ms : 0;
}

/* The delay after `over` failures past the free ones (over >= 1). */
static uint64_t delay_after(const attempt_limit_settings *s, unsigned over)
{
    uint64_t delay = s->first_delay_ms;
    for (unsigned i = 1; i < over && delay < s->max_delay_ms; i++)
        delay *= 2;
    return delay < s->max_delay_ms ? delay : s->max_delay_ms;
}

bool attempt_limit_failed(attempt_limit *limit, const char *key, uint64_t now_ms)
{
    const attempt_limit_settings *s = &limit->settings;
    attempt_state *state = key_table_claim(limit->table, key, now_ms);
    if (state->failures < UINT32_MAX)
        state->failures++;
    bool trips = state->failures > s->free_failures;
    if (trips)
        state->blocked_until_ms = now_ms + delay_after(s, state->failures - s->free_failures);
    uint64_t from = state->blocked_until_ms > now_ms ? state->blocked_until_ms : now_ms;
    key_table_keep_until(state, from + s->max_delay_ms);
    return trips;
}

void attempt_limit_succeeded(attempt_limit *limit, const char *key)
{
    key_table_remove(limit->table, key);
}

uint64_t attempt_limit_seconds(uint64_t wait_ms)
{
    return wait_ms == 0 ? 0 : (wait_ms + 999) / 1000;
}
