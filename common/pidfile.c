/* The pid file of a daemon (the master, the updater): refuses to start a
 * second one on the same file while the first is alive, and is written
 * atomically (temporary file, then rename). */
#include "pidfile.h"

#include "path.h"
#include "pidfile_read.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int pidfile_write(const char *path, const char *program, int predecessor, char *err, size_t errlen)
{
    pid_t running = pidfile_read_running(path);
    if (running && running != predecessor) {
        snprintf(err, errlen, "another %s is running (pid %d, %s)", program, (int)running, path);
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
    if (pidfile_read_running(path) == 0)
        unlink(path);
}
