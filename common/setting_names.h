/* setting_names: every PAYMENT_* variable a program of the project reads, so
 * that a misspelled one (PAYMENT_WEBHOK_SECRET) is reported at start-up with
 * the nearest known name instead of being silently ignored. */
#ifndef PAYMENTS_SETTING_NAMES_H
#define PAYMENTS_SETTING_NAMES_H

#include "dotenv.h"

#include <stdbool.h>
#include <stddef.h>

/* Whether name is read by a program of the project (its common names; the
 * vendors' own are passed as extra, a NULL-terminated list, or NULL). */
bool setting_names_known(const char *name, const char *const *extra);

/* Calls report once for every PAYMENT_* name set in the environment or in
 * env's file that is not known, with the nearest known name (NULL when none
 * is close). A name given twice is reported once. Returns how many. */
size_t setting_names_unknown(const dotenv *env, const char *const *extra,
                             void (*report)(const char *name, const char *nearest, void *data), void *data);

#endif
