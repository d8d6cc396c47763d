/* The schedule math of subscriptions (payment_subscription_next_due, in
 * sql/0009_subscriptions.sql), against the real PostgreSQL of
 * PAYMENT_POSTGRES_URL with the project's migrations applied to a schema of
 * its own: days past a month's end, "last" and 31 as one day, leap years,
 * and local times across both DST changes. */
#include "migrate.h"
#include "unit.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

static PGconn *db;
static char schema[64];

static bool setup(void)
{
    const char *url = getenv("PAYMENT_POSTGRES_URL");
    const char *source = getenv("PAYMENTS_SOURCE_DIR");
    if (!url || !*url || !source) {
        fprintf(stderr, "PAYMENT_POSTGRES_URL and PAYMENTS_SOURCE_DIR must be set (ctest and scripts/test do)\n");
        return false;
    }
    unsigned random = 0;
    if (getrandom(&random, sizeof random, 0) != sizeof random)
        random = (unsigned)getpid();
    snprintf(schema, sizeof schema, "schedule_%d_%08x", (int)getpid(), random);
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/sql", source);
    if (migrate_apply(url, schema, dir, err, sizeof err) < 0) {
        fprintf(stderr, "migrations: %s\n", err);
        return false;
    }
    db = PQconnectdb(url);
    const char *params[] = {schema};
    PGresult *res = PQexecParams(db, "SELECT set_config('search_path', $1, false)", 1, NULL, params, NULL, NULL, 0);
    bool ready = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ready;
}

static void teardown(void)
{
    PGresult *res = PQexecParams(db, "SELECT set_config('payments.schema', $1, false)", 1, NULL,
                                 (const char *const[]){schema}, NULL, NULL, 0);
    PQclear(res);
    res = PQexec(db, "DO $$ BEGIN EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', "
                     "current_setting('payments.schema')); END $$");
    PQclear(res);
    PQfinish(db);
}

static const unit_fixture database = {"database", setup, teardown};

/* The next due instant after `after`, as "YYYY-MM-DD HH:MI" UTC. */
static const char *next_due(const char *days, const char *last_day, const char *time, const char *zone,
                            const char *after)
{
    static char out[32];
    const char *params[] = {days, last_day, time, zone, after};
    PGresult *res = PQexecParams(db,
                                 "SELECT to_char(payment_subscription_next_due($1::smallint[], $2::boolean, $3::time,"
                                 " $4, $5::timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')",
                                 5, NULL, params, NULL, NULL, 0);
    snprintf(out, sizeof out, "%s",
             PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "error");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fprintf(stderr, "next_due: %s", PQerrorMessage(db));
    PQclear(res);
    return out;
}

#define CHECK_DUE(days, last, time, zone, after, expected) \
    CHECK(strcmp(next_due(days, last, time, zone, after), expected) == 0)

/* 1, 15 and last at 09:00 in Seoul (UTC+9, no DST) walk a year's months. */
UNIT_CASE(first_fifteenth_last, &database)
{
    const char *days = "{1,15}";
    CHECK_DUE(days, "true", "09:00", "Asia/Seoul", "2027-01-01 00:00Z", "2027-01-15 00:00");
    CHECK_DUE(days, "true", "09:00", "Asia/Seoul", "2027-01-15 00:00Z", "2027-01-31 00:00");
    CHECK_DUE(days, "true", "09:00", "Asia/Seoul", "2027-01-31 00:00Z", "2027-02-01 00:00");
    CHECK_DUE(days, "true", "09:00", "Asia/Seoul", "2027-02-15 00:00Z", "2027-02-28 00:00");
    CHECK_DUE(days, "true", "09:00", "Asia/Seoul", "2027-02-28 00:00Z", "2027-03-01 00:00");
    CHECK_DUE(days, "true", "09:00", "Asia/Seoul", "2027-04-15 00:00Z", "2027-04-30 00:00");
    /* Seoul's 09:00 on the 1st is the 31st of December in UTC. */
    CHECK_DUE(days, "true", "09:00", "Asia/Seoul", "2027-12-31 00:00Z", "2028-01-01 00:00");
}

/* A day past a month's end is its last day; with "last" too it is one
 * charge, and the next is the following month's. */
UNIT_CASE(past_the_month_end, &database)
{
    CHECK_DUE("{31}", "false", "12:00", "UTC", "2027-02-01 00:00Z", "2027-02-28 12:00");
    CHECK_DUE("{31}", "true", "12:00", "UTC", "2027-02-28 12:00Z", "2027-03-31 12:00");
    CHECK_DUE("{30,31}", "true", "12:00", "UTC", "2027-02-28 12:00Z", "2027-03-30 12:00");
    CHECK_DUE("{29}", "false", "12:00", "UTC", "2028-02-01 00:00Z", "2028-02-29 12:00"); /* a leap year */
    CHECK_DUE("{}", "true", "12:00", "UTC", "2028-02-01 00:00Z", "2028-02-29 12:00");
    CHECK_DUE("{31}", "false", "12:00", "UTC", "2027-04-01 00:00Z", "2027-04-30 12:00");
}

/* New York: 2027-03-14 02:30 does not exist (read as EST, 03:30 EDT);
 * 2027-11-07 01:30 happens twice (PostgreSQL takes the later, EST); the
 * offset of each instant is the one in force on its day. */
UNIT_CASE(across_dst, &database)
{
    CHECK_DUE("{1}", "false", "09:00", "America/New_York", "2027-02-15 00:00Z", "2027-03-01 14:00");
    CHECK_DUE("{1}", "false", "09:00", "America/New_York", "2027-03-15 00:00Z", "2027-04-01 13:00");
    CHECK_DUE("{14}", "false", "02:30", "America/New_York", "2027-03-01 00:00Z", "2027-03-14 07:30");
    CHECK_DUE("{7}", "false", "01:30", "America/New_York", "2027-11-01 00:00Z", "2027-11-07 06:30");
    CHECK_DUE("{1}", "false", "09:00", "Europe/Berlin", "2027-03-15 00:00Z", "2027-04-01 07:00");
    CHECK_DUE("{1}", "false", "09:00", "Europe/Berlin", "2027-10-15 00:00Z", "2027-11-01 08:00");
}
