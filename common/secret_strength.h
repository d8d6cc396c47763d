/* secret_strength: the minimums that secrets must meet outside local mode,
 * shared by the server's configuration and the updater, which proves the
 * same system password. Messages never quote the value judged. */
#ifndef PAYMENTS_SECRET_STRENGTH_H
#define PAYMENTS_SECRET_STRENGTH_H

#include <stddef.h>

/* PAYMENT_SYSTEM_PASSWORD outside local mode. */
#define SECRET_STRENGTH_PASSWORD_MIN 16
/* PAYMENT_WEBHOOK_SECRET and PAYMENT_PASSWORD_SECRET outside local mode. */
#define SECRET_STRENGTH_KEY_MIN 32

/* 0 when the system password is long enough and no well-known default
 * (compared case-insensitively); else -1 and one line naming the variable. */
int secret_strength_password(const char *name, const char *password, char *err, size_t errlen);

/* 0 when a generated secret is at least SECRET_STRENGTH_KEY_MIN characters;
 * else -1 and one line naming the variable. */
int secret_strength_key(const char *name, const char *secret, char *err, size_t errlen);

#endif
