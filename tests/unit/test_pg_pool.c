/* pg_pool against the real PostgreSQL of PAYMENT_POSTGRES_URL (in a fresh
 * schema), plus a private cluster this test stops and restarts to check that
 * the pool answers 503 while the server is gone and recovers by itself. */
#include "harness.h"
#include "pg_pool.h"
#include "pg_pool_internal.h" /* PG_PREPARED_MAX */
#include "unit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uv_loop_t loop;
static const char *url;
static char schema[64];
static PGconn *schema_db;    /* made the schema; drops it */
static pg_pool *shared_pool; /* three connections, for the cases that need no pool of their own */

/* ---- waiting on the loop ---- */

static bool wait_for(const int *value, int target, uint64_t timeout_ms)
{
    return harness_run_until_count(&loop, value, target, timeout_ms);
}

static bool pool_connected(void *pool)
{
    return pg_pool_connected(pool);
}

static bool wait_connected(pg_pool *pool, uint64_t timeout_ms)
{
    return harness_run_until(&loop, pool_connected, pool, timeout_ms);
}

/* Lets the loop run for ms, whatever happens. */
static void pause_on_loop(uint64_t ms)
{
    int never = 0;
    wait_for(&never, 1, ms);
}

/* ---- recording outcomes ---- */

typedef struct outcome {
    int calls;
    int status;
    int rows;
    int order; /* completion rank, from a shared counter */
    int *counter;
    char value[128];
    char message[256];
} outcome;

static void on_result(PGresult *res, const app_error *err, void *data)
{
    outcome *o = data;
    o->calls++;
    if (o->counter)
        o->order = ++*o->counter;
    if (err) {
        o->status = err->status;
        snprintf(o->message, sizeof o->message, "%s", err->message);
        return;
    }
    o->status = 0;
    o->rows = PQntuples(res);
    if (o->rows > 0 && PQnfields(res) > 0)
        snprintf(o->value, sizeof o->value, "%s", PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
}

/* One statement through the pool, waited for. */
static outcome run_query(pg_pool *pool, const char *sql, int nparams, const char *const *params)
{
    outcome o = {0};
    pg_pool_query(pool, sql, nparams, params, on_result, &o);
    CHECK(wait_for(&o.calls, 1, 20000));
    CHECK(o.calls == 1);
    return o;
}

static pg_pool *pool_open(const char *conninfo, int size, int max_queue, long timeout_ms)
{
    pg_pool_options options = {
        .conninfo = conninfo, .schema = schema, .size = size, .max_queue = max_queue, .query_timeout_ms = timeout_ms};
    pg_pool *pool = pg_pool_create(&loop, &options);
    CHECK(pool != NULL);
    return pool;
}

static void on_closed(void *data)
{
    (*(int *)data)++;
}

static void pool_close_wait(pg_pool *pool)
{
    int closed = 0;
    pg_pool_close(pool, on_closed, &closed);
    CHECK(wait_for(&closed, 1, 10000));
    CHECK(closed == 1);
}

/* ---- a lease running a script of statements ---- */

typedef struct step {
    const char *sql;
    const char *params[2];
    int nparams;
} step;

typedef struct lease_script {
    const step *steps;
    int count;
    int next;
    bool release_early; /* queue every step, release at once */
    pg_conn *conn;
    int lease_calls;
    int lease_status;
    int statuses[8];
    int done;
} lease_script;

static void on_step(PGresult *res, const app_error *err, void *data);

static void script_send(lease_script *s, int index)
{
    const step *st = &s->steps[index];
    pg_conn_query(s->conn, st->sql, st->nparams, st->params, on_step, s);
}

static void on_step(PGresult *res, const app_error *err, void *data)
{
    (void)res;
    lease_script *s = data;
    s->statuses[s->next++] = err ? err->status : 0;
    if (s->release_early) {
        if (s->next == s->count)
            s->done = 1;
        return;
    }
    if (s->next < s->count) {
        script_send(s, s->next);
        return;
    }
    pg_conn_release(s->conn);
    s->done = 1;
}

static void on_lease(pg_conn *conn, const app_error *err, void *data)
{
    lease_script *s = data;
    s->lease_calls++;
    if (err) {
        s->lease_status = err->status;
        s->done = 1;
        return;
    }
    s->conn = conn;
    if (!s->release_early) {
        script_send(s, 0);
        return;
    }
    for (int i = 0; i < s->count; i++)
        script_send(s, i);
    pg_conn_release(conn);
}

static void run_lease(pg_pool *pool, lease_script *s)
{
    pg_pool_lease(pool, on_lease, s);
    CHECK(wait_for(&s->done, 1, 20000));
    CHECK(s->lease_calls == 1);
    CHECK(s->next == s->count);
}

/* ---- setup ---- */

static int schema_statement(PGconn *db, const char *statement)
{
    PGresult *res = PQexecParams(db, "SELECT set_config('payments.schema', $1, false)", 1, NULL,
                                 (const char *const[]){schema}, NULL, NULL, 0);
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    res = PQexec(db, statement);
    ok = ok && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "setup failed: %s", PQerrorMessage(db));
    PQclear(res);
    return ok ? 0 : -1;
}

