/* migrate_apply against the real PostgreSQL of PAYMENT_POSTGRES_URL, each
 * case in a migration directory and a schema of its own: applying,
 * re-applying, a new file, an edited file, a failing file that must leave
 * nothing behind, bad names, and two instances racing to apply the same
 * directory. */
#include "migrate.h"
#include "unit.h"

#include <dirent.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static const char *url;
static PGconn *db;
static char schema_migration[65536]; /* sql/0001_schema.sql, which every directory starts with */

/* One case's migration directory and schema, and the error of its last
 * apply. */
typedef struct workspace {
    char dir[64];
    char schema[64];
    char err[512];
} workspace;

static void write_file(const workspace *w, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", w->dir, name);
    FILE *f = fopen(path, "w");
    if (!CHECK(f != NULL))
        return;
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
}

static void remove_file(const workspace *w, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", w->dir, name);
    CHECK(unlink(path) == 0);
}

static int apply(workspace *w)
{
    w->err[0] = '\0';
    return migrate_apply(url, w->schema, w->dir, w->err, sizeof w->err);
}

static void random_schema(char *out, size_t size, const char *prefix)
{
    unsigned int random = 0;
    if (getrandom(&random, sizeof random, 0) != sizeof random)
        random = (unsigned int)rand();
    snprintf(out, size, "%s_%d_%08x", prefix, (int)getpid(), random);
}

/* First value of a query, "" on error (reported). */
static void db_value(const char *sql, int nparams, const char *const *params, char *out, size_t size)
{
    PGresult *res = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
    out[0] = '\0';
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
    else
        fprintf(stderr, "query failed: %s", PQerrorMessage(db));
    PQclear(res);
}

static bool relation_exists(const char *schema, const char *table)
{
    char value[16];
    db_value("SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL", 2,
             (const char *const[]){schema, table}, value, sizeof value);
    return strcmp(value, "t") == 0;
}

static int applied_count(const char *schema)
{
    if (!relation_exists(schema, "schema_migrations"))
        return -1;
    char value[16];
    PGresult *res = PQexecParams(db, "SELECT set_config('search_path', quote_ident($1), false)", 1, NULL,
                                 (const char *const[]){schema}, NULL, NULL, 0);
    PQclear(res);
    db_value("SELECT count(*) FROM schema_migrations", 0, NULL, value, sizeof value);
    return value[0] ? atoi(value) : -1;
}

static void drop_schema(const char *schema)
{
    PGresult *res = PQexecParams(db, "SELECT set_config('payments.schema', $1, false)", 1, NULL,
                                 (const char *const[]){schema}, NULL, NULL, 0);
    PQclear(res);
    res = PQexec(db, "DO $$ BEGIN EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', "
                     "current_setting('payments.schema')); END $$");
    CHECK(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);
    CHECK(!relation_exists(schema, "schema_migrations"));
}

/* A fresh directory holding the schema migration, and an unused schema
 * name; upper case in it checks that the name is used exactly (quoted). */
static bool workspace_open(workspace *w, const char *prefix)
{
    snprintf(w->dir, sizeof w->dir, "/tmp/test_migrate_XXXXXX");
    if (!CHECK(mkdtemp(w->dir) != NULL))
        return false;
    random_schema(w->schema, sizeof w->schema, prefix);
    write_file(w, "0001_schema.sql", schema_migration);
    return true;
}

static void workspace_close(workspace *w)
{
    drop_schema(w->schema);
    DIR *dir = opendir(w->dir);
    if (!CHECK(dir != NULL))
        return;
    for (struct dirent *entry; (entry = readdir(dir));)
        if (entry->d_name[0] != '.')
            remove_file(w, entry->d_name);
    closedir(dir);
    CHECK(rmdir(w->dir) == 0);
}

/* The migrations after the schema's, in order. */
static const struct {
    const char *name, *text;
} later_migrations[] = {
    {"0002_accounts.sql", "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL);\n"
                          "CREATE INDEX accounts_owner ON accounts (owner);\n"},
    {"0003_ledger.sql", "CREATE TABLE ledger (id bigserial PRIMARY KEY,\n"
                        "  account int NOT NULL REFERENCES accounts (id));\n"},
    {"0004_notes.sql", "ALTER TABLE accounts ADD COLUMN note text;\n"},
};

/* Writes (or writes again, unchanged) migrations 0002 to last. */
static void write_migrations(const workspace *w, int last)
{
    for (int i = 0; i < last - 1; i++)
        write_file(w, later_migrations[i].name, later_migrations[i].text);
}

/* A workspace where 0001 to 0004 are applied. */
static bool workspace_applied(workspace *w)
{
    if (!workspace_open(w, "mig"))
        return false;
    write_migrations(w, 4);
    return CHECK(apply(w) == 4) && CHECK(applied_count(w->schema) == 4);
}

static bool read_schema_migration(void)
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
    size_t n = fread(schema_migration, 1, sizeof schema_migration - 1, f);
    fclose(f);
    schema_migration[n] = '\0';
    return n > 0;
}

