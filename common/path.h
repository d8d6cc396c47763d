/* path: the files the master and the command line create (pid file, control
 * socket, log file) may sit under directories that do not exist yet, as on a
 * fresh checkout's var/run and var/log. */
#ifndef PAYMENTS_PATH_H
#define PAYMENTS_PATH_H

/* Creates every missing directory above the file at path (mode 0755).
 * Returns 0, or -1 with errno set. */
int path_make_parent(const char *path);

#endif
