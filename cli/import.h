/* import: `payments import`, the copy of an original server's database into
 * ours. One run holds both connections, both sets of keys and the counts;
 * each original table is described once (import_tables.c) and copied by the
 * same batch loop (import_copy.c). */
#ifndef PAYMENTS_IMPORT_H
#define PAYMENTS_IMPORT_H

#include "seal.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#define IMPORT_MAX_PARAMS 16
#define IMPORT_MAX_OWNED 4

/* How one original table fared. */
typedef struct import_count {
    long total;
    long copied; /* written, or to be written in a dry run */
    long present;
    long refused;
} import_count;

/* Ids refused so far: the rows that hang on them are refused too. */
typedef struct import_id_list {
    char **ids;
    size_t count;
} import_id_list;

typedef struct import_run {
    PGconn *source;      /* the original's database, read only */
    PGconn *target;      /* ours, search_path set to our schema */
    char *source_schema; /* quoted identifier of the original's schema */
    /* The original's keys open its values; ours seal them again. */
    seal_ring open_history, open_cancel, open_reservation;
    seal_ring seal_history, seal_cancel, seal_reservation;
    bool dry_run;
    int batch_rows;
    import_id_list refused;
    long long started_ms;
    long long last_progress_ms;
    bool progress_shown;
} import_run;

/* One row made ready for our INSERT: its parameters, what they own, and the
 * id of the row of ours it hangs on (NULL for none). */
typedef struct import_row {
    const char *params[IMPORT_MAX_PARAMS];
    int count;
    char *owned[IMPORT_MAX_OWNED];
    int owned_count;
    const char *parent;
} import_row;

/* Fills out from row of a source batch; returns 0, or -1 with why the row is
 * refused in reason. */
typedef int (*import_convert_fn)(const import_run *run, const PGresult *batch, int row, import_row *out, char *reason,
                                 size_t reasonlen);

typedef struct import_table {
    const char *name;        /* the original's table */
    const char *parent_name; /* the table whose refused rows refuse ours */
    /* {s} stands for the original's schema; $1 the last id done, $2 the batch size. */
    const char *select_sql;
    const char *insert_sql; /* RETURNING a row when written */
    const char *exists_sql; /* ours, by the original's id ($1) */
    /* For a dry run: another record of ours holds the row's source or vendor
     * uid (the row's first seven parameters, as text); NULL when none can. */
    const char *taken_sql;
    import_convert_fn convert;
} import_table;

/* import_tables.c: the five tables, parents first. */
extern const import_table import_tables[];
extern const size_t import_table_count;

/* import_copy.c */
/* sql with every {s} replaced by the source schema; malloc'd or NULL. */
char *import_sql(const import_run *run, const char *sql);
/* Copies one table in batches, each in a transaction; returns 0, or -1 with
 * err (a database failure: what was committed stays). */
int import_copy_table(import_run *run, const import_table *table, import_count *count, char *err, size_t errlen);
bool import_id_refused(const import_run *run, const char *id);
void import_id_list_free(import_id_list *list);

/* import_convert.c: the value conversions every table shares. */
/* The original's sealed document opened with from, checked to be JSON and
 * sealed with to; NULL with reason when it does not open. */
char *import_reseal(const seal_ring *from, const seal_ring *to, const char *value, char *reason, size_t reasonlen);
/* A plain JSON document (the original's webhooks) sealed with to. */
char *import_seal_json(const seal_ring *to, const char *value, char *reason, size_t reasonlen);
bool import_is_uuid(const char *text);
/* Keeps a malloc'd parameter with the row; false when it is NULL. */
bool import_row_own(import_row *row, char *value);
void import_row_free(import_row *row);

#endif
