/* Servers started as child processes (the fake vendors): their output goes
 * to a log file, and they are ready once it holds their "listening on
 * HOST:PORT" line, which also says the port they picked. */
#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The port of a whole "listening on" line in the log, 0 while none. */
static int logged_port(const char *log_path)
{
    FILE *log = fopen(log_path, "r");
    if (!log)
        return 0;
    char line[512];
    int port = 0;
    while (port == 0 && fgets(line, sizeof line, log)) {
        const char *at = strstr(line, "listening on ");
        const char *colon = at ? strrchr(at, ':') : NULL;
        if (colon && strchr(colon, '\n')) /* a whole line, not one still being written */
            port = atoi(colon + 1);
    }
    fclose(log);
    return port;
}

/* Waits up to 10 s for the line; -1 when the process exits first. */
static int wait_listening(harness_process *p)
{
    for (int attempt = 0; attempt < 500; attempt++) {
        int port = logged_port(p->log_path);
        if (port > 0)
            return port;
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->pid = 0; /* exited: nothing left to stop */
            return -1;
        }
        usleep(20000);
    }
    return -1;
}

static void terminate(harness_process *p)
{
    if (p->pid <= 0)
        return;
    kill(p->pid, SIGTERM);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
}

int harness_process_start(harness_process *p, const char *name, char *const argv[])
{
    memset(p, 0, sizeof *p);
    snprintf(p->log_path, sizeof p->log_path, "/tmp/%s_%d.log", name, (int)getpid());
    posix_spawn_file_actions_t actions;
    if (posix_spawn_file_actions_init(&actions) != 0)
        return -1;
    int rc = posix_spawn_file_actions_addopen(&actions, 1, p->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (rc == 0)
        rc = posix_spawn(&p->pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        fprintf(stderr, "cannot start %s: %s\n", argv[0], strerror(rc));
        p->pid = 0;
        return -1;
    }
    p->port = wait_listening(p);
    if (p->port <= 0) {
        fprintf(stderr, "%s did not report listening; see %s\n", argv[0], p->log_path);
        terminate(p); /* the log stays, for the reader of that line */
        return -1;
    }
    return 0;
}

void harness_process_stop(harness_process *p)
{
    if (p->pid <= 0)
        return;
    terminate(p);
    unlink(p->log_path);
}
