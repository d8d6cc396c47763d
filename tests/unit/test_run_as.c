/* Unit tests of run_as: looking a user up (and a clear refusal for one that
 * does not exist), and, when the test runs as root, giving root up for good
 * in a forked child: every id is the user's, no group is left, and root
 * cannot be taken back. */
#include "run_as.h"
#include "unit.h"

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

UNIT_CASE(lookup_root, NULL)
{
    run_as_user user;
    char err[256] = "";
    CHECK(run_as_lookup("root", &user, err, sizeof err) == 0);
    CHECK(user.uid == 0 && user.gid == 0);
    CHECK(!run_as_needed(&user)); /* root keeps root: nothing to change */
}

UNIT_CASE(lookup_missing_names_the_user, NULL)
{
    run_as_user user;
    char err[256] = "";
    CHECK(run_as_lookup("payments-no-such-user", &user, err, sizeof err) < 0);
    CHECK(strstr(err, "no user \"payments-no-such-user\"") != NULL);
    CHECK(run_as_lookup("", &user, err, sizeof err) < 0);
}

/* What the child found, as its exit status: 0 when all is as it must be. */
static int drop_and_inspect(const run_as_user *user)
{
    char err[256];
    if (run_as_drop(user, err, sizeof err) < 0)
        return 1;
    uid_t real, effective, saved;
    gid_t greal, geffective, gsaved;
    if (getresuid(&real, &effective, &saved) < 0 || getresgid(&greal, &geffective, &gsaved) < 0)
        return 2;
    if (real != user->uid || effective != user->uid || saved != user->uid)
        return 3;
    if (greal != user->gid || geffective != user->gid || gsaved != user->gid)
        return 4;
    if (getgroups(0, NULL) != 0)
        return 5;
    if (setuid(0) == 0 || seteuid(0) == 0)
        return 6;
    return 0;
}

UNIT_CASE(drop_for_good, NULL)
{
    run_as_user user;
    char err[256] = "";
    if (!CHECK(run_as_lookup("nobody", &user, err, sizeof err) == 0))
        return;
    if (geteuid() != 0) {
        printf("    not root: only checking that nothing would change\n");
        CHECK(!run_as_needed(&user));
        return;
    }
    CHECK(run_as_needed(&user));
    pid_t child = fork();
    if (child == 0)
        _exit(drop_and_inspect(&user));
    int status = -1;
    CHECK(child > 0 && waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
