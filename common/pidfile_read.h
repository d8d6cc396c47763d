/* pidfile_read: who holds the master's pid file. The master reads it to
 * refuse starting beside a live master, the command line to find the master
 * it starts, stops or waits for; both must agree on what counts as live. */
#ifndef PAYMENTS_PIDFILE_READ_H
#define PAYMENTS_PIDFILE_READ_H

#include <sys/types.h>

/* The live process named in the pid file at path, or 0: no file, no pid in
 * it, no such process, or the caller itself (a stale file naming a reused
 * pid). A process we may not signal still counts as live. */
pid_t pidfile_read_running(const char *path);

#endif
