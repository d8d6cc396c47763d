/* Migrations: the directory is the list of what should be applied, the
 * schema_migrations table the list of what was; a checksum of each file ties
 * the two so that an edited, already applied file is refused rather than
 * silently ignored. Every statement about names is parameterized. */
#include "migrate.h"

#include "byte_buffer.h"
#include "error.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Any fixed number: every instance must use the same one. */
#define MIGRATE_LOCK_KEY "7305937106422117"

typedef struct migration {
    int version;
    char *file; /* "0003_name.sql" */
    char *name; /* "name" */
} migration;

typedef struct migration_list {
    migration *items;
    size_t count;
} migration_list;

/* ---- the files ---- */

/* NNNN_name.sql: four digits, an underscore, a name of letters, digits, '_'
 * or '-'. Returns the version, or -1. */
static int migration_parse_file_name(const char *file)
{
    size_t len = strlen(file);
    if (len < 10 || strcmp(file + len - 4, ".sql") != 0 || file[4] != '_')
        return -1;
    int version = 0;
    for (int i = 0; i < 4; i++) {
        if (file[i] < '0' || file[i] > '9')
            return -1;
        version = version * 10 + (file[i] - '0');
    }
    for (size_t i = 5; i < len - 4; i++) {
        char c = file[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok)
            return -1;
    }
    return version;
}

static void migration_list_free(migration_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].file);
        free(list->items[i].name);
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static int migration_compare(const void *a, const void *b)
{
    const migration *left = a, *right = b;
    return (left->version > right->version) - (left->version < right->version);
}

static int migration_list_add(migration_list *list, const char *file, char *err, size_t errlen)
{
    int version = migration_parse_file_name(file);
    if (version < 0)
        return error_format(err, errlen, "%s: bad migration file name (expected NNNN_name.sql)", file);
    migration *items = realloc(list->items, (list->count + 1) * sizeof *items);
    if (!items)
        return error_format(err, errlen, "out of memory");
    list->items = items;
    migration *m = &items[list->count];
    m->version = version;
    m->file = strdup(file);
    m->name = strndup(file + 5, strlen(file) - 9);
    if (!m->file || !m->name) {
        free(m->file);
        free(m->name);
        return error_format(err, errlen, "out of memory");
    }
    list->count++;
    return 0;
}

/* Every *.sql file of dir, sorted by number; a malformed name or a number
 * used twice is an error (the order would be a guess). */
static int migration_list_load(migration_list *list, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d)
        return error_format(err, errlen, "%s: %s", dir, strerror(errno));
    struct dirent *entry;
    int rc = 0;
    while (rc == 0 && (entry = readdir(d))) {
        size_t len = strlen(entry->d_name);
        if (entry->d_name[0] == '.' || len < 4 || strcmp(entry->d_name + len - 4, ".sql") != 0)
            continue;
        rc = migration_list_add(list, entry->d_name, err, errlen);
    }
    closedir(d);
    if (rc != 0)
        return -1;
    qsort(list->items, list->count, sizeof *list->items, migration_compare);
    for (size_t i = 1; i < list->count; i++)
        if (list->items[i].version == list->items[i - 1].version)
            return error_format(err, errlen, "duplicate migration number %04d: %s and %s", list->items[i].version,
                                list->items[i - 1].file, list->items[i].file);
    return 0;
}

/* The whole file, NUL-terminated (PQexec wants a C string). */
static char *migration_read(const char *dir, const migration *m, size_t *size, char *err, size_t errlen)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, m->file) >= (int)sizeof path) {
        error_format(err, errlen, "%s: path too long", m->file);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_format(err, errlen, "%s: %s", m->file, strerror(errno));
        return NULL;
    }
    byte_buffer text = {0};
    int rc = byte_buffer_read_file(&text, f);
    fclose(f);
    if (rc < 0) {
        byte_buffer_release(&text);
        error_format(err, errlen, "%s: cannot read the file", m->file);
        return NULL;
    }
    if (strlen(text.data) != text.len) {
        byte_buffer_release(&text);
        error_format(err, errlen, "%s: the file contains a NUL byte", m->file);
        return NULL;
    }
    *size = text.len;
    return text.data;
}

