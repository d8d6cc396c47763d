/* attempt_limit: no unlimited guessing of a secret (a record password, the
 * system password). Failures are counted per key (a client address, a
 * record id); after `free_failures` of them the key is blocked for
 * `first_delay_ms`, a delay that doubles with each further failure up to
 * `max_delay_ms`. While blocked, the caller refuses without checking the
 * secret, so even the right one waits. A success clears the key. Times are
 * given by the caller (the loop's clock), so tests can drive them. */
#ifndef PAYMENTS_ATTEMPT_LIMIT_H
#define PAYMENTS_ATTEMPT_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct attempt_limit_settings {
    unsigned free_failures;  /* failures before the first delay */
    uint64_t first_delay_ms; /* the first delay, doubled per further failure */
    uint64_t max_delay_ms;   /* the delay never grows past this */
} attempt_limit_settings;

typedef struct attempt_limit attempt_limit;

/* Keeps at most capacity keys (the oldest give way). NULL when memory runs out. */
attempt_limit *attempt_limit_create(const attempt_limit_settings *settings, size_t capacity);
void attempt_limit_destroy(attempt_limit *limit);

/* 0 when key may try now, else the milliseconds it must still wait. */
uint64_t attempt_limit_check(attempt_limit *limit, const char *key, uint64_t now_ms);
/* Counts a failure of key; true when this failure blocks it (the moment to
 * log that the limit tripped). */
bool attempt_limit_failed(attempt_limit *limit, const char *key, uint64_t now_ms);
void attempt_limit_succeeded(attempt_limit *limit, const char *key);

/* A wait in whole seconds, rounded up, for a Retry-After header. */
uint64_t attempt_limit_seconds(uint64_t wait_ms);

#endif
