/* history_access: find, then check the password (record_password), then
 * hand the record on. */
#include "history_access.h"

#include "record_password.h"

#include <stdlib.h>

typedef struct history_access {
    worker *app;
    http_exchange *ex;
    const char *password;
    history_record *record;
    history_record_cb cb;
    void *data;
} history_access;

static void finish(history_access *access, history_record *record, const app_error *err)
{
    history_record_cb cb = access->cb;
    void *data = access->data;
    free(access);
    cb(record, err, data);
}

static void on_checked(const app_error *err, void *data)
{
    history_access *access = data;
    history_record *record = access->record;
    if (err) {
        history_record_free(record);
        finish(access, NULL, err);
        return;
    }
    finish(access, record, NULL);
}

static void on_found(history_record *record, const app_error *err, void *data)
{
    history_access *access = data;
    if (err) {
        finish(access, NULL, err);
        return;
    }
    access->record = record;
    record_password check = {access->ex, record->id, record->password_hash, access->password,
                             history_store_upgrade_password};
    record_password_check(access->app, &check, on_checked, access);
}

static history_access *access_new(worker *w, http_exchange *ex, const char *password, history_record_cb cb, void *data)
{
    history_access *access = calloc(1, sizeof *access);
    if (!access) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(NULL, &err, data);
        return NULL;
    }
    access->app = w;
    access->ex = ex;
    access->password = password;
    access->cb = cb;
    access->data = data;
    return access;
}

void history_access_by_id(worker *w, http_exchange *ex, const char *id, const char *password, history_record_cb cb,
                          void *data)
{
    history_access *access = access_new(w, ex, password, cb, data);
    if (access)
        history_store_find_by_id(w->db, id, on_found, access);
}

void history_access_by_source(worker *w, http_exchange *ex, const payment_source_input *source, const char *password,
                              history_record_cb cb, void *data)
{
    history_access *access = access_new(w, ex, password, cb, data);
    if (access)
        history_store_find_by_source(w->db, source, on_found, access);
}
