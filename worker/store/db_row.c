/* db_row: result rows to owned strings, amounts to parameter text. */
#include "db_row.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char **member_at(void *record, const db_column *column)
{
    return (char **)((char *)record + column->offset);
}

/* Column tables list the SELECT's columns in order, so the field at the same
 * place is tried before PQfnumber's search (which also folds case into a
 * copy of the name). */
static int field_of(const PGresult *res, size_t i, const char *name)
{
    const char *at = (int)i < PQnfields(res) ? PQfname(res, (int)i) : NULL;
    return at && strcmp(at, name) == 0 ? (int)i : PQfnumber(res, name);
}

int db_row_copy(const PGresult *res, int row, void *record, const db_column *columns, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        int field = field_of(res, i, columns[i].name);
        if (field < 0)
            return -1;
        if (PQgetisnull(res, row, field))
            continue;
        char *copy = strdup(PQgetvalue(res, row, field));
        if (!copy)
            return -1;
        *member_at(record, &columns[i]) = copy;
    }
    return 0;
}

void db_row_free(void *record, const db_column *columns, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        char **member = member_at(record, &columns[i]);
        free(*member);
        *member = NULL;
    }
}

void db_amount_text(double amount, char *out, size_t cap)
{
    if (amount == floor(amount) && fabs(amount) < 9007199254740992.0)
        snprintf(out, cap, "%.0f", amount);
    else
        snprintf(out, cap, "%.15g", amount);
}