/* A fresh schema with mixed case: the pool must quote it in search_path. */
static PGconn *schema_create(void)
{
    unsigned int random = 0;
    if (getrandom(&random, sizeof random, 0) != sizeof random)
        random = (unsigned int)time(NULL);
    snprintf(schema, sizeof schema, "Pool_%d_%08x", (int)getpid(), random);
    PGconn *db = PQconnectdb(url);
    if (PQstatus(db) == CONNECTION_OK) {
        PQclear(PQexec(db, "SET client_min_messages = warning"));
        if (schema_statement(db, "DO $$ BEGIN EXECUTE format('CREATE SCHEMA %I', "
                                 "current_setting('payments.schema')); END $$") == 0)
            return db;
    }
    fprintf(stderr, "cannot prepare the schema: %s", PQerrorMessage(db));
    PQfinish(db);
    return NULL;
}

static void schema_drop(void)
{
    CHECK(schema_statement(schema_db, "DO $$ BEGIN EXECUTE format('DROP SCHEMA %I CASCADE', "
                                      "current_setting('payments.schema')); END $$") == 0);
    PQfinish(schema_db);
}

/* Undoes database_set_up, all of it or the part that was done. */
static void database_tear_down(void)
{
    if (shared_pool)
        pool_close_wait(shared_pool);
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0);
    CHECK(uv_loop_close(&loop) == 0);
    schema_drop();
}

static bool database_set_up(void)
{
    url = getenv("PAYMENT_POSTGRES_URL");
    if (!url || !*url) {
        fprintf(stderr, "PAYMENT_POSTGRES_URL is not set: this test needs a PostgreSQL server\n");
        return false;
    }
    schema_db = schema_create();
    if (!schema_db)
        return false;
    if (!CHECK(uv_loop_init(&loop) == 0)) {
        schema_drop();
        return false;
    }
    shared_pool = pool_open(url, 3, 0, 0);
    /* Unqualified: search_path must point at the schema. */
    if (shared_pool && CHECK(wait_connected(shared_pool, 10000)) &&
        CHECK(run_query(shared_pool,
                        "CREATE TABLE items (id int PRIMARY KEY, label text, "
                        "CONSTRAINT items_label_key UNIQUE (label))",
                        0, NULL)
                  .status == 0))
        return true;
    database_tear_down();
    return false;
}

static const unit_fixture database = {"database", database_set_up, database_tear_down};

/* ---- the tests ---- */

