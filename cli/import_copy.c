/* import_copy: the batch loop of `payments import`. The original's rows are
 * read in id order, a batch at a time, and each batch is written in one
 * transaction of ours; a row that cannot be written is refused alone (a
 * savepoint), never the batch. Rows already there (same id) are counted and
 * left alone, so a run interrupted anywhere is finished by running it again,
 * and a second complete run writes nothing. */
#include "cli.h"
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum row_outcome { ROW_COPIED, ROW_PRESENT, ROW_REFUSED, ROW_FAILED } row_outcome;

char *import_sql(const import_run *run, const char *sql)
{
    size_t schema_len = strlen(run->source_schema);
    size_t size = strlen(sql) + 1;
    for (const char *p = strstr(sql, "{s}"); p; p = strstr(p + 3, "{s}"))
        size += schema_len;
    char *out = malloc(size);
    if (!out)
        return NULL;
    char *w = out;
    for (const char *p = sql; *p;) {
        if (strncmp(p, "{s}", 3) == 0) {
            memcpy(w, run->source_schema, schema_len);
            w += schema_len;
            p += 3;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return out;
}

bool import_id_refused(const import_run *run, const char *id)
{
    for (size_t i = 0; i < run->refused.count; i++)
        if (strcmp(run->refused.ids[i], id) == 0)
            return true;
    return false;
}

static int remember_refused(import_run *run, const char *id)
{
    char **grown = realloc(run->refused.ids, (run->refused.count + 1) * sizeof *grown);
    char *copy = strdup(id);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            run->refused.ids = grown;
        return -1;
    }
    run->refused.ids = grown;
    run->refused.ids[run->refused.count++] = copy;
    return 0;
}

void import_id_list_free(import_id_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->ids[i]);
    free(list->ids);
    list->ids = NULL;
    list->count = 0;
}

/* One statement whose result only tells success; -1 with err. */
static int exec_command(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(err, errlen, "%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    return ok ? 0 : -1;
}

/* 1 when our table has the id, 0 when not, -1 on failure. */
static int already_present(import_run *run, const import_table *table, const char *id, char *err, size_t errlen)
{
    PGresult *res = PQexecParams(run->target, table->exists_sql, 1, NULL, &id, NULL, NULL, 0);
    int found = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) > 0 : -1;
    if (found < 0)
        snprintf(err, errlen, "%s: %s", table->name, PQerrorMessage(run->target));
    PQclear(res);
    return found;
}

/* Why our INSERT wrote nothing though the id is new. */
static void conflict_reason(const import_table *table, char *reason, size_t reasonlen)
{
    if (table->parent_name)
        snprintf(reason, reasonlen, "its %s row is not in our database, or its place there is taken",
                 table->parent_name);
    else
        snprintf(reason, reasonlen, "another record of ours has the same source or vendor uid");
}

/* Inserts one converted row under a savepoint, so that a refused row leaves
 * the rest of its batch intact. */
static row_outcome write_row(import_run *run, const import_table *table, const import_row *row, const char *id,
                             char *reason, size_t reasonlen, char *err, size_t errlen)
{
    if (exec_command(run->target, "SAVEPOINT import_row", err, errlen) < 0)
        return ROW_FAILED;
    PGresult *res = PQexecParams(run->target, table->insert_sql, row->count, NULL, row->params, NULL, NULL, 0);
    bool done = PQresultStatus(res) == PGRES_TUPLES_OK;
    bool written = done && PQntuples(res) == 1;
    if (!done && PQstatus(run->target) != CONNECTION_OK) {
        snprintf(err, errlen, "%s: %s", table->name, PQerrorMessage(run->target));
        PQclear(res);
        return ROW_FAILED;
    }
    if (!done) {
        /* the primary message only: a detail may quote the row's values */
        const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(reason, reasonlen, "our database refused it: %s", primary ? primary : "unknown error");
    }
    PQclear(res);
    if (exec_command(run->target, done ? "RELEASE SAVEPOINT import_row" : "ROLLBACK TO SAVEPOINT import_row", err,
                     errlen) < 0)
        return ROW_FAILED;
    if (written)
        return ROW_COPIED;
    if (!done)
        return ROW_REFUSED;
    int present = already_present(run, table, id, err, errlen);
    if (present < 0)
        return ROW_FAILED;
    if (present)
        return ROW_PRESENT;
    conflict_reason(table, reason, reasonlen);
    return ROW_REFUSED;
}

/* What writing the row would do, writing nothing. */
static row_outcome dry_run_row(import_run *run, const import_table *table, const import_row *row, const char *id,
                               char *reason, size_t reasonlen, char *err, size_t errlen)
{
    int present = already_present(run, table, id, err, errlen);
    if (present != 0 || !table->taken_sql)
        return present < 0 ? ROW_FAILED : present ? ROW_PRESENT : ROW_COPIED;
    const Oid text[7] = {25, 25, 25, 25, 25, 25, 25}; /* text: the query casts what it compares */
    PGresult *res = PQexecParams(run->target, table->taken_sql, 7, text, row->params, NULL, NULL, 0);
    int taken = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) > 0 : -1;
    if (taken < 0)
        snprintf(err, errlen, "%s: %s", table->name, PQerrorMessage(run->target));
    PQclear(res);
    if (taken > 0)
        conflict_reason(table, reason, reasonlen);
    return taken < 0 ? ROW_FAILED : taken ? ROW_REFUSED : ROW_COPIED;
}