/* sha256 of the file's bytes, lowercase hex. */
static int migration_checksum(const char *text, size_t size, char hex[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_Digest(text, size, digest, &digest_len, EVP_sha256(), NULL) != 1 || digest_len != 32)
        return -1;
    for (unsigned i = 0; i < digest_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return 0;
}

/* ---- the database ---- */

static void db_message(PGconn *db, const PGresult *res, char *out, size_t size)
{
    const char *text = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!text)
        text = PQerrorMessage(db);
    snprintf(out, size, "%s", text && *text ? text : "unknown error");
    out[strcspn(out, "\r\n")] = '\0';
}

/* Runs one parameterized statement; NULL with err set on failure. */
static PGresult *db_run(PGconn *db, const char *sql, int nparams, const char *const *params, const char *context,
                        char *err, size_t errlen)
{
    PGresult *res = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return res;
    char message[512];
    db_message(db, res, message, sizeof message);
    error_format(err, errlen, "%s: %s", context, message);
    PQclear(res);
    return NULL;
}

static int db_command(PGconn *db, const char *sql, int nparams, const char *const *params, const char *context,
                      char *err, size_t errlen)
{
    PGresult *res = db_run(db, sql, nparams, params, context, err, errlen);
    PQclear(res);
    return res ? 0 : -1;
}

/* Locks, then points payments.schema and search_path at the schema, which
 * the files rely on (0001 creates it from payments.schema), and names the
 * read-only user in payments.readonly_user (0013 grants it SELECT). */
static int db_prepare_session(PGconn *db, const char *schema, const char *readonly_user, char *err, size_t errlen)
{
    const char *params[] = {schema};
    const char *reader[] = {readonly_user ? readonly_user : ""};
    if (db_command(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL, "advisory lock", err, errlen) != 0)
        return -1;
    if (db_command(db, "SELECT set_config('payments.schema', $1, false)", 1, params, "set payments.schema", err,
                   errlen) != 0)
        return -1;
    if (db_command(db, "SELECT set_config('payments.readonly_user', $1, false)", 1, reader,
                   "set payments.readonly_user", err, errlen) != 0)
        return -1;
    return db_command(db, "SELECT set_config('search_path', quote_ident($1), false)", 1, params, "set search_path", err,
                      errlen);
}

/* The applied migrations (version, checksum), or an empty result when the
 * record table does not exist yet. */
static PGresult *db_applied(PGconn *db, const char *schema, char *err, size_t errlen)
{
    const char *params[] = {schema};
    PGresult *res = db_run(db, "SELECT to_regclass(format('%I.schema_migrations', $1::text)) IS NOT NULL", 1, params,
                           "schema_migrations", err, errlen);
    if (!res)
        return NULL;
    bool exists = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    const char *sql = exists ? "SELECT version, checksum FROM schema_migrations ORDER BY version"
                             : "SELECT NULL::int AS version, NULL::text AS checksum WHERE false";
    return db_run(db, sql, 0, NULL, "schema_migrations", err, errlen);
}

/* The recorded checksum of version, or NULL when it was never applied. */
static const char *applied_checksum(const PGresult *applied, int version)
{
    for (int row = 0; row < PQntuples(applied); row++)
        if (atoi(PQgetvalue(applied, row, 0)) == version)
            return PQgetvalue(applied, row, 1);
    return NULL;
}