static bool database_set_up(void)
{
    url = getenv("PAYMENT_POSTGRES_URL");
    if (!url || !*url) {
        fprintf(stderr, "PAYMENT_POSTGRES_URL is not set: this test needs a PostgreSQL server\n");
        return false;
    }
    if (!read_schema_migration())
        return false;
    db = PQconnectdb(url);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect: %s", PQerrorMessage(db));
        PQfinish(db);
        return false;
    }
    PQclear(PQexec(db, "SET client_min_messages = warning"));
    return true;
}

static void database_tear_down(void)
{
    PQfinish(db);
}

static const unit_fixture database = {"database", database_set_up, database_tear_down};

/* Writes name and checks that applying is refused, with an error that
 * says says, and records nothing. */
static void check_apply_refused(workspace *w, const char *name, const char *text, const char *says)
{
    int applied = applied_count(w->schema);
    write_file(w, name, text);
    CHECK(apply(w) == -1);
    if (!CHECK(strstr(w->err, says) != NULL))
        fprintf(stderr, "  the error: %s\n", w->err);
    CHECK(applied_count(w->schema) == applied);
}

UNIT_CASE(apply_and_reapply, &database)
{
    workspace w;
    if (!workspace_open(&w, "mig"))
        return;
    write_migrations(&w, 3);
    write_file(&w, "README.txt", "not a migration\n");

    CHECK(apply(&w) == 3);
    CHECK_STR(w.err, "");
    CHECK(relation_exists(w.schema, "schema_migrations"));
    CHECK(relation_exists(w.schema, "accounts"));
    CHECK(relation_exists(w.schema, "ledger"));
    CHECK(applied_count(w.schema) == 3);

    CHECK(apply(&w) == 0);
    CHECK(applied_count(w.schema) == 3);

    write_migrations(&w, 4);
    CHECK(apply(&w) == 1);
    CHECK(applied_count(w.schema) == 4);
    CHECK(apply(&w) == 0);
    workspace_close(&w);
}

UNIT_CASE(changed_file_refused, &database)
{
    workspace w;
    if (!workspace_applied(&w))
        return;
    check_apply_refused(&w, "0002_accounts.sql", "CREATE TABLE accounts (id int PRIMARY KEY);\n",
                        "migration 0002 changed after it was applied");
    write_migrations(&w, 4); /* as applied again */
    CHECK(apply(&w) == 0);
    CHECK(applied_count(w.schema) == 4);
    workspace_close(&w);
}

UNIT_CASE(failure_rolled_back, &database)
{
    workspace w;
    if (!workspace_applied(&w))
        return;
    check_apply_refused(&w, "0005_broken.sql",
                        "CREATE TABLE half_done (id int);\nINSERT INTO no_such_table VALUES (1);\n", "no_such_table");
    CHECK(strncmp(w.err, "0005_broken.sql: ", 17) == 0);
    CHECK(!relation_exists(w.schema, "half_done"));
    workspace_close(&w);
}

UNIT_CASE(bad_names, &database)
{
    workspace w;
    if (!workspace_applied(&w))
        return;
    check_apply_refused(&w, "12_short.sql", "SELECT 1;\n", "12_short.sql");
    remove_file(&w, "12_short.sql");
    check_apply_refused(&w, "0004_again.sql", "SELECT 1;\n", "duplicate migration number 0004");

    CHECK(migrate_apply(url, w.schema, "/nonexistent/sql", w.err, sizeof w.err) == -1);
    CHECK(strstr(w.err, "/nonexistent/sql") != NULL);
    workspace_close(&w);
}

typedef struct race_run {
    const workspace *workspace;
    int applied;
    char err[512];
} race_run;

static void *race_apply(void *arg)
{
    race_run *run = arg;
    run->applied = migrate_apply(url, run->workspace->schema, run->workspace->dir, run->err, sizeof run->err);
    return NULL;
}

/* Two instances start together: the advisory lock makes one apply all and
 * the other find everything applied. */
UNIT_CASE(concurrent, &database)
{
    workspace w;
    if (!workspace_open(&w, "Mig_Race"))
        return;
    write_migrations(&w, 4);
    write_file(&w, "0005_slow.sql", "SELECT pg_sleep(0.3);\nCREATE TABLE slow (id int);\n");
    race_run runs[2] = {{.workspace = &w}, {.workspace = &w}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&threads[i], NULL, race_apply, &runs[i]) == 0);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_join(threads[i], NULL) == 0);
    if (runs[0].applied < 0 || runs[1].applied < 0)
        fprintf(stderr, "race: %s / %s\n", runs[0].err, runs[1].err);
    CHECK((runs[0].applied == 5 && runs[1].applied == 0) || (runs[0].applied == 0 && runs[1].applied == 5));
    CHECK(applied_count(w.schema) == 5);
    CHECK(relation_exists(w.schema, "slow"));
    workspace_close(&w);
}
