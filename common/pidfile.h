/* pidfile: the pid file a daemon writes while it runs (the master's
 * PAYMENT_PID_FILE, the updater's PAYMENT_UPDATER_PID_FILE). A second daemon
 * on the same file refuses to start while the first is alive. */
#ifndef PAYMENTS_PIDFILE_H
#define PAYMENTS_PIDFILE_H

#include <stddef.h>

/* Writes our pid to path, unless another live process holds it that is not
 * predecessor (the one being upgraded from; 0 for none): then -1 with err
 * "another <program> is running (pid N, path)". */
int pidfile_write(const char *path, const char *program, int predecessor, char *err, size_t errlen);
/* Removes the file unless a live process other than ourselves holds it. */
void pidfile_remove(const char *path);

#endif
