/* record_password: the password step of every read of a stored record (a
 * history, a reservation). A wrong password is a 403, checked in constant
 * time (bcrypt off the loop); a client address or record that keeps failing
 * gets 429 with Retry-After, whatever it tries, until its delay passes; a hash in the original server's format that
 * matched is replaced with ours on the way, so a migrated database converges
 * to one format. */
#ifndef PAYMENTS_RECORD_PASSWORD_H
#define PAYMENTS_RECORD_PASSWORD_H

#include "worker.h"

/* How a store replaces a record's hash, only while it is still old_hash. */
typedef void (*record_password_upgrade_fn)(pg_pool *pool, const char *id, const char *old_hash, const char *new_hash);

typedef struct record_password {
    http_exchange *ex;    /* the request: its client address, and a 429's Retry-After */
    const char *id;       /* the record's */
    const char *hash;     /* as stored */
    const char *password; /* as the caller gave it */
    record_password_upgrade_fn upgrade;
} record_password;

/* err is NULL when the password matches, else a 403 (a 429 while limited, or a 500). */
typedef void (*record_password_cb)(const app_error *err, void *data);

/* record is copied; the strings it points to must stay valid until cb runs,
 * which may be before this returns. */
void record_password_check(worker *w, const record_password *record, record_password_cb cb, void *data);

#endif
