/* db_row: copies a result row into a record of strings, so a record outlives
 * the PGresult (which the pool frees after its callback), and PostgreSQL's
 * text forms of amounts and times. A record type describes itself once with
 * a column table; copying and freeing both walk that table. */
#ifndef PAYMENTS_DB_ROW_H
#define PAYMENTS_DB_ROW_H

#include "error.h"

#include <libpq-fe.h>
#include <stddef.h>

typedef struct db_column {
    const char *name; /* the column's name in the SELECT list */
    size_t offset;    /* offsetof the record's char * member */
} db_column;

/* One entry of a column table: the record's member and its column share a
 * name. */
#define DB_ROW_COLUMN(record_type, member)     \
    {                                          \
#member, offsetof(record_type, member) \
    }

/* A record type: a struct of char * members, each named by a column. */
typedef struct db_row_type {
    const char *name; /* what a record is, in errors: "payment history" */
    size_t size;      /* of the struct */
    const db_column *columns;
    size_t count;
} db_row_type;

#define DB_ROW_TYPE(name, record_type, columns)                                \
    {                                                                          \
        name, sizeof(record_type), columns, sizeof columns / sizeof columns[0] \
    }

/* Row row of res as a new record, SQL NULL as NULL members; NULL when a
 * column is missing or memory runs out. */
void *db_row_new(const db_row_type *type, const PGresult *res, int row);
/* The row a read by key found, as a new record: NULL with err set to a 404
 * ("<name> not found") when there is none, or to a 500 when it cannot be
 * copied (logged). */
void *db_row_found(const db_row_type *type, const PGresult *res, app_error *err);
/* Frees the record and every member; NULL is ignored. */
void db_row_delete(const db_row_type *type, void *record);

/* An amount as text for a numeric parameter ("25000", "0.5"). */
void db_amount_text(double amount, char *out, size_t cap);

/* The SELECT expression printing a timestamptz as ISO-8601 UTC with
 * milliseconds ("2026-11-23T09:30:00.123Z"), as the contract's date-time. */
#define DB_ISO_TIME(column) "to_char((" column ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* The SQL expression turning a parameter of unix milliseconds into a
 * timestamptz (NULL stays NULL). */
#define DB_FROM_MILLISECONDS(param) "(timestamptz 'epoch' + (" param ")::bigint * interval '1 millisecond')"

#endif
