/* run_as: user lookup and the irrevocable switch away from root. The
 * order (groups, gid, uid) matters: once the uid is gone, the groups can no
 * longer be changed. */
#include "run_as.h"

#include "error.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int run_as_lookup(const char *name, run_as_user *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!name || !*name || strlen(name) >= sizeof out->name)
        return error_format(err, errlen, "the user name must be 1 to %zu characters", sizeof out->name - 1);
    struct passwd entry, *found = NULL;
    char buffer[4096];
    int rc = getpwnam_r(name, &entry, buffer, sizeof buffer, &found);
    if (rc != 0)
        return error_format(err, errlen, "cannot look up user \"%s\": %s", name, strerror(rc));
    if (!found)
        return error_format(err, errlen, "no user \"%s\" on this system", name);
    snprintf(out->name, sizeof out->name, "%s", name);
    out->uid = found->pw_uid;
    out->gid = found->pw_gid;
    return 0;
}

bool run_as_needed(const run_as_user *user)
{
    return geteuid() == 0 && user->uid != 0;
}

int run_as_drop(const run_as_user *user, char *err, size_t errlen)
{
    if (setgroups(0, NULL) < 0)
        return error_format(err, errlen, "setgroups: %s", strerror(errno));
    if (setgid(user->gid) < 0)
        return error_format(err, errlen, "setgid(%d): %s", (int)user->gid, strerror(errno));
    if (setuid(user->uid) < 0)
        return error_format(err, errlen, "setuid(%d) for user \"%s\": %s", (int)user->uid, user->name, strerror(errno));
    if (setuid(0) == 0 || geteuid() == 0 || getegid() == 0)
        return error_format(err, errlen, "still privileged after switching to user \"%s\"", user->name);
    return 0;
}
