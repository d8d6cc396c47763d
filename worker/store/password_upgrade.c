/* password_upgrade: one statement, answered to nobody: the read that asked
 * for it has answered its caller already. */
#include "password_upgrade.h"

#include "log.h"

static void on_upgraded(PGresult *res, const app_error *err, void *data)
{
    (void)res;
    (void)data;
    if (err)
        log_warn("password_upgrade: cannot upgrade a password hash (%d %s)", err->status, err->message);
}

void password_upgrade_run(pg_pool *pool, const char *sql, const char *id, const char *old_hash, const char *new_hash)
{
    const char *params[] = {id, old_hash, new_hash};
    pg_pool_query(pool, sql, 3, params, on_upgraded, NULL);
}
