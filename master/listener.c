/* The listening sockets, the API's and the operators': bound once by the
 * master and inherited by every worker, so replacing workers never closes
 * a port. */
#include "master.h"

#include "net_address.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int bind_address(const struct addrinfo *ai, void *data)
{
    (void)data;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
        listen(fd, 4096) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int listener_open(const char *host, int port, char *err, size_t errlen)
{
    return net_address_open(host, port, AI_PASSIVE, "listen on", bind_address, NULL, err, errlen);
}

int listener_port(int fd)
{
    struct sockaddr_storage address;
    socklen_t len = sizeof address;
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&address, &len) < 0)
        return -1;
    if (address.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
    return address.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&address)->sin_port) : -1;
}

void listener_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}