UNIT_CASE(parameters, &database)
{
    pg_pool *pool = shared_pool;
    outcome o = run_query(pool, "SELECT $1::int + $2::int", 2, (const char *const[]){"2", "40"});
    CHECK(o.status == 0);
    CHECK_STR(o.value, "42");
    o = run_query(pool, "SELECT $1::text IS NULL", 1, (const char *const[]){NULL});
    CHECK_STR(o.value, "t");
    o = run_query(pool, "SELECT current_schema()", 0, NULL);
    CHECK_STR(o.value, schema);
    o = run_query(pool, "SELECT current_setting('application_name')", 0, NULL);
    CHECK_STR(o.value, "payments");
}

UNIT_CASE(concurrent, &database)
{
    pg_pool *pool = shared_pool;
    enum { N = 50 };
    outcome results[N] = {{0}};
    char numbers[N][8];
    int completed = 0;
    for (int i = 0; i < N; i++) {
        snprintf(numbers[i], sizeof numbers[i], "%d", i);
        results[i].counter = &completed;
        pg_pool_query(pool, "SELECT $1::int FROM pg_sleep(0.01)", 1, (const char *const[]){numbers[i]}, on_result,
                      &results[i]);
    }
    CHECK(wait_for(&completed, N, 30000));
    int right = 0;
    for (int i = 0; i < N; i++)
        right += results[i].calls == 1 && results[i].status == 0 && strcmp(results[i].value, numbers[i]) == 0;
    CHECK(right == N);
}

/* One connection: the queue is FIFO, bounded, and a refusal never calls back
 * inside pg_pool_query. */
UNIT_CASE(queue_order_and_bound, &database)
{
    pg_pool *pool = pool_open(url, 1, 2, 0);
    CHECK(wait_connected(pool, 10000));
    outcome results[4] = {{0}};
    int completed = 0;
    for (int i = 0; i < 4; i++) {
        results[i].counter = &completed;
        pg_pool_query(pool, "SELECT 1 FROM pg_sleep(0.05)", 0, NULL, on_result, &results[i]);
    }
    CHECK(results[3].calls == 0); /* refused, but not from inside the call */
    CHECK(wait_for(&completed, 4, 20000));
    CHECK(results[3].status == 503);
    CHECK_STR(results[3].message, "database busy");
    CHECK(results[0].status == 0 && results[1].status == 0 && results[2].status == 0);
    CHECK(results[0].order < results[1].order && results[1].order < results[2].order);
    pool_close_wait(pool);
}

UNIT_CASE(errors, &database)
{
    pg_pool *pool = shared_pool;
    static const char insert[] = "INSERT INTO items (id, label) VALUES ($1::int, $2)";
    CHECK(run_query(pool, insert, 2, (const char *const[]){"10", "errors"}).status == 0);
    outcome o = run_query(pool, insert, 2, (const char *const[]){"10", "other"});
    CHECK(o.status == 409);
    CHECK(strstr(o.message, "items_pkey") != NULL);
    o = run_query(pool, insert, 2, (const char *const[]){"99", "errors"});
    CHECK(o.status == 409);
    CHECK(strstr(o.message, "items_label_key") != NULL);
    o = run_query(pool, "SELEC 1", 0, NULL);
    CHECK(o.status == 500);
    o = run_query(pool, "SELECT $1::int", 1, (const char *const[]){"secret-value"});
    CHECK(o.status == 500);
    CHECK(strstr(o.message, "secret-value") == NULL);
    o = run_query(pool, "SELECT 7", 0, NULL); /* the connection still serves */
    CHECK_STR(o.value, "7");
}

