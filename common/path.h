/* path: the files the master and the command line create (pid file, control
 * socket, log file) may sit under directories that do not exist yet, as on a
 * fresh checkout's var/run and var/log; and the binary a process runs, which
 * finds its siblings and tells a rebuilt binary from the image running. */
#ifndef PAYMENTS_PATH_H
#define PAYMENTS_PATH_H

#include <stddef.h>

/* Creates every missing directory above the file at path (mode 0755).
 * Returns 0, or -1 with errno set. */
int path_make_parent(const char *path);
/* The file process pid executes, from /proc/<pid>/exe, without the
 * " (deleted)" the kernel appends once a build replaced it. Returns 0, or -1
 * with out "" when it cannot be read (or pid is not positive). */
int path_executable(int pid, char *out, size_t len);
/* The same for this process. */
int path_own_executable(char *out, size_t len);

#endif
