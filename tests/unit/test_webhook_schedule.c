/* The webhook retry schedule: both spellings parse to the delays an operator
 * expects, the default covers three days, every bad value is refused with a
 * reason, and the jitter stays within +-20% of the scheduled delay. Also the
 * PAYMENT_WEBHOOK_* settings: defaults, the derived secret, refusals. */
#include "config.h"
#include "harness.h"
#include "unit.h"
#include "webhook_schedule.h"

#include <stdlib.h>

#define SECOND 1000ULL
#define HOUR (3600 * SECOND)
#define DAY (24 * HOUR)

UNIT_CASE(list, NULL)
{
    webhook_schedule s;
    char err[160] = "";
    CHECK(webhook_schedule_parse(&s, "500ms, 10s,5m,2h,1d,30", err, sizeof err) == 0);
    CHECK(s.count == 6);
    CHECK(s.delays_ms[0] == 500 && s.delays_ms[1] == 10 * SECOND && s.delays_ms[2] == 300 * SECOND);
    CHECK(s.delays_ms[3] == 2 * HOUR && s.delays_ms[4] == DAY && s.delays_ms[5] == 30 * SECOND);
    CHECK(webhook_schedule_attempts(&s) == 7);
    CHECK(webhook_schedule_parse(&s, "none", err, sizeof err) == 0);
    CHECK(s.count == 0 && webhook_schedule_attempts(&s) == 1);
}

/* The default: 10 s doubling to 6 h, three days in all, the last trimmed. */
UNIT_CASE(default_backoff, NULL)
{
    webhook_schedule s;
    char err[160] = "";
    CHECK(webhook_schedule_parse(&s, WEBHOOK_SCHEDULE_DEFAULT, err, sizeof err) == 0);
    CHECK(webhook_schedule_total_ms(&s) == 3 * DAY);
    CHECK(s.delays_ms[0] == 10 * SECOND && s.delays_ms[1] == 20 * SECOND && s.delays_ms[10] == 10240 * SECOND);
    CHECK(s.delays_ms[11] == 20480 * SECOND && s.delays_ms[12] == 6 * HOUR && s.delays_ms[21] == 6 * HOUR);
    CHECK(s.count == 23 && s.delays_ms[22] == 2250 * SECOND);
    for (size_t i = 1; i < s.count - 1; i++)
        CHECK(s.delays_ms[i] >= s.delays_ms[i - 1] && s.delays_ms[i] <= 6 * HOUR);
    CHECK(webhook_schedule_parse(&s, "backoff:100ms,400ms,1s", err, sizeof err) == 0);
    CHECK(s.count == 4 && s.delays_ms[0] == 100 && s.delays_ms[1] == 200 && s.delays_ms[2] == 400 &&
          s.delays_ms[3] == 300);
}

static void expect_refused(const char *text, const char *reason)
{
    webhook_schedule s;
    char err[160] = "";
    CHECK(webhook_schedule_parse(&s, text, err, sizeof err) == -1);
    if (!strstr(err, reason))
        fprintf(stderr, "schedule \"%s\": reason \"%s\" lacks \"%s\"\n", text, err, reason);
    CHECK(strstr(err, reason) != NULL);
}

UNIT_CASE(refusals, NULL)
{
    expect_refused("", "is not a duration");
    expect_refused("10x", "\"10x\" is not a duration");
    expect_refused("10s,,5s", "is not a duration");
    expect_refused("-5s", "is not a duration");
    expect_refused("31d", "is not a duration");
    expect_refused("backoff:0s,1h,1d", "0 < FIRST <= MAX");
    expect_refused("backoff:1h,1s,1d", "0 < FIRST <= MAX");
    expect_refused("backoff:1s,1h", "0 < FIRST <= MAX");
    expect_refused("backoff:1ms,1ms,1d", "more than 64 retries");
    char many[65 * 3 + 1] = "";
    for (int i = 0; i < 65; i++)
        strcat(many, i ? ",1s" : "1s");
    expect_refused(many, "at most 64");
}

