/* net_address: a host and port resolved to its addresses, each tried in turn
 * until one gives a socket, as the master binds its listening socket and the
 * command line connects to an updater. Blocking: for start-up and tools. */
#ifndef PAYMENTS_NET_ADDRESS_H
#define PAYMENTS_NET_ADDRESS_H

#include <netdb.h>
#include <stddef.h>

/* Makes a socket for one address: its descriptor, or -1 with errno set. */
typedef int (*net_address_try_fn)(const struct addrinfo *address, void *data);

/* Resolves host:port for a TCP stream (flags: getaddrinfo's, AI_PASSIVE to
 * bind) and calls attempt on each address until one succeeds. Returns that
 * descriptor, or -1 with err: "cannot resolve <host>: ..." or
 * "cannot <action> <host>:<port>: <why the last address failed>". */
int net_address_open(const char *host, int port, int flags, const char *action, net_address_try_fn attempt, void *data,
                     char *err, size_t errlen);

#endif
