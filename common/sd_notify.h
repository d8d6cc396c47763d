/* sd_notify: tells systemd about the service's state (READY=1, RELOADING=1,
 * STOPPING=1, MAINPID=n) through the datagram socket named by NOTIFY_SOCKET.
 * Without that variable (not run by systemd) it does nothing. */
#ifndef PAYMENTS_SD_NOTIFY_H
#define PAYMENTS_SD_NOTIFY_H

/* Returns 1 when sent, 0 when not under systemd, -1 on error. */
int sd_notify_send(const char *state);

#endif