UNIT_CASE(next_with_jitter, NULL)
{
    webhook_schedule s;
    char err[160] = "";
    CHECK(webhook_schedule_parse(&s, "10s,1m", err, sizeof err) == 0);
    uint64_t delay = 0;
    CHECK(webhook_schedule_next(&s, 1, 0.0, &delay) && delay == 8 * SECOND);
    CHECK(webhook_schedule_next(&s, 1, 0.5, &delay) && delay == 10 * SECOND);
    CHECK(webhook_schedule_next(&s, 1, 0.999999, &delay) && delay >= 11999 && delay <= 12 * SECOND);
    CHECK(webhook_schedule_next(&s, 2, 0.25, &delay) && delay == 54 * SECOND);
    /* After the third attempt (the last) nothing follows. */
    CHECK(!webhook_schedule_next(&s, 3, 0.5, &delay));
    CHECK(!webhook_schedule_next(&s, 0, 0.5, &delay));
}

static void set_required(void)
{
    harness_local_settings();
    unsetenv("PAYMENT_WEBHOOK_SECRET");
    unsetenv("PAYMENT_WEBHOOK_TIMEOUT_MS");
    unsetenv("PAYMENT_WEBHOOK_RETRY_SCHEDULE");
}

/* The local default secret: Python's hmac.new(b"0123456789abcdef" (the
 * history key), b"payments webhook secret v2", hashlib.sha256).hexdigest().
 * It follows the history key, never the system password: the old default,
 * sha256(b"payments webhook secret v1" + b"secret"), let every receiver try
 * passwords offline. */
UNIT_CASE(settings, NULL)
{
    set_required();
    cfg c;
    char err[256] = "";
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK_STR(c.webhook_secret, "3c95632522b5a526ecfbac987a6defd73ae756155d180bbe33f6aaae1b6136d4");
    cfg_free(&c);
    setenv("PAYMENT_SYSTEM_PASSWORD", "another system password", 1);
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK_STR(c.webhook_secret, "3c95632522b5a526ecfbac987a6defd73ae756155d180bbe33f6aaae1b6136d4");
    cfg_free(&c);
    setenv("PAYMENT_HISTORY_ENCRYPTION_KEY", "fedcba9876543210", 1);
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(strlen(c.webhook_secret) == 64 &&
          strcmp(c.webhook_secret, "3c95632522b5a526ecfbac987a6defd73ae756155d180bbe33f6aaae1b6136d4") != 0);
    cfg_free(&c);
    set_required();
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(c.webhook_timeout_ms == 10000);
    CHECK(webhook_schedule_total_ms(&c.webhook_retry) == 3 * DAY);
    cfg_free(&c);
    setenv("PAYMENT_WEBHOOK_SECRET", "explicit webhook secret", 1);
    setenv("PAYMENT_WEBHOOK_TIMEOUT_MS", "500", 1);
    setenv("PAYMENT_WEBHOOK_RETRY_SCHEDULE", "200ms,1s", 1);
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK_STR(c.webhook_secret, "explicit webhook secret");
    CHECK(c.webhook_timeout_ms == 500 && c.webhook_retry.count == 2 && c.webhook_retry.delays_ms[1] == 1000);
    cfg_free(&c);
    setenv("PAYMENT_WEBHOOK_RETRY_SCHEDULE", "soon", 1);
    CHECK(cfg_load(&c, err, sizeof err) == -1);
    CHECK(strncmp(err, "PAYMENT_WEBHOOK_RETRY_SCHEDULE: ", 32) == 0);
    CHECK(strstr(err, "explicit webhook secret") == NULL);
    setenv("PAYMENT_WEBHOOK_RETRY_SCHEDULE", "1s", 1);
    setenv("PAYMENT_WEBHOOK_TIMEOUT_MS", "0", 1);
    CHECK(cfg_load(&c, err, sizeof err) == -1);
    CHECK(strstr(err, "PAYMENT_WEBHOOK_TIMEOUT_MS") != NULL);
    set_required();
}
