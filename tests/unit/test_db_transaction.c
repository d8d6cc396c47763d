/* Unit tests of db_transaction against the real PostgreSQL of
 * PAYMENT_POSTGRES_URL: a COMMIT cut off by the pool shutting down is an
 * unknown outcome (the server may have committed), while a failure before
 * COMMIT is a plain failure and a finished COMMIT is success. */
#include "db_transaction.h"
#include "harness.h"
#include "unit.h"

#include <stdlib.h>

static uv_loop_t loop;
static const char *url;

typedef struct run {
    int done;
    app_error err;
    bool failed;
    pg_pool *shut_down_after_read; /* shut down once COMMIT has been sent */
    uv_timer_t timer;
} run;

static void on_done(const app_error *err, void *data)
{
    run *r = data;
    r->failed = err != NULL;
    if (err)
        r->err = *err;
    r->done++;
}

static void on_shut_down_time(uv_timer_t *timer)
{
    run *r = timer->data;
    pg_pool_shut_down(r->shut_down_after_read);
    uv_close((uv_handle_t *)timer, NULL);
}

/* The last statement's read runs just before COMMIT is sent; a timer then
 * fires before the loop can read COMMIT's answer. */
static int shut_down_soon(PGresult *res, app_error *err, void *data)
{
    (void)res;
    (void)err;
    run *r = data;
    if (r->shut_down_after_read) {
        r->timer.data = r;
        CHECK(uv_timer_init(&loop, &r->timer) == 0);
        CHECK(uv_timer_start(&r->timer, on_shut_down_time, 0, 0) == 0);
    }
    return 0;
}

static pg_pool *pool_open(void)
{
    pg_pool_options options = {.conninfo = url, .size = 1};
    pg_pool *pool = pg_pool_create(&loop, &options);
    CHECK(pool != NULL);
    return pool;
}

static void on_closed(void *data)
{
    (*(int *)data)++;
}

static run transact(pg_pool *pool, const char *sql, bool shut_down)
{
    run r = {.shut_down_after_read = shut_down ? pool : NULL};
    const db_statement statement = {.sql = sql, .read = shut_down_soon};
    db_transaction_run(pool, &statement, 1, on_done, &r);
    CHECK(harness_run_until_count(&loop, &r.done, 1, 20000));
    CHECK(r.done == 1);
    return r;
}

static bool database_set_up(void)
{
    url = getenv("PAYMENT_POSTGRES_URL");
    if (!url || !*url) {
        fprintf(stderr, "PAYMENT_POSTGRES_URL is not set: this test needs a PostgreSQL server\n");
        return false;
    }
    return CHECK(uv_loop_init(&loop) == 0);
}

static void database_tear_down(void)
{
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    CHECK(uv_loop_close(&loop) == 0);
}

static const unit_fixture database = {"database", database_set_up, database_tear_down};

UNIT_CASE(commit_succeeds, &database)
{
    pg_pool *pool = pool_open();
    run r = transact(pool, "SELECT 1", false);
    CHECK(!r.failed);
    int closed = 0;
    pg_pool_close(pool, on_closed, &closed);
    CHECK(harness_run_until_count(&loop, &closed, 1, 10000));
}

/* Before COMMIT nothing can have been written: a plain failure. */
UNIT_CASE(failure_before_commit_is_known, &database)
{
    pg_pool *pool = pool_open();
    run r = transact(pool, "SELEC 1", false);
    CHECK(r.failed && r.err.status == 500);
    CHECK(!db_transaction_outcome_unknown(&r.err));
    int closed = 0;
    pg_pool_close(pool, on_closed, &closed);
    CHECK(harness_run_until_count(&loop, &closed, 1, 10000));
}

/* COMMIT sent, then the pool shuts down (a draining worker): not a 503
 * "nothing happened", but an outcome nobody knows yet. */
UNIT_CASE(commit_cut_by_shutdown_is_unknown, &database)
{
    pg_pool *pool = pool_open();
    run r = transact(pool, "SELECT 1", true);
    CHECK(r.failed);
    CHECK(r.err.status == 504);
    CHECK(db_transaction_outcome_unknown(&r.err));
    CHECK(strstr(r.err.message, "unknown") != NULL);
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    pg_pool_free(pool);
}
