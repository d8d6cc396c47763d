/* seal_columns: the sealed columns and the check that each of their values
 * is under a key still configured. A value under a dropped key would only
 * fail when read, months later, as a record gone unreadable: start-up
 * refuses instead, while the previous key can still be put back. */
#include "seal_columns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const seal_column seal_columns[] = {
    {"payment_histories", "data", SEAL_RING_HISTORY},         {"payment_history_cancels", "data", SEAL_RING_CANCEL},
    {"payment_reservations", "data", SEAL_RING_RESERVATION},  {"payment_webhooks", "event", SEAL_RING_HISTORY},
    {"payment_webhooks", "previous", SEAL_RING_HISTORY},      {"payment_webhooks", "current", SEAL_RING_HISTORY},
    {"payment_internal_webhooks", "body", SEAL_RING_HISTORY}, {"payment_operations", "input", SEAL_RING_HISTORY},
    {"payment_operations", "answer", SEAL_RING_HISTORY},      {"payment_charge_attempts", "answer", SEAL_RING_HISTORY},
};
const size_t seal_columns_count = sizeof seal_columns / sizeof seal_columns[0];

/* The labels keep each table's derived keys apart (seal_ring_add). */
static const char *const ring_labels[SEAL_RING_COUNT] = {"histories", "history_cancels", "reservations"};

int seal_ring_configure(seal_ring *ring, const cfg *c, seal_ring_name name)
{
    const cfg_cipher *current[SEAL_RING_COUNT] = {&c->history_cipher, &c->cancel_history_cipher,
                                                  &c->reservation_cipher};
    const cfg_previous_keys *previous[SEAL_RING_COUNT] = {&c->history_previous, &c->cancel_history_previous,
                                                          &c->reservation_previous};
    memset(ring, 0, sizeof *ring);
    const char *label = ring_labels[name];
    if (seal_ring_add(ring, current[name]->key, current[name]->iv, label) < 0)
        return -1;
    for (size_t i = 0; i < previous[name]->count; i++)
        if (seal_ring_add(ring, previous[name]->keys[i].key, previous[name]->keys[i].iv, label) < 0) {
            seal_ring_clear(ring);
            return -1;
        }
    return 0;
}

static int ring_knows(const seal_ring *ring, const char *id)
{
    for (size_t i = 0; i < ring->count; i++)
        if (strcmp(ring->keys[i].id, id) == 0)
            return 1;
    return 0;
}

/* The distinct key ids of a column, by a loose index scan: one probe of the
 * key id index per id, so a table of millions of rows under two keys costs
 * three probes. '' stands for values in the original server's format. */
static PGresult *distinct_ids(PGconn *db, const seal_column *col)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE ids(id) AS ("
             " (SELECT payment_seal_key_id(%2$s) FROM %1$s WHERE payment_seal_key_id(%2$s) IS NOT NULL"
             "  ORDER BY 1 LIMIT 1)"
             " UNION ALL"
             " SELECT (SELECT payment_seal_key_id(%2$s) FROM %1$s WHERE payment_seal_key_id(%2$s) > ids.id"
             "  ORDER BY 1 LIMIT 1) FROM ids WHERE ids.id IS NOT NULL)"
             " SELECT id FROM ids WHERE id IS NOT NULL",
             col->table, col->column);
    return PQexec(db, sql);
}

/* How many values of col are under key id (an index range scan). */
static long count_under(PGconn *db, const seal_column *col, const char *id, char *err, size_t errlen)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE payment_seal_key_id(%s) = $1", col->table, col->column);
    const char *params[] = {id};
    PGresult *res = PQexecParams(db, sql, 1, NULL, params, NULL, NULL, 0);
    long count = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    else
        snprintf(err, errlen, "%s.%s: %s", col->table, col->column, PQerrorMessage(db));
    PQclear(res);
    return count;
}

/* 0 when every id of col is known, 1 (err says where) or -1. */
static int check_column(PGconn *db, const seal_column *col, const seal_ring *ring, char *err, size_t errlen)
{
    PGresult *res = distinct_ids(db, col);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s.%s: %s", col->table, col->column, PQerrorMessage(db));
        PQclear(res);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        const char *id = PQgetvalue(res, i, 0);
        if (!*id || ring_knows(ring, id))
            continue;
        long count = count_under(db, col, id, err, errlen);
        if (count < 0)
            rc = -1;
        else if (count > 0) {
            snprintf(err, errlen,
                     "%s.%s: %ld value(s) sealed with key %s, which is no longer configured (put it back among the "
                     "previous keys and run `payments reseal`)",
                     col->table, col->column, count, id);
            rc = 1;
        }
    }
    PQclear(res);
    return rc;
}

PGconn *seal_columns_connect(const cfg *c, const char *application, char *err, size_t errlen)
{
    char *conninfo = cfg_postgres_conninfo(c);
    if (!conninfo) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const char *keywords[] = {"application_name", "dbname", NULL};
    const char *values[] = {application, conninfo, NULL};
    PGconn *db = PQconnectdbParams(keywords, values, 1);
    free(conninfo);
    if (!db || PQstatus(db) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s", db ? PQerrorMessage(db) : "out of memory");
        PQfinish(db);
        return NULL;
    }
    const char *params[] = {c->postgres.schema};
    PGresult *res =
        PQexecParams(db, "SELECT set_config('search_path', quote_ident($1), false)", 1, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(err, errlen, "cannot set search_path: %s", PQerrorMessage(db));
    PQclear(res);
    if (!ok) {
        PQfinish(db);
        return NULL;
    }
    return db;
}

int seal_columns_check(PGconn *db, const seal_ring rings[SEAL_RING_COUNT], char *err, size_t errlen)
{
    for (size_t i = 0; i < seal_columns_count; i++) {
        int rc = check_column(db, &seal_columns[i], &rings[seal_columns[i].ring], err, errlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}
