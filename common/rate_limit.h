/* rate_limit: a token bucket per key (a client address), for routes that
 * anyone may call but nobody should flood: each key may send `burst`
 * requests at once, then `per_second` a second. Times are given by the
 * caller (the loop's clock), so tests can drive them. */
#ifndef PAYMENTS_RATE_LIMIT_H
#define PAYMENTS_RATE_LIMIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct rate_limit rate_limit;

/* Keeps at most capacity keys (the fullest buckets give way). NULL when
 * memory runs out. */
rate_limit *rate_limit_create(unsigned per_second, unsigned burst, size_t capacity);
void rate_limit_destroy(rate_limit *limit);

/* Takes one token of key: 0 when there was one, else the milliseconds until
 * there is (nothing is taken then). */
uint64_t rate_limit_take(rate_limit *limit, const char *key, uint64_t now_ms);

#endif