static int db_apply(PGconn *db, const migration *m, const char *text, const char *checksum, char *err, size_t errlen)
{
    if (db_command(db, "BEGIN", 0, NULL, m->file, err, errlen) != 0)
        return -1;
    /* Our own file, several statements: the one place PQexec is right. */
    PGresult *res = PQexec(db, text);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY;
    if (!ok) {
        char message[512];
        db_message(db, res, message, sizeof message);
        error_format(err, errlen, "%s: %s", m->file, message);
    }
    PQclear(res);
    char version[16];
    snprintf(version, sizeof version, "%d", m->version);
    const char *params[] = {version, m->name, checksum};
    if (ok)
        ok = db_command(db, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1::int, $2, $3)", 3,
                        params, m->file, err, errlen) == 0;
    if (ok)
        ok = db_command(db, "COMMIT", 0, NULL, m->file, err, errlen) == 0;
    if (!ok)
        PQclear(PQexec(db, "ROLLBACK"));
    return ok ? 0 : -1;
}

/* Checks or applies each file in order; returns how many were applied. */
static int db_apply_pending(PGconn *db, const migration_list *list, const PGresult *applied, const char *dir, char *err,
                            size_t errlen)
{
    int count = 0;
    for (size_t i = 0; i < list->count; i++) {
        const migration *m = &list->items[i];
        size_t size = 0;
        char checksum[65];
        char *text = migration_read(dir, m, &size, err, errlen);
        if (!text)
            return -1;
        int rc = migration_checksum(text, size, checksum);
        const char *recorded = rc == 0 ? applied_checksum(applied, m->version) : NULL;
        if (rc != 0)
            error_format(err, errlen, "%s: cannot compute its checksum", m->file);
        else if (recorded && strcmp(recorded, checksum) != 0)
            rc = error_format(err, errlen, "migration %04d changed after it was applied (%s)", m->version, m->file);
        else if (!recorded && (rc = db_apply(db, m, text, checksum, err, errlen)) == 0)
            count++;
        free(text);
        if (rc != 0)
            return -1;
    }
    return count;
}

static int migrate_run(PGconn *db, const char *schema, const char *readonly_user, const migration_list *list,
                       const char *dir, char *err, size_t errlen)
{
    if (db_prepare_session(db, schema, readonly_user, err, errlen) != 0)
        return -1;
    PGresult *applied = db_applied(db, schema, err, errlen);
    if (!applied)
        return -1;
    int count = db_apply_pending(db, list, applied, dir, err, errlen);
    PQclear(applied);
    if (count >= 0) {
        char ignored[8];
        /* The session lock also ends with the connection; unlocking first
         * lets a waiting instance go on before our socket is closed. */
        db_command(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0, NULL, "unlock", ignored, sizeof ignored);
    }
    return count;
}

/* Server notices (e.g. "already exists, skipping") would go to stderr. */
static void db_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("migrate: %.*s", (int)strcspn(message, "\r\n"), message);
}

int migrate_apply(const char *conninfo, const char *schema, const char *sql_dir, char *err, size_t errlen)
{
    return migrate_apply_granting(conninfo, schema, sql_dir, NULL, err, errlen);
}

int migrate_apply_granting(const char *conninfo, const char *schema, const char *sql_dir, const char *readonly_user,
                           char *err, size_t errlen)
{
    if (!conninfo || !schema || !*schema || !sql_dir)
        return error_format(err, errlen, "migrate: connection string, schema and directory are required");
    migration_list list = {0};
    if (migration_list_load(&list, sql_dir, err, errlen) != 0) {
        migration_list_free(&list);
        return -1;
    }
    const char *keywords[] = {"application_name", "dbname", NULL};
    const char *values[] = {"payments-migrate", conninfo, NULL};
    PGconn *db = PQconnectdbParams(keywords, values, 1);
    int count;
    if (!db || PQstatus(db) != CONNECTION_OK) {
        char message[512];
        db_message(db, NULL, message, sizeof message);
        count = error_format(err, errlen, "cannot connect to PostgreSQL: %s", message);
    } else {
        PQsetNoticeProcessor(db, db_notice, NULL);
        count = migrate_run(db, schema, readonly_user, &list, sql_dir, err, errlen);
    }
    PQfinish(db);
    migration_list_free(&list);
    return count;
}
