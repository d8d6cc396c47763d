/* record_password: verify, then upgrade an old-format hash. The upgrade is
 * best effort: a failure is only logged, and the next read tries again. A
 * check is work in flight until its answer (a bcrypt job on the thread pool
 * may finish after the drain's deadline; what follows it then meets closed
 * vendors and database, which answer errors). */
#include "record_password.h"

#include "log.h"

#include <stdlib.h>

typedef struct password_check {
    worker *app;
    record_password record;
    record_password_cb cb;
    void *data;
} password_check;

static void upgrade(const password_check *check)
{
    const record_password *record = &check->record;
    if (password_is_current(record->hash))
        return;
    char *hash = password_hash(&check->app->password, record->password);
    if (!hash) {
        log_warn("record_password: cannot hash a password for its upgrade");
        return;
    }
    record->upgrade(check->app->db, record->id, record->hash, hash);
    free(hash);
}

static void on_verified(bool match, void *data)
{
    password_check check = *(password_check *)data;
    free(data);
    worker_work_end(check.app);
    if (!match) {
        app_error err;
        app_error_set(&err, 403, "wrong password");
        check.cb(&err, check.data);
        return;
    }
    upgrade(&check);
    check.cb(NULL, check.data);
}

void record_password_check(worker *w, const record_password *record, record_password_cb cb, void *data)
{
    password_check *check = malloc(sizeof *check);
    if (!check) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(&err, data);
        return;
    }
    *check = (password_check){w, *record, cb, data};
    worker_work_begin(w);
    password_verify(w->loop, &w->password, record->hash, record->password, on_verified, check);
}