UNIT_CASE(leases, &database)
{
    /* One connection, so the checks run on the connection the lease used. */
    pg_pool *pool = pool_open(url, 1, 0, 0);
    CHECK(wait_connected(pool, 10000));
    static const step commit[] = {{"BEGIN", {NULL}, 0},
                                  {"INSERT INTO items (id, label) VALUES ($1::int, $2)", {"1", "a"}, 2},
                                  {"COMMIT", {NULL}, 0}};
    lease_script s1 = {.steps = commit, .count = 3};
    run_lease(pool, &s1);
    CHECK(s1.statuses[0] == 0 && s1.statuses[1] == 0 && s1.statuses[2] == 0);
    CHECK_STR(run_query(pool, "SELECT count(*) FROM items WHERE id = 1", 0, NULL).value, "1");

    static const step open[] = {{"BEGIN", {NULL}, 0},
                                {"INSERT INTO items (id, label) VALUES ($1::int, $2)", {"2", "b"}, 2}};
    lease_script s2 = {.steps = open, .count = 2};
    run_lease(pool, &s2);
    CHECK(s2.statuses[1] == 0);
    /* Same connection: had the release not rolled back, its own row shows. */
    CHECK_STR(run_query(pool, "SELECT count(*) FROM items WHERE id = 2", 0, NULL).value, "0");
    CHECK_STR(run_query(pool, "SELECT pg_current_xact_id_if_assigned() IS NULL", 0, NULL).value, "t");

    static const step queued[] = {{"BEGIN", {NULL}, 0},
                                  {"INSERT INTO items (id, label) VALUES ($1::int, $2)", {"3", "c"}, 2},
                                  {"COMMIT", {NULL}, 0}};
    lease_script s3 = {.steps = queued, .count = 3, .release_early = true};
    run_lease(pool, &s3);
    CHECK(s3.statuses[0] == 0 && s3.statuses[1] == 0 && s3.statuses[2] == 0);
    CHECK_STR(run_query(pool, "SELECT count(*) FROM items WHERE id = 3", 0, NULL).value, "1");
    pool_close_wait(pool);
}

UNIT_CASE(timeout, &database)
{
    pg_pool *pool = pool_open(url, 1, 0, 300);
    CHECK(wait_connected(pool, 10000));
    outcome o = run_query(pool, "SELECT 'timeout-probe', pg_sleep(60)", 0, NULL);
    CHECK(o.status == 504);
    /* The server stopped the statement (cancelled), bounded wait. */
    const char *probe = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%timeout-probe%' "
                        "AND state = 'active' AND pid <> pg_backend_pid()";
    for (int i = 0; i < 100; i++) {
        o = run_query(pool, probe, 0, NULL);
        if (strcmp(o.value, "0") == 0)
            break;
        usleep(100000);
    }
    CHECK_STR(o.value, "0");
    pool_close_wait(pool);
}

UNIT_CASE(close_fails_pending, &database)
{
    pg_pool *pool = pool_open(url, 1, 0, 0);
    CHECK(wait_connected(pool, 10000));
    outcome running = {0}, queued[3] = {{0}};
    lease_script waiting = {.count = 0};
    pg_pool_query(pool, "SELECT pg_sleep(30)", 0, NULL, on_result, &running);
    for (int i = 0; i < 3; i++)
        pg_pool_query(pool, "SELECT 1", 0, NULL, on_result, &queued[i]);
    pg_pool_lease(pool, on_lease, &waiting);
    pool_close_wait(pool);
    CHECK(running.calls == 1 && running.status == 503);
    CHECK_STR(running.message, "shutting down");
    for (int i = 0; i < 3; i++)
        CHECK(queued[i].calls == 1 && queued[i].status == 503);
    CHECK(waiting.lease_calls == 1 && waiting.lease_status == 503);
}

/* ---- the prepared-statement cache ---- */

static const char prepared_count_sql[] = "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1";

/* Keyed by the text, not the pointer: two copies are one statement. */
static void prepared_reused(pg_pool *pool)
{
    static const char sql[] = "SELECT $1::int * 2";
    char copy[sizeof sql];
    memcpy(copy, sql, sizeof sql);
    CHECK_STR(run_query(pool, sql, 1, (const char *const[]){"21"}).value, "42");
    CHECK_STR(run_query(pool, copy, 1, (const char *const[]){"4"}).value, "8");
    CHECK_STR(run_query(pool, prepared_count_sql, 1, (const char *const[]){sql}).value, "1");
}

