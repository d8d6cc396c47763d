/* Loopback sockets for the unit tests: a port nobody listens on (connection
 * refused), one that listens and never answers (a silent vendor), and the
 * header lookup that the test servers and the blocking client share. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* A socket bound to a free loopback port, listening or not; -1 on failure. */
static int loopback_bound(bool listening, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || getsockname(fd, (struct sockaddr *)&addr, &len) != 0 ||
        (listening && listen(fd, 16) != 0)) {
        close(fd);
        return -1;
    }
    *port = ntohs(addr.sin_port);
    return fd;
}

int harness_free_port(void)
{
    int port = -1;
    int fd = loopback_bound(false, &port);
    if (fd < 0)
        return -1;
    close(fd);
    return port;
}

int harness_silent_listener(int *port)
{
    return loopback_bound(true, port);
}

const char *harness_header_value(const char *head, const char *name, char *out, size_t cap)
{
    size_t name_len = strlen(name);
    out[0] = '\0';
    /* From the end of the start line, one header line at a time. */
    for (const char *line = strstr(head, "\r\n"); line && line[2] != '\0' && line[2] != '\r';
         line = strstr(line + 2, "\r\n")) {
        const char *start = line + 2;
        if (strncasecmp(start, name, name_len) != 0 || start[name_len] != ':')
            continue;
        const char *value = start + name_len + 1;
        while (*value == ' ')
            value++;
        size_t len = strcspn(value, "\r");
        if (len >= cap)
            len = cap - 1;
        memcpy(out, value, len);
        out[len] = '\0';
        return out;
    }
    return NULL;
}
