/* PAYMENT_DUNNING_SCHEDULE: the delays between retries of a refused
 * subscription charge, the default 1d,3d,7d, when past due begins, and
 * every bad value refused with a reason. */
#include "config.h"
#include "dunning_schedule.h"
#include "harness.h"
#include "unit.h"

#include <stdlib.h>

#define HOUR (3600ULL * 1000)
#define DAY (24 * HOUR)

UNIT_CASE(default_schedule, NULL)
{
    dunning_schedule s;
    char err[160] = "";
    CHECK(dunning_schedule_parse(&s, DUNNING_SCHEDULE_DEFAULT, err, sizeof err) == 0);
    CHECK(s.count == 3);
    uint64_t delay = 0;
    CHECK(dunning_schedule_next(&s, 1, &delay) && delay == DAY);
    CHECK(dunning_schedule_next(&s, 2, &delay) && delay == 3 * DAY);
    CHECK(dunning_schedule_next(&s, 3, &delay) && delay == 7 * DAY);
    /* The fourth refusal is the last: past due. */
    CHECK(!dunning_schedule_next(&s, 4, &delay));
    CHECK(!dunning_schedule_next(&s, 0, &delay));
}

UNIT_CASE(lists_and_none, NULL)
{
    dunning_schedule s;
    char err[160] = "";
    CHECK(dunning_schedule_parse(&s, "12h, 2d,500ms", err, sizeof err) == 0);
    CHECK(s.count == 3 && s.delays_ms[0] == 12 * HOUR && s.delays_ms[1] == 2 * DAY && s.delays_ms[2] == 500);
    CHECK(dunning_schedule_parse(&s, "none", err, sizeof err) == 0);
    uint64_t delay = 0;
    CHECK(s.count == 0 && !dunning_schedule_next(&s, 1, &delay));
}

UNIT_CASE(refusals, NULL)
{
    dunning_schedule s;
    char err[160] = "";
    const char *bad[] = {"", "1d,", ",1d", "1d,,3d", "0s", "1w", "93d", "backoff:1s,1m,1h", "-1d", "1d 3d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK(dunning_schedule_parse(&s, bad[i], err, sizeof err) == -1);
        CHECK(err[0] != '\0');
    }
    CHECK(dunning_schedule_parse(&s, "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s", err, sizeof err) == -1);
    CHECK(strstr(err, "at most 16") != NULL);
}

/* Through the configuration: the defaults, and a refusal led by the
 * variable's name; the test clock only in local mode. */
UNIT_CASE(settings, NULL)
{
    harness_local_settings();
    cfg c;
    char err[256] = "";
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(c.dunning.count == 3 && c.dunning.delays_ms[2] == 7 * DAY);
    CHECK(c.scheduler_interval_ms == 10000 && c.test_clock == NULL && c.alert_failure_run == 5);
    cfg_free(&c);

    setenv("PAYMENT_TEST_CLOCK", "/tmp/clock", 1);
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(c.test_clock && strcmp(c.test_clock, "/tmp/clock") == 0);
    cfg_free(&c);

    setenv("PAYMENT_DUNNING_SCHEDULE", "1d,oops", 1);
    CHECK(cfg_load(&c, err, sizeof err) == -1);
    CHECK(strncmp(err, "PAYMENT_DUNNING_SCHEDULE: ", 26) == 0);
    unsetenv("PAYMENT_DUNNING_SCHEDULE");
    unsetenv("PAYMENT_TEST_CLOCK");
}
