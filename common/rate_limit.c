/* rate_limit: tokens are counted in thousandths so that the refill of a
 * millisecond is a whole number. A bucket is kept only until it would be
 * full again: a full bucket and a forgotten one are the same. */
#include "rate_limit.h"

#include "key_table.h"

#include <stdlib.h>

struct rate_limit {
    uint64_t per_second;
    uint64_t burst_milli; /* a full bucket */
    key_table *table;
};

typedef struct bucket {
    uint64_t missing_milli; /* tokens taken and not refilled yet */
    uint64_t updated_ms;
} bucket;

rate_limit *rate_limit_create(unsigned per_second, unsigned burst, size_t capacity)
{
    rate_limit *limit = calloc(1, sizeof *limit);
    if (!limit)
        return NULL;
    limit->per_second = per_second ? per_second : 1;
    limit->burst_milli = (uint64_t)(burst ? burst : 1) * 1000;
    limit->table = key_table_create(capacity, sizeof(bucket));
    if (!limit->table) {
        free(limit);
        return NULL;
    }
    return limit;
}

void rate_limit_destroy(rate_limit *limit)
{
    if (!limit)
        return;
    key_table_destroy(limit->table);
    free(limit);
}

uint64_t rate_limit_take(rate_limit *limit, const char *key, uint64_t now_ms)
{
    bucket *b = key_table_claim(limit->table, key, now_ms);
    uint64_t refilled = (now_ms - b->updated_ms) * limit->per_second;
    b->missing_milli = refilled >= b->missing_milli ? 0 : b->missing_milli - refilled;
    b->updated_ms = now_ms;
    uint64_t wait_ms = 0;
    if (b->missing_milli + 1000 > limit->burst_milli)
        wait_ms = (b->missing_milli + 1000 - limit->burst_milli + limit->per_second - 1) / limit->per_second;
    else
        b->missing_milli += 1000;
    key_table_keep_until(b, now_ms + b->missing_milli / limit->per_second + 1);
    return wait_ms;
}
