/* The guessing limiter and the rate limiter, on a clock the test drives:
 * free failures, then delays that double up to the maximum; a block that
 * holds even the right secret back until it ends; a success that clears;
 * a table that stays bounded under many keys yet keeps the blocked ones;
 * token buckets with their burst and refill. */
#include "attempt_limit.h"
#include "rate_limit.h"
#include "unit.h"

#define SECOND 1000ULL

static attempt_limit *limit_new(void)
{
    attempt_limit_settings settings = {.free_failures = 3, .first_delay_ms = SECOND, .max_delay_ms = 8 * SECOND};
    return attempt_limit_create(&settings, 64);
}

UNIT_CASE(free_failures_then_doubling_delays, NULL)
{
    attempt_limit *limit = limit_new();
    if (!CHECK(limit != NULL))
        return;
    uint64_t now = 5000;
    for (int i = 0; i < 3; i++) {
        CHECK(attempt_limit_check(limit, "10.0.0.1", now) == 0);
        CHECK(!attempt_limit_failed(limit, "10.0.0.1", now));
    }
    CHECK(attempt_limit_failed(limit, "10.0.0.1", now)); /* the fourth trips */
    CHECK(attempt_limit_check(limit, "10.0.0.1", now) == SECOND);
    CHECK(attempt_limit_check(limit, "10.0.0.1", now + 400) == 600);
    CHECK(attempt_limit_check(limit, "10.0.0.2", now) == 0); /* another key is free */
    uint64_t expected[] = {2 * SECOND, 4 * SECOND, 8 * SECOND, 8 * SECOND};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        now += attempt_limit_check(limit, "10.0.0.1", now);
        CHECK(attempt_limit_check(limit, "10.0.0.1", now) == 0);
        CHECK(attempt_limit_failed(limit, "10.0.0.1", now));
        CHECK(attempt_limit_check(limit, "10.0.0.1", now) == expected[i]);
    }
    CHECK(attempt_limit_seconds(1) == 1 && attempt_limit_seconds(1000) == 1 && attempt_limit_seconds(1001) == 2);
    attempt_limit_destroy(limit);
}

UNIT_CASE(success_clears_and_silence_forgets, NULL)
{
    attempt_limit *limit = limit_new();
    if (!CHECK(limit != NULL))
        return;
    for (int i = 0; i < 4; i++)
        attempt_limit_failed(limit, "record", 0);
    CHECK(attempt_limit_check(limit, "record", 0) == SECOND);
    attempt_limit_succeeded(limit, "record");
    CHECK(attempt_limit_check(limit, "record", 0) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(!attempt_limit_failed(limit, "record", 0)); /* free failures again */
    /* Silent for the longest delay: forgotten, three free failures again. */
    uint64_t later = 8 * SECOND + 1;
    for (int i = 0; i < 3; i++)
        CHECK(!attempt_limit_failed(limit, "record", later));
    CHECK(attempt_limit_failed(limit, "record", later));
    attempt_limit_destroy(limit);
}

/* Thousands of addresses fail once each: the table keeps its size, and a
 * blocked key outlives them (the entries that matter least give way). */
UNIT_CASE(bounded_table_keeps_blocked_keys, NULL)
{
    attempt_limit *limit = limit_new();
    if (!CHECK(limit != NULL))
        return;
    for (int i = 0; i < 4; i++)
        attempt_limit_failed(limit, "attacked-record", 0);
    char key[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        attempt_limit_failed(limit, key, 10);
    }
    CHECK(attempt_limit_check(limit, "attacked-record", 10) == SECOND - 10);
    /* Each of them now blocked: the table still holds at most its 64. */
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        for (int j = 0; j < 4; j++)
            attempt_limit_failed(limit, key, 20);
    }
    int kept = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        kept += attempt_limit_check(limit, key, 20) > 0;
    }
    CHECK(kept > 0 && kept <= 64);
    attempt_limit_destroy(limit);
}

UNIT_CASE(token_bucket, NULL)
{
    rate_limit *limit = rate_limit_create(10, 5, 64); /* 10/s, burst 5 */
    if (!CHECK(limit != NULL))
        return;
    for (int i = 0; i < 5; i++)
        CHECK(rate_limit_take(limit, "127.0.0.1", 1000) == 0);
    CHECK(rate_limit_take(limit, "127.0.0.1", 1000) == 100); /* one token is 100 ms away */
    CHECK(rate_limit_take(limit, "127.0.0.1", 1040) == 60);
    CHECK(rate_limit_take(limit, "10.0.0.9", 1040) == 0); /* its own bucket */
    CHECK(rate_limit_take(limit, "127.0.0.1", 1100) == 0);
    CHECK(rate_limit_take(limit, "127.0.0.1", 1100) > 0);
    /* Half a second refills five: a burst again, not more. */
    for (int i = 0; i < 5; i++)
        CHECK(rate_limit_take(limit, "127.0.0.1", 1600) == 0);
    CHECK(rate_limit_take(limit, "127.0.0.1", 1600) > 0);
    rate_limit_destroy(limit);
}
