/* migrate_apply against the real PostgreSQL of PAYMENT_POSTGRES_URL, in a
 * fresh schema per run: applying, re-applying, a new file, an edited file,
 * a failing file that must leave nothing behind, bad names, and two
 * instances racing to apply the same directory. */
#include "migrate.h"
#include "unit.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static const char *url;
static char dir[64];

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
}

static void remove_file(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK(unlink(path) == 0);
}

static bool copy_schema_migration(void)
{
    const char *source = getenv("PAYMENTS_SOURCE_DIR");
    if (!source) {
        fprintf(stderr, "PAYMENTS_SOURCE_DIR is not set (ctest sets it)\n");
        return false;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/sql/0001_schema.sql", source);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return false;
    }
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    write_file("0001_schema.sql", text);
    return n > 0;
}

static void random_schema(char *out, size_t size, const char *prefix)
{
    unsigned int random = 0;
    if (getrandom(&random, sizeof random, 0) != sizeof random)
        random = (unsigned int)rand();
    snprintf(out, size, "%s_%d_%08x", prefix, (int)getpid(), random);
}

/* First value of a query, "" on error (reported). */
static void db_value(PGconn *db, const char *sql, int nparams, const char *const *params, char *out, size_t size)
{
    PGresult *res = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
    out[0] = '\0';
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
    else
        fprintf(stderr, "query failed: %s", PQerrorMessage(db));
    PQclear(res);
}

static bool relation_exists(PGconn *db, const char *schema, const char *table)
{
    char value[16];
    db_value(db, "SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL", 2,
             (const char *const[]){schema, table}, value, sizeof value);
    return strcmp(value, "t") == 0;
}

static int applied_count(PGconn *db, const char *schema)
{
    if (!relation_exists(db, schema, "schema_migrations"))
        return -1;
    char value[16];
    PGresult *res = PQexecParams(db, "SELECT set_config('search_path', quote_ident($1), false)", 1, NULL,
                                 (const char *const[]){schema}, NULL, NULL, 0);
    PQclear(res);
    db_value(db, "SELECT count(*) FROM schema_migrations", 0, NULL, value, sizeof value);
    return value[0] ? atoi(value) : -1;
}

static void drop_schema(PGconn *db, const char *schema)
{
    PGresult *res = PQexecParams(db, "SELECT set_config('payments.schema', $1, false)", 1, NULL,
                                 (const char *const[]){schema}, NULL, NULL, 0);
    PQclear(res);
    res = PQexec(db, "DO $$ BEGIN EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', "
                     "current_setting('payments.schema')); END $$");
    CHECK(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);
}

static void test_apply_and_reapply(PGconn *db, const char *schema)
{
    char err[512] = "";
    write_file("0002_accounts.sql", "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL);\n"
                                    "CREATE INDEX accounts_owner ON accounts (owner);\n");
    write_file("0003_ledger.sql", "CREATE TABLE ledger (id bigserial PRIMARY KEY,\n"
                                  "  account int NOT NULL REFERENCES accounts (id));\n");
    write_file("README.txt", "not a migration\n");

    CHECK(migrate_apply(url, schema, dir, err, sizeof err) == 3);
    CHECK_STR(err, "");
    CHECK(relation_exists(db, schema, "schema_migrations"));
    CHECK(relation_exists(db, schema, "accounts"));
    CHECK(relation_exists(db, schema, "ledger"));
    CHECK(applied_count(db, schema) == 3);

    CHECK(migrate_apply(url, schema, dir, err, sizeof err) == 0);
    CHECK(applied_count(db, schema) == 3);

    write_file("0004_notes.sql", "ALTER TABLE accounts ADD COLUMN note text;\n");
    CHECK(migrate_apply(url, schema, dir, err, sizeof err) == 1);
    CHECK(applied_count(db, schema) == 4);
    CHECK(migrate_apply(url, schema, dir, err, sizeof err) == 0);
}

static void test_changed_file_refused(PGconn *db, const char *schema)
{
    char err[512] = "";
    write_file("0002_accounts.sql", "CREATE TABLE accounts (id int PRIMARY KEY);\n");
    CHECK(migrate_apply(url, schema, dir, err, sizeof err) == -1);
    CHECK(strstr(err, "migration 0002 changed after it was applied") != NULL);
    write_file("0002_accounts.sql", "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL);\n"
                                    "CREATE INDEX accounts_owner ON accounts (owner);\n");
    CHECK(migrate_apply(url, schema, dir, err, sizeof err) == 0);
    CHECK(applied_count(db, schema) == 4);
}

