/* db_row: result rows to owned strings, amounts to parameter text. A
 * record is allocated and freed here whole, so a half-copied row never
 * reaches its store. */
#include "db_row.h"

#include "log.h"

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

static int copy_members(const db_row_type *type, const PGresult *res, int row, void *record)
{
    for (size_t i = 0; i < type->count; i++) {
        int field = field_of(res, i, type->columns[i].name);
        if (field < 0)
            return -1;
        if (PQgetisnull(res, row, field))
            continue;
        char *copy = strdup(PQgetvalue(res, row, field));
        if (!copy)
            return -1;
        *member_at(record, &type->columns[i]) = copy;
    }
    return 0;
}

void *db_row_new(const db_row_type *type, const PGresult *res, int row)
{
    void *record = calloc(1, type->size);
    if (record && copy_members(type, res, row, record) < 0) {
        db_row_delete(type, record);
        return NULL;
    }
    return record;
}

void *db_row_found(const db_row_type *type, const PGresult *res, app_error *err)
{
    if (PQntuples(res) == 0) {
        app_error_set(err, 404, "%s not found", type->name);
        return NULL;
    }
    void *record = db_row_new(type, res, 0);
    if (!record) {
        log_error("db_row: cannot copy a row of %s", type->name);
        app_error_set(err, 500, "cannot read the %s", type->name);
    }
    return record;
}

void db_row_delete(const db_row_type *type, void *record)
{
    if (!record)
        return;
    for (size_t i = 0; i < type->count; i++)
        free(*member_at(record, &type->columns[i]));
    free(record);
}

void db_amount_text(double amount, char *out, size_t cap)
{
    if (amount == floor(amount) && fabs(amount) < 9007199254740992.0)
        snprintf(out, cap, "%.0f", amount);
    else
        snprintf(out, cap, "%.15g", amount);
}