static row_outcome copy_row(import_run *run, const import_table *table, const PGresult *batch, int index, char *reason,
                            size_t reasonlen, char *err, size_t errlen)
{
    import_row row = {0};
    const char *id = PQgetvalue(batch, index, 0);
    row_outcome outcome;
    if (table->convert(run, batch, index, &row, reason, reasonlen) < 0) {
        outcome = ROW_REFUSED;
    } else if (row.parent && import_id_refused(run, row.parent)) {
        snprintf(reason, reasonlen, "its %s row %s was refused", table->parent_name, row.parent);
        outcome = ROW_REFUSED;
    } else if (run->dry_run) {
        outcome = dry_run_row(run, table, &row, id, reason, reasonlen, err, errlen);
    } else {
        outcome = write_row(run, table, &row, id, reason, reasonlen, err, errlen);
    }
    import_row_free(&row);
    if (outcome == ROW_REFUSED && remember_refused(run, id) < 0) {
        snprintf(err, errlen, "out of memory");
        return ROW_FAILED;
    }
    return outcome;
}

/* Rows done / total and the rate: after the run's first batch, then at most
 * once a second. */
static void show_progress(import_run *run, const import_table *table, long done, long total, long long table_started)
{
    long long now = cli_now_ms();
    if (run->progress_shown && now - run->last_progress_ms < 1000)
        return;
    double seconds = (double)(now - table_started) / 1000.0;
    fprintf(stderr, "import: %s %ld/%ld rows (%.0f rows/s)\n", table->name, done, total,
            seconds > 0 ? (double)done / seconds : (double)done);
    run->progress_shown = true;
    run->last_progress_ms = now;
}

static long count_rows(import_run *run, const import_table *table, char *err, size_t errlen)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM {s}.%s", table->name);
    char *text = import_sql(run, sql);
    PGresult *res = text ? PQexec(run->source, text) : NULL;
    long total = PQresultStatus(res) == PGRES_TUPLES_OK ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    if (total < 0)
        snprintf(err, errlen, "%s: %s", table->name, text ? PQerrorMessage(run->source) : "out of memory");
    PQclear(res);
    free(text);
    return total;
}

/* Copies one batch's rows in one transaction of ours. */
static int copy_batch(import_run *run, const import_table *table, const PGresult *batch, import_count *count, char *err,
                      size_t errlen)
{
    if (!run->dry_run && exec_command(run->target, "BEGIN", err, errlen) < 0)
        return -1;
    for (int i = 0; i < PQntuples(batch); i++) {
        char reason[300];
        row_outcome outcome = copy_row(run, table, batch, i, reason, sizeof reason, err, errlen);
        if (outcome == ROW_FAILED) {
            if (!run->dry_run)
                PQclear(PQexec(run->target, "ROLLBACK"));
            return -1;
        }
        if (outcome == ROW_REFUSED)
            printf("refused %s %s: %s\n", table->name, PQgetvalue(batch, i, 0), reason);
        count->copied += outcome == ROW_COPIED;
        count->present += outcome == ROW_PRESENT;
        count->refused += outcome == ROW_REFUSED;
    }
    return run->dry_run ? 0 : exec_command(run->target, "COMMIT", err, errlen);
}

int import_copy_table(import_run *run, const import_table *table, import_count *count, char *err, size_t errlen)
{
    count->total = count_rows(run, table, err, errlen);
    char *select = count->total >= 0 ? import_sql(run, table->select_sql) : NULL;
    if (!select) {
        if (count->total >= 0)
            snprintf(err, errlen, "out of memory");
        return -1;
    }
    char last[64] = "00000000-0000-0000-0000-000000000000";
    char batch_rows[16];
    snprintf(batch_rows, sizeof batch_rows, "%d", run->batch_rows);
    long long started = cli_now_ms();
    long done = 0;
    int rc = 0;
    for (;;) {
        const char *params[2] = {last, batch_rows};
        PGresult *batch = PQexecParams(run->source, select, 2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(batch) != PGRES_TUPLES_OK) {
            snprintf(err, errlen, "reading %s: %s", table->name, PQerrorMessage(run->source));
            PQclear(batch);
            rc = -1;
            break;
        }
        int rows = PQntuples(batch);
        if (rows > 0 && copy_batch(run, table, batch, count, err, errlen) < 0)
            rc = -1;
        if (rows > 0 && rc == 0) {
            snprintf(last, sizeof last, "%s", PQgetvalue(batch, rows - 1, 0));
            done += rows;
            show_progress(run, table, done, count->total, started);
        }
        PQclear(batch);
        if (rc < 0 || rows < run->batch_rows)
            break;
    }
    free(select);
    return rc;
}