static void test_failure_rolled_back(PGconn *db, const char *schema)
{
    char err[512] = "";
    write_file("0005_broken.sql", "CREATE TABLE half_done (id int);\n"
                                  "INSERT INTO no_such_table VALUES (1);\n");
    CHECK(migrate_apply(url, schema, dir, err, sizeof err) == -1);
    CHECK(strncmp(err, "0005_broken.sql: ", 17) == 0);
    CHECK(strstr(err, "no_such_table") != NULL);
    CHECK(!relation_exists(db, schema, "half_done"));
    CHECK(applied_count(db, schema) == 4);
    remove_file("0005_broken.sql");
}

static void test_bad_names(const char *schema)
{
    char err[512] = "";
    write_file("12_short.sql", "SELECT 1;\n");
    CHECK(migrate_apply(url, schema, dir, err, sizeof err) == -1);
    CHECK(strstr(err, "12_short.sql") != NULL);
    remove_file("12_short.sql");

    write_file("0004_again.sql", "SELECT 1;\n");
    CHECK(migrate_apply(url, schema, dir, err, sizeof err) == -1);
    CHECK(strstr(err, "duplicate migration number 0004") != NULL);
    remove_file("0004_again.sql");

    CHECK(migrate_apply(url, schema, "/nonexistent/sql", err, sizeof err) == -1);
    CHECK(strstr(err, "/nonexistent/sql") != NULL);
}

typedef struct race_run {
    const char *schema;
    int applied;
    char err[512];
} race_run;

static void *race_apply(void *arg)
{
    race_run *run = arg;
    run->applied = migrate_apply(url, run->schema, dir, run->err, sizeof run->err);
    return NULL;
}

/* Two instances start together: the advisory lock makes one apply all and
 * the other find everything applied. Upper case checks the name is used
 * exactly (quoted), not folded. */
static void test_concurrent(PGconn *db)
{
    char schema[64];
    random_schema(schema, sizeof schema, "Mig_Race");
    write_file("0005_slow.sql", "SELECT pg_sleep(0.3);\nCREATE TABLE slow (id int);\n");
    race_run runs[2] = {{.schema = schema}, {.schema = schema}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&threads[i], NULL, race_apply, &runs[i]) == 0);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_join(threads[i], NULL) == 0);
    if (runs[0].applied < 0 || runs[1].applied < 0)
        fprintf(stderr, "race: %s / %s\n", runs[0].err, runs[1].err);
    CHECK((runs[0].applied == 5 && runs[1].applied == 0) || (runs[0].applied == 0 && runs[1].applied == 5));
    CHECK(applied_count(db, schema) == 5);
    CHECK(relation_exists(db, schema, "slow"));
    drop_schema(db, schema);
    remove_file("0005_slow.sql");
}

int main(void)
{
    url = getenv("PAYMENT_POSTGRES_URL");
    if (!url || !*url) {
        fprintf(stderr, "PAYMENT_POSTGRES_URL is not set: this test needs a PostgreSQL server\n");
        return 1;
    }
    snprintf(dir, sizeof dir, "/tmp/test_migrate_XXXXXX");
    if (!mkdtemp(dir) || !copy_schema_migration()) {
        fprintf(stderr, "cannot prepare the migration directory\n");
        return 1;
    }
    PGconn *db = PQconnectdb(url);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect: %s", PQerrorMessage(db));
        PQfinish(db);
        return 1;
    }
    PQclear(PQexec(db, "SET client_min_messages = warning"));
    char schema[64];
    random_schema(schema, sizeof schema, "mig");

    test_apply_and_reapply(db, schema);
    test_changed_file_refused(db, schema);
    test_failure_rolled_back(db, schema);
    test_bad_names(schema);
    test_concurrent(db);

    drop_schema(db, schema);
    CHECK(!relation_exists(db, schema, "schema_migrations"));
    PQfinish(db);
    const char *files[] = {"0001_schema.sql", "0002_accounts.sql", "0003_ledger.sql", "0004_notes.sql", "README.txt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        remove_file(files[i]);
    CHECK(rmdir(dir) == 0);
    UNIT_REPORT();
}
