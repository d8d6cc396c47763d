/* cli_import: `payments import`, moving an original server's data into our
 * database. It checks the original's keys on its first rows before anything
 * is written, copies the five tables parents first (import_copy.c), and
 * tells what was copied, what was already there and what was refused. */
#include "cli.h"
#include "config.h"
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_DEFAULT_BATCH 500
/* how many of a table's first rows must show whether the keys are right */
#define IMPORT_KEY_PROBE_ROWS 5

typedef struct import_options {
    const char *from;
    const char *schema;
    const char *from_env;
    bool dry_run;
    int batch_rows;
} import_options;

/* A sealed table of the original: its key settings and our key rings. */
typedef struct sealed_table {
    const char *name;
    const char *key_name;
    const char *iv_name;
    const char *label;
    seal_ring *open;
    seal_ring *seal;
    const cfg_cipher *ours;
} sealed_table;

static int parse_options(int argc, char **argv, import_options *out)
{
    *out = (import_options){.schema = "public", .batch_rows = IMPORT_DEFAULT_BATCH};
    const char *value;
    for (int i = 1; i < argc; i++) {
        if ((value = cli_option_value(argc, argv, &i, "--from-env"))) {
            out->from_env = value;
        } else if ((value = cli_option_value(argc, argv, &i, "--from"))) {
            out->from = value;
        } else if ((value = cli_option_value(argc, argv, &i, "--schema"))) {
            out->schema = value;
        } else if ((value = cli_option_value(argc, argv, &i, "--batch"))) {
            char *end;
            long rows = strtol(value, &end, 10);
            if (*end || rows < 1 || rows > 100000)
                return cli_usage_error(argv[0], "--batch takes a number of rows from 1 to 100000");
            out->batch_rows = (int)rows;
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            out->dry_run = true;
        } else {
            return cli_usage_error(argv[0], "unexpected argument %s", argv[i]);
        }
    }
    if (!out->from || !*out->from)
        return cli_usage_error(argv[0], "--from <PostgreSQL URL of the original> is required");
    return 0;
}

/* The original's key or IV: from its own settings file when given, else
 * ours (the original's settings carry over under the same names). */
static const char *original_setting(const dotenv *file, const char *name, const char *ours)
{
    return file ? dotenv_file_value(file, name) : ours;
}

static int load_keys(import_run *run, const cfg *c, const dotenv *file, char *err, size_t errlen)
{
    const sealed_table tables[] = {
        {"payment_histories", "PAYMENT_HISTORY_ENCRYPTION_KEY", "PAYMENT_HISTORY_ENCRYPTION_IV", "histories",
         &run->open_history, &run->seal_history, &c->history_cipher},
        {"payment_history_cancels", "PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY", "PAYMENT_CANCEL_HISTORY_ENCRYPTION_IV",
         "history_cancels", &run->open_cancel, &run->seal_cancel, &c->cancel_history_cipher},
        {"payment_reservations", "PAYMENT_RESERVATION_ENCRYPTION_KEY", "PAYMENT_RESERVATION_ENCRYPTION_IV",
         "reservations", &run->open_reservation, &run->seal_reservation, &c->reservation_cipher},
    };
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        const sealed_table *t = &tables[i];
        const char *key = original_setting(file, t->key_name, t->ours->key);
        const char *iv = original_setting(file, t->iv_name, t->ours->iv);
        if (!key || !iv || seal_ring_add(t->open, key, iv, t->label) < 0) {
            snprintf(err, errlen, "the original's %s/_IV%s are missing or unusable", t->key_name,
                     file ? " (in --from-env)" : "");
            return -1;
        }
        if (seal_ring_add(t->seal, t->ours->key, t->ours->iv, t->label) < 0) {
            snprintf(err, errlen, "our %s/_IV are unusable", t->key_name);
            return -1;
        }
    }
    return 0;
}

/* Wrong keys show on the first rows: when none of them opens, stop before
 * anything is written rather than refuse every row. */
static int probe_table_key(import_run *run, const char *table, const char *key_name, const seal_ring *ring, char *err,
                           size_t errlen)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT data FROM {s}.%s ORDER BY id LIMIT %d", table, IMPORT_KEY_PROBE_ROWS);
    char *text = import_sql(run, sql);
    PGresult *res = text ? PQexec(run->source, text) : NULL;
    free(text);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "reading %s: %s", table, PQerrorMessage(run->source));
        PQclear(res);
        return -1;
    }
    int rows = PQntuples(res), opened = 0;
    for (int i = 0; i < rows; i++) {
        char reason[200];
        char *sealed =
            import_reseal(ring, ring, PQgetisnull(res, i, 0) ? NULL : PQgetvalue(res, i, 0), reason, sizeof reason);
        opened += sealed != NULL;
        free(sealed);
    }
    PQclear(res);
    if (rows > 0 && opened == 0) {
        snprintf(err, errlen,
                 "the original's %s do not decrypt with %s/_IV: wrong key (give the original's settings with "
                 "--from-env FILE); nothing was written",
                 table, key_name);
        return -1;
    }
    return 0;
}

