/* A blocking HTTP/1.1 client for tests that drive a server byte by byte:
 * raw requests go out as written, and responses are read with a receive
 * timeout, so that a server that never answers fails a check, not the run. */
#include "harness.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

bool harness_client_open(harness_client *c, int port)
{
    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return false;
    struct timeval timeout = {.tv_sec = 5};
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
        connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        harness_client_close(c);
        return false;
    }
    return true;
}

void harness_client_close(harness_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static bool send_bytes(harness_client *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

bool harness_client_send(harness_client *c, const char *text)
{
    return send_bytes(c, text, strlen(text));
}

ssize_t harness_client_fill(harness_client *c)
{
    if (c->len == sizeof c->buf)
        return -1;
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

void harness_client_consume(harness_client *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

bool harness_client_read_head(harness_client *c, harness_response *r, size_t *head_len)
{
    char *end;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        if (harness_client_fill(c) <= 0)
            return false;
    *head_len = (size_t)(end - c->buf) + 4;
    if (*head_len >= sizeof r->head)
        return false;
    memcpy(r->head, c->buf, *head_len);
    r->head[*head_len] = '\0';
    return sscanf(r->head, "HTTP/1.1 %d ", &r->status) == 1;
}

bool harness_client_read_response(harness_client *c, harness_response *r, bool head_request)
{
    memset(r, 0, sizeof *r);
    size_t head_len;
    if (!harness_client_read_head(c, r, &head_len))
        return false;
    char value[64];
    size_t length = harness_response_header(r, "Content-Length", value, sizeof value) ? strtoul(value, NULL, 10) : 0;
    if (head_request || r->status == 100)
        length = 0;
    if (length >= sizeof r->body)
        return false;
    while (c->len < head_len + length)
        if (harness_client_fill(c) <= 0)
            return false;
    memcpy(r->body, c->buf + head_len, length);
    r->body[length] = '\0';
    r->body_len = length;
    harness_client_consume(c, head_len + length);
    return true;
}

bool harness_client_sees_eof(harness_client *c)
{
    if (c->len > 0)
        return false;
    ssize_t n = harness_client_fill(c);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

const char *harness_response_header(const harness_response *r, const char *name, char *out, size_t cap)
{
    return harness_header_value(r->head, name, out, cap);
}
