/* pidfile_read: the pid file holds one decimal pid; liveness is asked with
 * signal 0, where only ESRCH means gone. */
#include "pidfile_read.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

pid_t pidfile_read_running(const char *path)
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
