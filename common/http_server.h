/* HTTP/1.1 server on one libuv loop, parsed by llhttp: keep-alive, pipelining
 * (answered in order: a connection parses its next request only after the
 * current one is answered), Content-Length and chunked bodies, HEAD, limits,
 * timeouts and graceful drain. The server knows nothing of routes: it hands
 * each complete request to one handler as an exchange, and the handler answers
 * it exactly once, now or later (after a database or vendor call). */
#ifndef PAYMENTS_HTTP_SERVER_H
#define PAYMENTS_HTTP_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HTTP_MAX_HEADERS 64

typedef struct http_header {
    char *name;  /* NUL-terminated, as received */
    char *value; /* NUL-terminated, surrounding blanks removed */
} http_header;

typedef struct http_request {
    int method;              /* llhttp_method_t: HTTP_GET, HTTP_POST, ... */
    const char *method_name; /* "GET" */
    char *target;            /* request target as received: "/a/b?x=1" */
    char *path;              /* target up to '?', not decoded */
    char *query;             /* after '?', or NULL */
    http_header headers[HTTP_MAX_HEADERS];
    size_t header_count;
    char *body; /* NUL-terminated for convenience; body_len excludes it */
    size_t body_len;
    const char *remote_address; /* "127.0.0.1" */
} http_request;

/* Case-insensitive; NULL when absent. */
const char *http_request_header(const http_request *req, const char *name);

typedef struct http_limits {
    size_t max_header_bytes;    /* request line + headers: 431 past it */
    size_t max_body_bytes;      /* 413 past it */
    uint64_t header_timeout_ms; /* whole request must arrive within: 408 */
    uint64_t idle_timeout_ms;   /* keep-alive connection with no request */
    uint64_t drain_timeout_ms;  /* drain gives up waiting after this */
    unsigned max_connections;   /* past it a new connection gets 503 and is closed; 0: no limit */
} http_limits;

typedef struct http_exchange http_exchange;
typedef struct http_server http_server;

/* Called once per complete request. The handler must eventually call
 * http_respond (or a wrapper) exactly once for ex. */
typedef void (*http_handler_fn)(http_exchange *ex, void *context);

http_server *http_server_create(uv_loop_t *loop, const http_limits *limits, http_handler_fn handler, void *context);
/* Starts accepting on an already bound and listening socket (inherited). */
int http_server_listen_fd(http_server *s, int fd);
/* Binds host:port (port 0: any free port) and starts accepting. Returns 0 or
 * a negative libuv error. */
int http_server_listen(http_server *s, const char *host, int port);
/* The bound port, or -1. */
int http_server_port(const http_server *s);

/* One log line per answered request (method, path without its query,
 * status, milliseconds, request id); off by default. */
void http_server_log_requests(http_server *s, bool on);

/* Drain: stop accepting; busy connections get Connection: close on their
 * current response; idle keep-alive connections are closed after a short grace
 * unless a request arrives first. done runs once, when no connection remains
 * and every exchange is answered, even one whose client left, or when
 * drain_timeout_ms passes (remaining connections are then closed, and
 * exchanges still with the handler are no longer waited for). */
void http_server_drain(http_server *s, void (*done)(http_server *s, void *data), void *data);
bool http_server_draining(const http_server *s);
/* Closes every handle and frees the server; done runs when all are closed.
 * Pending exchanges stay valid until their handler answers them. */
void http_server_close(http_server *s, void (*done)(void *data), void *data);

/* Past this many open connections, a connection keeps no buffers while it
 * is idle: its read buffer and its spare write buffer (16 KiB each) are
 * freed after each answer, and so is its exchange when the answer was given
 * in the read that brought the request; its next request allocates them
 * again. Below it, a busy keep-alive connection reuses them without a
 * malloc; above it, thousands of idle connections cost their structures
 * only, the buffers going round among the connections that are talking
 * (which then pay a malloc per request). The connections answered while
 * the server held fewer keep theirs until they talk again. */
#define HTTP_BUFFERS_KEPT_UP_TO 256

typedef struct http_server_stats {
    uint64_t requests;    /* answered since start */
    uint64_t connections; /* accepted since start */
    uint32_t active_connections;
    uint32_t pending_exchanges; /* handed to the handler, not yet answered */
} http_server_stats;
void http_server_get_stats(const http_server *s, http_server_stats *out);

/* Told of every answer a handler gives (not of the parser's own 400, 408,
 * 413 or 431): the index of the route the router chose in its table (-1:
 * none), the status, and the microseconds since the request was handed to
 * the handler. Runs on the loop inside http_respond; must be quick. */
typedef void (*http_observer_fn)(void *data, int route, int status, uint64_t elapsed_us);
void http_server_observe(http_server *s, http_observer_fn observer, void *data);
/* The router says which route took the exchange, for the observer. */
void http_exchange_set_route(http_exchange *ex, int route);

const http_request *http_exchange_request(const http_exchange *ex);
/* The request's id: the client's X-Request-Id when sane (request_id.h),
 * else a new one; every answer carries it in X-Request-Id. */
const char *http_exchange_request_id(const http_exchange *ex);
/* True when the client went away; the answer will be discarded. */
bool http_exchange_aborted(const http_exchange *ex);
/* A free slot for the handler's own state. */
void http_exchange_set_data(http_exchange *ex, void *data);
void *http_exchange_data(const http_exchange *ex);

/* Adds a response header; call before http_respond. name/value are copied. */
int http_exchange_add_header(http_exchange *ex, const char *name, const char *value);
/* Answers: status line, Date, Content-Length, Content-Type (when given), added
 * headers, Connection, then the body (omitted for HEAD). The body is copied.
 * ex is invalid afterwards. */
void http_respond(http_exchange *ex, int status, const char *content_type, const void *body, size_t len);
/* {"statusCode":N,"message":"...","error":"Reason"}, plain JSON. */
void http_respond_error(http_exchange *ex, int status, const char *message);
/* That answer's body, for a caller that keeps it before sending it (free()
 * it), with this content type; NULL when memory runs out. */
#define HTTP_ERROR_CONTENT_TYPE "application/json; charset=utf-8"
char *http_error_body(int status, const char *message);
/* That answer as a JSON object to add members to (print it with
 * JSON_PRESERVE_ORDER), or NULL when memory runs out. */
json_t *http_error_document(int status, const char *message);

#endif
