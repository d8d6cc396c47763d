/* run_as: the unprivileged user a process started as root hands its work to
 * (PAYMENT_USER for the workers, --user for the fakes). Looking the user up
 * is one step, giving up root another, so that a process can refuse to
 * start before it binds anything when the user does not exist. */
#ifndef PAYMENTS_RUN_AS_H
#define PAYMENTS_RUN_AS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct run_as_user {
    char name[64];
    uid_t uid;
    gid_t gid; /* the user's primary group */
} run_as_user;

/* Fills out from the user database. Returns 0, or -1 with one line in err
 * (no such user, or the lookup failed). */
int run_as_lookup(const char *name, run_as_user *out, char *err, size_t errlen);

/* Whether this process may and should change user: it runs as root and
 * user is not root itself (uid 0 keeps root, on purpose). */
bool run_as_needed(const run_as_user *user);

/* Gives up root for good in this process: no supplementary groups, the
 * user's group, then the user, each checked, and checked again afterwards
 * (root cannot be regained). Returns 0, or -1 with one line in err. */
int run_as_drop(const run_as_user *user, char *err, size_t errlen);

#endif
