/* A blocking updater link for the command line: connect with a deadline,
 * handshake, then one sealed message at a time. Reads go through the same
 * frame reader as the daemon's, so both agree byte for byte. */
#include "cli_link.h"

#include "cli.h"
#include "net_address.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Waits for events on fd until deadline; 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - cli_now_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {.fd = fd, .events = events};
        int rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

/* data: the deadline of the whole connect, shared by every address tried. */
static int connect_one(const struct addrinfo *ai, void *data)
{
    long long deadline = *(const long long *)data;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 1) {
        int error = 0;
        socklen_t len = sizeof error;
        rc = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0 ? 0 : -1;
        errno = error ? error : ETIMEDOUT;
    } else if (rc < 0 && errno == EINPROGRESS) {
        errno = ETIMEDOUT;
    }
    if (rc < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static int write_all(int fd, const unsigned char *data, size_t len)
{
    while (len > 0) {
        if (wait_fd(fd, POLLOUT, cli_now_ms() + 30000) != 1)
            return -1;
        ssize_t n = write(fd, data, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int send_frame(cli_link *link, const unsigned char *frame, size_t len)
{
    int rc = write_all(link->fd, frame, len);
    if (rc == 0)
        link->last_sent_ms = cli_now_ms();
    return rc;
}

static int send_ping(cli_link *link)
{
    static const char ping[] = "{\"type\":\"ping\"}";
    size_t len = 0;
    unsigned char *frame = protocol_seal(&link->session, ping, sizeof ping - 1, &len);
    int rc = frame ? send_frame(link, frame, len) : -1;
    free(frame);
    return rc;
}

/* The next frame's body as a NUL-terminated copy, or NULL with err. Once
 * authenticated, a heartbeat goes out whenever nothing was sent for
 * heartbeat_ms (whatever arrives meanwhile), so that the master does not take
 * a client waiting for a long update for a dead one. */
static char *read_frame(cli_link *link, long long deadline, size_t *len, char *err, size_t errlen)
{
    for (;;) {
        const unsigned char *body;
        int rc = protocol_reader_next(&link->reader, &body, len);
        if (rc < 0) {
            snprintf(err, errlen, "the master updater sent a frame too large");
            return NULL;
        }
        if (rc == 1) {
            char *copy = malloc(*len + 1);
            if (copy) {
                memcpy(copy, body, *len);
                copy[*len] = '\0';
            }
            return copy;
        }
        long long wake = deadline;
        if (link->authenticated) {
            if (cli_now_ms() >= link->last_sent_ms + link->heartbeat_ms && send_ping(link) < 0) {
                snprintf(err, errlen, "lost the connection to the master updater");
                return NULL;
            }
            long long beat = link->last_sent_ms + link->heartbeat_ms;
            if (beat < deadline)
                wake = beat;
        }
        int ready = wait_fd(link->fd, POLLIN, wake);
        if (ready == 0 && wake < deadline)
            continue; /* time for a heartbeat */
        char chunk[16384];
        ssize_t n = ready == 1 ? read(link->fd, chunk, sizeof chunk) : -1;
        if (n < 0 && ready == 1 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0 || protocol_reader_feed(&link->reader, chunk, (size_t)n) < 0) {
            snprintf(err, errlen, "%s",
                     ready == 0 ? "no answer from the master updater in time"
                     : n == 0   ? "the master updater closed the connection"
                                : "lost the connection to the master updater");
            return NULL;
        }
    }
}

static int send_plain(cli_link *link, char *text)
{
    size_t len = 0;
    unsigned char *frame = text ? protocol_frame(text, strlen(text), &len) : NULL;
    free(text);
    int rc = frame ? send_frame(link, frame, len) : -1;
    free(frame);
    return rc;
}

static int handshake(cli_link *link, const char *secret, long long deadline, char *err, size_t errlen)
{
    size_t len;
    char *challenge = read_frame(link, deadline, &len, err, errlen);
    if (!challenge)
        return -1;
    char instance[PROTOCOL_MAX_NAME + 1];
    cli_instance_name(instance, sizeof instance);
    char *hello = protocol_hello(&link->handshake, secret, challenge, "client", instance, err, errlen);
    free(challenge);
    if (!hello)
        return -1;
    if (send_plain(link, hello) < 0) {
        snprintf(err, errlen, "cannot send to the master updater");
        return -1;
    }
    char *welcome = read_frame(link, deadline, &len, err, errlen);
    int rc = welcome ? protocol_check_welcome(&link->handshake, secret, welcome, err, errlen) : -1;
    free(welcome);
    if (rc == 0 && protocol_session_init(&link->session, &link->handshake, secret, false) < 0) {
        snprintf(err, errlen, "cannot derive the session keys");
        rc = -1;
    }
    link->authenticated = rc == 0;
    return rc;
}

int cli_link_open(cli_link *link, const char *host, int port, const char *secret, long long heartbeat_ms,
                  int timeout_ms, char *err, size_t errlen)
{
    memset(link, 0, sizeof *link);
    link->fd = -1;
    link->heartbeat_ms = heartbeat_ms;
    protocol_reader_init(&link->reader, PROTOCOL_MAX_FRAME);
    long long deadline = cli_now_ms() + timeout_ms;
    link->fd = net_address_open(host, port, 0, "connect to the master updater at", connect_one, &deadline, err, errlen);
    if (link->fd < 0 || handshake(link, secret, deadline, err, errlen) < 0) {
        cli_link_close(link);
        return -1;
    }
    return 0;
}

int cli_link_send(cli_link *link, json_t *message, char *err, size_t errlen)
{
    char *text = json_dumps(message, JSON_COMPACT);
    size_t len = 0;
    unsigned char *frame = text ? protocol_seal(&link->session, text, strlen(text), &len) : NULL;
    free(text);
    int rc = frame ? send_frame(link, frame, len) : -1;
    free(frame);
    if (rc < 0)
        snprintf(err, errlen, "cannot send to the master updater");
    return rc;
}

json_t *cli_link_receive(cli_link *link, int timeout_ms, char *err, size_t errlen)
{
    long long deadline = cli_now_ms() + timeout_ms;
    for (;;) {
        size_t len;
        char *body = read_frame(link, deadline, &len, err, errlen);
        if (!body)
            return NULL;
        const char *json;
        size_t json_len;
        json_t *message = protocol_open(&link->session, (unsigned char *)body, len, &json, &json_len) == 0
                              ? json_loadb(json, json_len, 0, NULL)
                              : NULL;
        free(body);
        const char *type = json_string_value(json_object_get(message, "type"));
        if (!type) {
            snprintf(err, errlen, "a message from the master updater failed its check");
            json_decref(message);
            return NULL;
        }
        if (strcmp(type, "ping") != 0)
            return message;
        json_decref(message);
    }
}

void cli_link_close(cli_link *link)
{
    if (link->fd >= 0)
        close(link->fd);
    link->fd = -1;
    protocol_reader_free(&link->reader);
    protocol_session_clear(&link->session);
}
