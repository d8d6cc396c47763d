/* record_password: limit, verify, then upgrade an old-format hash. A client
 * address or a record that failed too often is refused (429) before any
 * bcrypt work, the right password included, until its delay passes
 * (attempt_limit.h). The upgrade is best effort: a failure is only logged,
 * and the next read tries again. A check is work in flight until its answer
 * (a bcrypt job on the thread pool may finish after the drain's deadline;
 * what follows it then meets closed vendors and database, which answer
 * errors). */
#include "record_password.h"

#include "key_table.h"
#include "log.h"
#include "too_many.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

typedef struct password_check {
    worker *app;
    record_password record;
    record_password_cb cb;
    void *data;
    char address[KEY_TABLE_KEY_MAX]; /* the client's, a key of the limits */
    bool previous_secret;            /* matched under PAYMENT_PASSWORD_SECRET_PREVIOUS */
} password_check;

/* How long the client or the record must still wait, 0 when neither. */
static uint64_t wait_ms(worker *w, const char *address, const char *id)
{
    uint64_t now = uv_now(w->loop);
    uint64_t by_address = attempt_limit_check(w->record_guesses_by_address, address, now);
    uint64_t by_record = attempt_limit_check(w->record_guesses_by_record, id, now);
    return by_address > by_record ? by_address : by_record;
}

/* The log says when a limit trips: the address or the record id, never
 * the password tried. */
static void count_failure(const password_check *check)
{
    worker *w = check->app;
    uint64_t now = uv_now(w->loop);
    const char *id = check->record.id;
    if (attempt_limit_failed(w->record_guesses_by_address, check->address, now))
        log_warn("record_password: client %s blocked for %" PRIu64 " s after repeated wrong passwords", check->address,
                 attempt_limit_seconds(attempt_limit_check(w->record_guesses_by_address, check->address, now)));
    if (attempt_limit_failed(w->record_guesses_by_record, id, now))
        log_warn("record_password: record %s blocked for %" PRIu64 " s after repeated wrong passwords", id,
                 attempt_limit_seconds(attempt_limit_check(w->record_guesses_by_record, id, now)));
}

static void count_success(const password_check *check)
{
    attempt_limit_succeeded(check->app->record_guesses_by_address, check->address);
    attempt_limit_succeeded(check->app->record_guesses_by_record, check->record.id);
}

static void upgrade(const password_check *check)
{
    const record_password *record = &check->record;
    if (password_is_current(record->hash) && !check->previous_secret)
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
        count_failure(&check);
        app_error err;
        app_error_set(&err, 403, "wrong password");
        check.cb(&err, check.data);
        return;
    }
    count_success(&check);
    upgrade(&check);
    check.cb(NULL, check.data);
}

/* Under the current secret, else (a secret being rotated) under the
 * previous one, whose hash upgrade() then replaces. */
static void verify(password_check *check)
{
    worker *w = check->app;
    const record_password *record = &check->record;
    if (w->password_previous.keyed && password_is_current(record->hash) &&
        !password_matches(&w->password, record->hash, record->password)) {
        check->previous_secret = password_matches(&w->password_previous, record->hash, record->password);
        on_verified(check->previous_secret, check);
        return;
    }
    password_verify(w->loop, &w->password, record->hash, record->password, on_verified, check);
}

void record_password_check(worker *w, const record_password *record, record_password_cb cb, void *data)
{
    const char *address = http_exchange_request(record->ex)->remote_address;
    if (!address)
        address = "";
    uint64_t wait = wait_ms(w, address, record->id);
    if (wait > 0) {
        app_error err;
        too_many_prepare(record->ex, wait, "too many wrong passwords", &err);
        cb(&err, data);
        return;
    }
    password_check *check = malloc(sizeof *check);
    if (!check) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        cb(&err, data);
        return;
    }
    *check = (password_check){w, *record, cb, data, "", false};
    snprintf(check->address, sizeof check->address, "%s", address);
    worker_work_begin(w);
    verify(check);
}
