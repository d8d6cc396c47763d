/* `payments reseal`: moves every sealed value to its table's current key, so
 * that a previous key can be dropped. Online: batches of short transactions,
 * each row replaced only if it did not change meanwhile (a worker's write is
 * under the current key already), no lock held between batches. Resumable:
 * each run takes only the values not yet under the current key. */
#include "cli.h"

#include "config.h"
#include "seal_columns.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESEAL_DEFAULT_BATCH 500

typedef struct reseal_run {
    PGconn *db;
    seal_ring rings[SEAL_RING_COUNT];
    long batch;
} reseal_run;

static long query_count(PGconn *db, const char *sql, const char *param)
{
    const char *params[] = {param};
    PGresult *res = PQexecParams(db, sql, 1, NULL, params, NULL, NULL, 0);
    long count = PQresultStatus(res) == PGRES_TUPLES_OK ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    if (count < 0)
        fprintf(stderr, "payments reseal: %s", PQerrorMessage(db));
    PQclear(res);
    return count;
}

/* Values of another key than the current one, as two index ranges (an index
 * serves "<" and ">", not "<>"). */
#define OTHER_KEYS(column) "(payment_seal_key_id(" column ") < $1 OR payment_seal_key_id(" column ") > $1)"

/* The value re-sealed with the ring's current key, or NULL (printed) when it
 * cannot be opened. A legacy value must be JSON: CBC has no tag, and a
 * wrong key passes its padding check once in 256. */
static char *reseal_value(const seal_ring *ring, const seal_column *col, const char *id, const char *sealed)
{
    size_t len = 0;
    unsigned char *plain = seal_open(ring, sealed, &len);
    if (plain && !seal_authenticated(sealed)) {
        json_t *doc = json_loadb((const char *)plain, len, JSON_DECODE_ANY, NULL);
        if (!doc) {
            OPENSSL_cleanse(plain, len);
            free(plain);
            plain = NULL;
        }
        json_decref(doc);
    }
    if (!plain) {
        fprintf(stderr, "payments reseal: %s.%s of row %s opens with none of the configured keys\n", col->table,
                col->column, id);
        return NULL;
    }
    char *resealed = seal_value(ring, plain, len);
    OPENSSL_cleanse(plain, len);
    free(plain);
    return resealed;
}

static int exec_ok(PGconn *db, const char *sql)
{
    PGresult *res = PQexec(db, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "payments reseal: %s", PQerrorMessage(db));
    PQclear(res);
    return ok ? 0 : -1;
}

/* One batch in one transaction: each row replaced only where it still holds
 * the value read. Returns the rows taken (0: none left), or -1. */
static long reseal_batch(reseal_run *run, const seal_column *col)
{
    const seal_ring *ring = &run->rings[col->ring];
    char select_sql[512], update_sql[512], limit[24];
    snprintf(select_sql, sizeof select_sql, "SELECT id::text, %2$s FROM %1$s WHERE " OTHER_KEYS("%2$s") " LIMIT $2",
             col->table, col->column);
    snprintf(update_sql, sizeof update_sql, "UPDATE %1$s SET %2$s = $2 WHERE id = $1 AND %2$s = $3", col->table,
             col->column);
    snprintf(limit, sizeof limit, "%ld", run->batch);
    const char *params[] = {ring->keys[0].id, limit};
    if (exec_ok(run->db, "BEGIN") < 0)
        return -1;
    PGresult *rows = PQexecParams(run->db, select_sql, 2, NULL, params, NULL, NULL, 0);
    long taken = PQresultStatus(rows) == PGRES_TUPLES_OK ? PQntuples(rows) : -1;
    if (taken < 0)
        fprintf(stderr, "payments reseal: %s", PQerrorMessage(run->db));
    for (long i = 0; i < taken; i++) {
        const char *id = PQgetvalue(rows, (int)i, 0), *old = PQgetvalue(rows, (int)i, 1);
        char *resealed = reseal_value(ring, col, id, old);
        const char *update[] = {id, resealed, old};
        PGresult *res = resealed ? PQexecParams(run->db, update_sql, 3, NULL, update, NULL, NULL, 0) : NULL;
        if (res && PQresultStatus(res) != PGRES_COMMAND_OK)
            fprintf(stderr, "payments reseal: %s", PQerrorMessage(run->db));
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
            taken = -1;
        PQclear(res);
        free(resealed);
    }
    PQclear(rows);
    if (taken < 0) {
        exec_ok(run->db, "ROLLBACK");
        return -1;
    }
    return exec_ok(run->db, "COMMIT") < 0 ? -1 : taken;
}

static int reseal_column(reseal_run *run, const seal_column *col)
{
    char count_sql[256];
    snprintf(count_sql, sizeof count_sql, "SELECT count(*) FROM %1$s WHERE " OTHER_KEYS("%2$s"), col->table,
             col->column);
    long total = query_count(run->db, count_sql, run->rings[col->ring].keys[0].id);
    if (total < 0)
        return -1;
    long done = 0, taken;
    while ((taken = reseal_batch(run, col)) > 0) {
        done += taken;
        fprintf(stderr, "payments reseal: %s.%s %ld/%ld\n", col->table, col->column, done, total);
    }
    printf("%s.%s: %ld value(s) resealed\n", col->table, col->column, done);
    return taken < 0 ? -1 : 0;
}

static int reseal_all(reseal_run *run, const char *table)
{
    int matched = 0;
    for (size_t i = 0; i < seal_columns_count; i++) {
        if (table && strcmp(table, seal_columns[i].table) != 0)
            continue;
        matched = 1;
        if (reseal_column(run, &seal_columns[i]) < 0)
            return 1;
    }
    if (!matched)
        return cli_usage_error("reseal", "no sealed table is named %s", table);
    return 0;
}

static int parse_arguments(int argc, char **argv, const char **table, long *batch)
{
    for (int i = 1; i < argc; i++) {
        const char *value;
        if ((value = cli_option_value(argc, argv, &i, "--table")))
            *table = value;
        else if ((value = cli_option_value(argc, argv, &i, "--batch"))) {
            char *end = NULL;
            *batch = strtol(value, &end, 10);
            if (!*value || *end || *batch < 1 || *batch > 100000)
                return cli_usage_error(argv[0], "--batch takes a number from 1 to 100000");
        } else
            return cli_usage_error(argv[0], "unexpected argument %s", argv[i]);
    }
    return 0;
}

int cli_reseal(int argc, char **argv)
{
    const char *table = NULL;
    reseal_run run = {.batch = RESEAL_DEFAULT_BATCH};
    int usage = parse_arguments(argc, argv, &table, &run.batch);
    if (usage)
        return usage;
    cfg c;
    char err[512];
    if (cfg_load(&c, err, sizeof err) < 0) {
        fprintf(stderr, "payments reseal: %s\n", err);
        return 1;
    }
    size_t made = 0;
    while (made < SEAL_RING_COUNT && seal_ring_configure(&run.rings[made], &c, (seal_ring_name)made) == 0)
        made++;
    int status = 1;
    if (made < SEAL_RING_COUNT)
        fprintf(stderr, "payments reseal: an encryption key or IV is unusable\n");
    else if (!(run.db = seal_columns_connect(&c, "payments-reseal", err, sizeof err)))
        fprintf(stderr, "payments reseal: %s\n", err);
    else
        status = reseal_all(&run, table);
    PQfinish(run.db);
    for (size_t i = 0; i < made; i++)
        seal_ring_clear(&run.rings[i]);
    cfg_free(&c);
    return status;
}
