/* migrate: applies sql/NNNN_name.sql files in numeric order, each once, each
 * in its own transaction, recorded in <schema>.schema_migrations. A session
 * advisory lock serializes instances that start at once. Uses blocking libpq:
 * it runs at start-up or from the command line, never inside a worker loop. */
#ifndef PAYMENTS_MIGRATE_H
#define PAYMENTS_MIGRATE_H

#include <stddef.h>

/* Returns the number of migrations applied now (0 when up to date), or -1
 * with a one-line reason in err (the failing file and the server's message). */
int migrate_apply(const char *conninfo, const char *schema, const char *sql_dir, char *err, size_t errlen);
/* The same, granting readonly_user (NULL or "": nobody) SELECT on the
 * schema's tables, present and future, when the grant's migration runs. */
int migrate_apply_granting(const char *conninfo, const char *schema, const char *sql_dir, const char *readonly_user,
                           char *err, size_t errlen);

#endif
