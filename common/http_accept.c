/* http_accept: the server's own accept loop on its listening socket. One
 * connection per readiness event, so that workers sharing the socket take
 * turns instead of one draining a burst (libuv's listener accepts until the
 * backlog is empty); and descriptor exhaustion answered with the classic
 * reserve descriptor: 503 to each waiting client, one log line per burst. */
#include "http_server_internal.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    ACCEPT_BACKLOG = 511,
    ACCEPT_PAUSE_MS = 100, /* out of descriptors with no reserve: look again after */
};

#define BUSY_BODY                                                                            \
    "{\"statusCode\":503,\"message\":\"the server is out of descriptors; retry after 1 s\"," \
    "\"error\":\"Service Unavailable\"}"
_Static_assert(sizeof BUSY_BODY - 1 == 110, "Content-Length below must match the body");
static const char busy_answer[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                  "Retry-After: 1\r\n"
                                  "Connection: close\r\n"
                                  "Content-Type: " HTTP_ERROR_CONTENT_TYPE "\r\n"
                                  "Content-Length: 110\r\n"
                                  "\r\n" BUSY_BODY;

static void on_readable(uv_poll_t *poll, int status, int events);

static int reserve_open(void)
{
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static int listener_fd(const http_server *s)
{
    uv_os_fd_t fd = -1;
    return uv_fileno((const uv_handle_t *)&s->listener, &fd) == 0 ? fd : -1;
}

/* Resumes watching the socket after a pause without a reserve. */
static void on_pause_over(uv_timer_t *timer)
{
    http_server *s = timer->data;
    if (s->reserve_fd < 0)
        s->reserve_fd = reserve_open();
    if (s->accepting)
        uv_poll_start(&s->accept_poll, UV_READABLE, on_readable);
}

/* The reserve makes room for one descriptor at a time: each waiting client
 * is told to come back, rather than left in the backlog until it gives up
 * while the listener, still readable, wakes the loop again and again. */
static void shed_waiting(http_server *s, int fd, int error)
{
    if (!s->shedding) {
        s->shedding = true;
        s->shed_count = 0;
        log_warn("http: out of descriptors (%s): new connections get 503 until some close", strerror(error));
    }
    if (s->reserve_fd < 0) {
        /* Nothing to make room with: look again later, not at once. */
        uv_poll_stop(&s->accept_poll);
        uv_timer_start(&s->accept_pause, on_pause_over, ACCEPT_PAUSE_MS, 0);
        return;
    }
    close(s->reserve_fd);
    s->reserve_fd = -1;
    int client;
    while ((client = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        (void)send(client, busy_answer, sizeof busy_answer - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        /* A request already received and left unread would turn the close
         * into a reset, which may destroy the answer before it is read. */
        char discard[1024];
        (void)recv(client, discard, sizeof discard, MSG_DONTWAIT);
        close(client);
        s->shed_count++;
    }
    s->reserve_fd = reserve_open();
}

static void note_accepting_again(http_server *s)
{
    if (!s->shedding)
        return;
    s->shedding = false;
    log_info("http: accepting again; %llu connections were refused for want of descriptors",
             (unsigned long long)s->shed_count);
}

static void on_readable(uv_poll_t *poll, int status, int events)
{
    (void)events;
    http_server *s = poll->data;
    if (status < 0) {
        log_warn("http: listener error: %s", uv_strerror(status));
        return;
    }
    int fd = listener_fd(s);
    int client = fd < 0 ? -1 : accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client >= 0) {
        note_accepting_again(s);
        http_connection_adopt(s, client);
    } else if (errno == EMFILE || errno == ENFILE) {
        shed_waiting(s, fd, errno);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
        log_warn("http: accept failed: %s", strerror(errno));
    }
}

void http_accept_init(http_server *s)
{
    uv_timer_init(s->loop, &s->accept_pause); /* cannot fail for a valid loop */
    s->accept_pause.data = s;
    s->accept_poll.data = s;
    s->reserve_fd = reserve_open();
}

int http_accept_start(http_server *s)
{
    int fd = listener_fd(s);
    if (fd < 0)
        return UV_EBADF;
    if (listen(fd, ACCEPT_BACKLOG) != 0)
        return -errno;
    int rc = uv_poll_init_socket(s->loop, &s->accept_poll, fd);
    if (rc != 0)
        return rc;
    s->accept_poll_open = true;
    s->accepting = true;
    s->accept_poll.data = s;
    return uv_poll_start(&s->accept_poll, UV_READABLE, on_readable);
}

/* Stops accepting; the poll handle is closed before the listener itself,
 * so that it never watches a descriptor already gone. */
void http_accept_stop(http_server *s, uv_close_cb closed)
{
    s->accepting = false;
    uv_timer_stop(&s->accept_pause);
    if (s->accept_poll_open && !uv_is_closing((uv_handle_t *)&s->accept_poll))
        uv_close((uv_handle_t *)&s->accept_poll, closed);
}

void http_accept_close(http_server *s, uv_close_cb closed)
{
    http_accept_stop(s, closed);
    uv_close((uv_handle_t *)&s->accept_pause, closed);
    if (s->reserve_fd >= 0)
        close(s->reserve_fd);
    s->reserve_fd = -1;
}