/* A statement that does not parse fails as before, every time, and leaves
 * the connection (and a lease's release) working. */
static void prepared_parse_failure(pg_pool *pool)
{
    for (int i = 0; i < 2; i++) {
        outcome o = run_query(pool, "SELEC $1::int", 1, (const char *const[]){"1"});
        CHECK(o.status == 500);
    }
    CHECK_STR(run_query(pool, "SELECT $1::int + 1", 1, (const char *const[]){"5"}).value, "6");
    static const step aborted[] = {{"BEGIN", {NULL}, 0}, {"SELEC 2", {NULL}, 0}, {"SELECT 3", {NULL}, 0}};
    lease_script s = {.steps = aborted, .count = 3};
    run_lease(pool, &s);
    CHECK(s.statuses[0] == 0 && s.statuses[1] == 500 && s.statuses[2] == 500);
    CHECK_STR(run_query(pool, "SELECT 3", 0, NULL).value, "3");
    CHECK_STR(run_query(pool, "SELECT pg_current_xact_id_if_assigned() IS NULL", 0, NULL).value, "t");
}

/* Past the bound, statements still run (unprepared) and give their own rows. */
static void prepared_bounded(pg_pool *pool)
{
    int right = 0;
    for (int i = 0; i < PG_PREPARED_MAX + 8; i++) {
        char sql[64], expected[16];
        snprintf(sql, sizeof sql, "SELECT %d AS bounded", i);
        snprintf(expected, sizeof expected, "%d", i);
        right += strcmp(run_query(pool, sql, 0, NULL).value, expected) == 0;
    }
    CHECK(right == PG_PREPARED_MAX + 8);
    outcome o = run_query(pool, "SELECT count(*) FROM pg_prepared_statements", 0, NULL);
    CHECK_STR(o.value, "64");
    CHECK_STR(run_query(pool, "SELECT $1::int * 2", 1, (const char *const[]){"50"}).value, "100");
}

/* The cache dies with the session: after the backend is killed, the same
 * statement is prepared again on the new one. */
static void prepared_after_reconnect(pg_pool *pool)
{
    CHECK(run_query(pool, "SELECT pg_terminate_backend(pg_backend_pid())", 0, NULL).status != 0);
    outcome o = run_query(pool, "SELECT $1::int * 2", 1, (const char *const[]){"7"});
    CHECK(o.status == 0);
    CHECK_STR(o.value, "14");
    o = run_query(pool, "SELECT count(*) FROM pg_prepared_statements", 0, NULL);
    CHECK_STR(o.value, "2");
}

/* One connection, so every statement shares one session. */
UNIT_CASE(prepared_cache, &database)
{
    pg_pool *pool = pool_open(url, 1, 0, 0);
    CHECK(wait_connected(pool, 10000));
    prepared_reused(pool);
    prepared_parse_failure(pool);
    prepared_bounded(pool);
    prepared_after_reconnect(pool);
    pool_close_wait(pool);
}

/* ---- a private cluster to stop and restart ---- */

static int cluster_command(const char *action, const char *dir, int port, char *url_out, size_t size)
{
    const char *source = getenv("PAYMENTS_SOURCE_DIR");
    char command[1024];
    if (port > 0)
        snprintf(command, sizeof command, "'%s/scripts/postgres' %s '%s' %d", source, action, dir, port);
    else
        snprintf(command, sizeof command, "'%s/scripts/postgres' %s '%s'", source, action, dir);
    FILE *out = popen(command, "r");
    if (!out)
        return -1;
    char line[256] = "";
    if (!fgets(line, sizeof line, out))
        line[0] = '\0';
    int status = pclose(out);
    line[strcspn(line, "\n")] = '\0';
    if (url_out)
        snprintf(url_out, size, "%s", line);
    return status == 0 ? 0 : -1;
}