static int probe_keys(import_run *run, char *err, size_t errlen)
{
    if (probe_table_key(run, "payment_histories", "PAYMENT_HISTORY_ENCRYPTION_KEY", &run->open_history, err, errlen) <
        0)
        return -1;
    if (probe_table_key(run, "payment_history_cancels", "PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY", &run->open_cancel, err,
                        errlen) < 0)
        return -1;
    return probe_table_key(run, "payment_reservations", "PAYMENT_RESERVATION_ENCRYPTION_KEY", &run->open_reservation,
                           err, errlen);
}

/* Our database, with search_path on our schema, migrated. */
static PGconn *connect_target(const cfg *c, char *err, size_t errlen)
{
    char *conninfo = cfg_postgres_conninfo(c);
    PGconn *conn = conninfo ? PQconnectdb(conninfo) : NULL;
    free(conninfo);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "our database: %s", conn ? PQerrorMessage(conn) : "out of memory");
        PQfinish(conn);
        return NULL;
    }
    char *schema = PQescapeIdentifier(conn, c->postgres.schema, strlen(c->postgres.schema));
    char sql[600];
    snprintf(sql, sizeof sql, "SET search_path TO %s", schema ? schema : "\"\"");
    PQfreemem(schema);
    PGresult *res = PQexec(conn, sql);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    res = ok ? PQexec(conn, "SELECT to_regclass('payment_webhook_responses') IS NOT NULL") : NULL;
    ok = PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!ok) {
        snprintf(err, errlen, "our schema %s is not migrated: run `payments migrate` first", c->postgres.schema);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static PGconn *connect_source(const import_options *options, import_run *run, char *err, size_t errlen)
{
    PGconn *conn = PQconnectdb(options->from);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "the original's database: %s", conn ? PQerrorMessage(conn) : "out of memory");
        PQfinish(conn);
        return NULL;
    }
    /* Exact values whatever the server's defaults: ISO times with their
     * offset, doubles printed in full; and nothing written there by mistake. */
    PGresult *res = PQexec(conn, "SET DateStyle TO ISO; SET extra_float_digits TO 3;"
                                 " SET default_transaction_read_only TO on");
    bool set = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!set) {
        snprintf(err, errlen, "the original's database: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    run->source_schema = PQescapeIdentifier(conn, options->schema, strlen(options->schema));
    if (!run->source_schema) {
        snprintf(err, errlen, "the original's schema name: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static void print_summary(const import_run *run, const import_count *counts, size_t copied_tables)
{
    if (run->dry_run)
        printf("dry run: nothing was written\n");
    for (size_t i = 0; i < copied_tables; i++)
        printf("%s: %ld %s, %ld already present, %ld refused (of %ld)\n", import_tables[i].name, counts[i].copied,
               run->dry_run ? "to copy" : "copied", counts[i].present, counts[i].refused, counts[i].total);
}

static int run_import(import_run *run, const import_options *options, const cfg *c, char *err, size_t errlen)
{
    dotenv file = {0};
    if (options->from_env && dotenv_load(&file, options->from_env, 1, err, errlen) < 0)
        return -1;
    int rc = load_keys(run, c, options->from_env ? &file : NULL, err, errlen);
    dotenv_free(&file);
    if (rc < 0)
        return -1;
    run->source = connect_source(options, run, err, errlen);
    run->target = run->source ? connect_target(c, err, errlen) : NULL;
    if (!run->target || probe_keys(run, err, errlen) < 0)
        return -1;
    import_count counts[8] = {{0}};
    size_t done = 0;
    for (; done < import_table_count && rc == 0; done++)
        rc = import_copy_table(run, &import_tables[done], &counts[done], err, errlen);
    print_summary(run, counts, done);
    return rc;
}

static void import_run_free(import_run *run)
{
    PQfinish(run->source);
    PQfinish(run->target);
    PQfreemem(run->source_schema);
    seal_ring *rings[] = {&run->open_history, &run->open_cancel, &run->open_reservation,
                          &run->seal_history, &run->seal_cancel, &run->seal_reservation};
    for (size_t i = 0; i < sizeof rings / sizeof rings[0]; i++)
        seal_ring_clear(rings[i]);
    import_id_list_free(&run->refused);
}

int cli_import(int argc, char **argv)
{
    import_options options;
    int usage = parse_options(argc, argv, &options);
    if (usage)
        return usage;
    cfg c;
    char err[1024];
    if (cfg_load(&c, err, sizeof err) < 0) {
        fprintf(stderr, "payments import: %s\n", err);
        return 1;
    }
    import_run run = {.dry_run = options.dry_run, .batch_rows = options.batch_rows};
    int rc = run_import(&run, &options, &c, err, sizeof err);
    import_run_free(&run);
    cfg_free(&c);
    if (rc < 0) {
        fprintf(stderr, "payments import: %s\n", err);
        return 1;
    }
    return 0;
}
