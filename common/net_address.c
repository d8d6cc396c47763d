/* Resolving once and trying every address in the order getaddrinfo gives
 * them, so that a name with both an IPv6 and an IPv4 address works wherever
 * one of them does. */
#include "net_address.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int net_address_open(const char *host, int port, int flags, const char *action, net_address_try_fn attempt, void *data,
                     char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = flags};
    struct addrinfo *list;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *address = list; address && fd < 0; address = address->ai_next)
        fd = attempt(address, data);
    if (fd < 0)
        snprintf(err, errlen, "cannot %s %s:%d: %s", action, host, port, strerror(errno));
    freeaddrinfo(list);
    return fd;
}
