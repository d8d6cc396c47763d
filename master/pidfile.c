/* The pid file: refuses to start a second master on the same file while the
 * first is alive, and is written atomically (temporary file, then rename). */
#include "master.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int path_make_parent(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static pid_t read_running_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    if (pid <= 0 || pid == getpid() || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
        return 0;
    return (pid_t)pid;
}

int pidfile_write(const char *path, int predecessor, char *err, size_t errlen)
{
    pid_t running = read_running_pid(path);
    if (running && running != predecessor) {
        snprintf(err, errlen, "another master is running (pid %d, %s)", (int)running, path);
        return -1;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    FILE *f = path_make_parent(path) == 0 ? fopen(tmp, "w") : NULL;
    int ok = f != NULL;
    if (f) {
        ok = fprintf(f, "%d\n", (int)getpid()) > 0;
        ok = fclose(f) == 0 && ok;
    }
    if (!ok || rename(tmp, path) < 0) {
        snprintf(err, errlen, "cannot write pid file %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

void pidfile_remove(const char *path)
{
    if (read_running_pid(path) == 0)
        unlink(path);
}
