/* db_row: copies a result row into a record of strings, so a record outlives
 * the PGresult (which the pool frees after its callback), and PostgreSQL's
 * text forms of amounts and times. A record type describes itself once with
 * a column table; copying and freeing both walk that table. */
#ifndef PAYMENTS_DB_ROW_H
#define PAYMENTS_DB_ROW_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct db_column {
    const char *name; /* the column's name in the SELECT list */
    size_t offset;    /* offsetof the record's char * member */
} db_column;

/* Fills every member named by columns from row; SQL NULL becomes NULL.
 * Returns 0, or -1 when a column is missing or memory runs out (members
 * copied so far stay set: free the record with db_row_free). */
int db_row_copy(const PGresult *res, int row, void *record, const db_column *columns, size_t count);
/* Frees every member named by columns. */
void db_row_free(void *record, const db_column *columns, size_t count);

/* An amount as text for a numeric parameter ("25000", "0.5"). */
void db_amount_text(double amount, char *out, size_t cap);

/* The SELECT expression printing a timestamptz as ISO-8601 UTC with
 * milliseconds ("2026-11-23T09:30:00.123Z"), as the contract's date-time. */
#define DB_ISO_TIME(column) "to_char((" column ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* The SQL expression turning a parameter of unix milliseconds into a
 * timestamptz (NULL stays NULL). */
#define DB_FROM_MILLISECONDS(param) "(timestamptz 'epoch' + (" param ")::bigint * interval '1 millisecond')"

#endif
