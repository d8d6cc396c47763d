/* What a failed statement means to the caller: SQLSTATE to HTTP status, a
 * message safe to show, and the server's own message for the log (never
 * the parameters, which may hold secrets). */
#include "pg_pool_internal.h"

#include "log.h"

#include <string.h>

void pg_text_one_line(char *out, size_t size, const char *text)
{
    size_t n = 0;
    bool space = false;
    for (; text && *text && n + 1 < size; text++) {
        bool is_space = *text == ' ' || *text == '\n' || *text == '\r' || *text == '\t';
        if (is_space) {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < size)
            out[n++] = ' ';
        space = false;
        out[n++] = *text;
    }
    out[n] = '\0';
}

static bool sqlstate_is(const char *sqlstate, const char *prefix)
{
    return strncmp(sqlstate, prefix, strlen(prefix)) == 0;
}

/* Class 22 (data exception) messages may quote a parameter's value, so
 * only their SQLSTATE is logged. */
static void pg_error_log_line(const PGresult *res, const char *sqlstate, char *out, size_t size)
{
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "no result";
    if (sqlstate_is(sqlstate, "22"))
        primary = "(withheld: may quote a value)";
    pg_text_one_line(out, size, primary ? primary : PQresStatus(status));
}

void pg_error_from_result(const PGresult *res, const char *sql, app_error *err)
{
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY)
        return;
    const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!sqlstate)
        sqlstate = "";
    char message[256], statement[161];
    pg_error_log_line(res, sqlstate, message, sizeof message);
    pg_text_one_line(statement, sizeof statement, sql);

    if (strcmp(sqlstate, "23505") == 0) {
        /* An expected outcome (idempotency keys, unique numbers): a warning. */
        const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
        app_error_set(err, 409, "duplicate value violates unique constraint \"%s\"",
                      constraint ? constraint : "unknown");
        log_warn("pg: SQLSTATE %s: %s (statement: %s)", sqlstate, message, statement);
        return;
    }
    if (strcmp(sqlstate, "57014") == 0)
        app_error_set(err, 504, "database query timed out");
    else if (sqlstate_is(sqlstate, "08") || sqlstate_is(sqlstate, "57P"))
        app_error_set(err, 503, "database unavailable");
    else
        app_error_set(err, 500, "database error");
    log_error("pg: SQLSTATE %s: %s (statement: %s)", sqlstate[0] ? sqlstate : "none", message, statement);
}