typedef struct lease_holder {
    int calls;
    int status;
    pg_conn *conn;
} lease_holder;

static void on_lease_held(pg_conn *conn, const app_error *err, void *data)
{
    lease_holder *holder = data;
    holder->calls++;
    holder->status = err ? err->status : 0;
    holder->conn = conn;
}

static outcome run_on_lease(pg_conn *conn, const char *sql)
{
    outcome o = {0};
    pg_conn_query(conn, sql, 0, NULL, on_result, &o);
    CHECK(o.calls == 0);
    CHECK(wait_for(&o.calls, 1, 20000));
    return o;
}

/* The server stops under a pool holding a lease in a transaction. */
static void reconnect_while_down(pg_pool *pool, const char *dir, const char *own_url)
{
    lease_holder holder = {0};
    pg_pool_lease(pool, on_lease_held, &holder);
    CHECK(wait_for(&holder.calls, 1, 10000));
    CHECK(holder.status == 0 && holder.conn != NULL);
    if (!holder.conn)
        return;
    CHECK(run_on_lease(holder.conn, "BEGIN").status == 0);

    CHECK(cluster_command("stop", dir, 0, NULL, 0) == 0);
    /* Server gone: 503, well before the 30 s query timeout. */
    CHECK(run_query(pool, "SELECT 1", 0, NULL).status == 503);
    CHECK(run_query(pool, "SELECT 2", 0, NULL).status == 503);
    CHECK(!pg_pool_connected(pool));
    /* The lease's transaction is gone: its statements fail, release works. */
    CHECK(run_on_lease(holder.conn, "SELECT 1").status == 503);
    pg_conn_release(holder.conn);
    /* A pool created while the server is down answers 503 too. */
    pg_pool *late = pool_open(own_url, 1, 0, 0);
    CHECK(run_query(late, "SELECT 1", 0, NULL).status == 503);
    pool_close_wait(late);
}

/* The server is back: within a bounded wait, work succeeds again on every
 * connection, the one whose lease broke included. */
static void reconnect_recovers(pg_pool *pool)
{
    bool recovered = false;
    for (int i = 0; i < 100 && !recovered; i++) {
        outcome o = run_query(pool, "SELECT 3", 0, NULL);
        recovered = o.status == 0 && strcmp(o.value, "3") == 0;
        if (!recovered)
            pause_on_loop(200);
    }
    CHECK(recovered);
    CHECK(pg_pool_connected(pool));
    lease_holder both[2] = {{0}};
    int granted = 0;
    for (int i = 0; i < 2; i++)
        pg_pool_lease(pool, on_lease_held, &both[i]);
    for (int i = 0; i < 2; i++) {
        CHECK(wait_for(&both[i].calls, 1, 15000));
        granted += both[i].status == 0 && both[i].conn != NULL;
    }
    CHECK(granted == 2);
    for (int i = 0; i < 2; i++)
        if (both[i].conn)
            pg_conn_release(both[i].conn);
}

UNIT_CASE(reconnect, &database)
{
    const char *source = getenv("PAYMENTS_SOURCE_DIR");
    CHECK(source != NULL);
    if (!source)
        return;
    char dir[] = "/tmp/test_pg_pool_cluster_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    int port = harness_free_port();
    char own_url[256];
    CHECK(port > 0);
    CHECK(cluster_command("start", dir, port, own_url, sizeof own_url) == 0);

    pg_pool *pool = pool_open(own_url, 2, 0, 0);
    CHECK(wait_connected(pool, 10000));
    CHECK_STR(run_query(pool, "SELECT 1", 0, NULL).value, "1");
    reconnect_while_down(pool, dir, own_url);
    CHECK(cluster_command("start", dir, port, NULL, 0) == 0);
    reconnect_recovers(pool);
    pool_close_wait(pool);

    CHECK(cluster_command("stop", dir, 0, NULL, 0) == 0);
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    CHECK(system(command) == 0);
}
