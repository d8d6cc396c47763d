/* What the HTTP server's files share and nobody else sees: the server, its
 * connections and their exchanges, and the few calls that cross between the
 * server, connection, request parser, exchange and response files. */
#ifndef PAYMENTS_HTTP_SERVER_INTERNAL_H
#define PAYMENTS_HTTP_SERVER_INTERNAL_H

#include "byte_buffer.h"
#include "http_server.h"
#include "request_id.h"

#include <arpa/inet.h>
#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <uv.h>

typedef struct http_connection http_connection;

struct http_exchange {
    http_request request;
    http_connection *connection;              /* NULL once the client is gone */
    http_server *server;                      /* NULL once the server is freed */
    http_exchange *orphan_prev, *orphan_next; /* in server->orphans while detached */
    bool pending;                             /* with the handler, unanswered */
    bool aborted;
    bool head;
    bool keep_alive;
    void *data;
    int route;          /* the router's choice, for the observer; -1: none */
    uint64_t handed_ns; /* uv_hrtime when handed to the handler */
    byte_buffer text;   /* target, path, header names and values, each NUL-terminated */
    byte_buffer body;
    byte_buffer response_headers; /* "Name: value\r\n" lines added by the handler */
    size_t path_offset;
    size_t query_offset; /* 0: no query (offset 0 is the target itself) */
    size_t name_offsets[HTTP_MAX_HEADERS];
    size_t value_offsets[HTTP_MAX_HEADERS];
    char remote_address[INET6_ADDRSTRLEN];
    request_id id;       /* chosen when the request goes to the handler */
    uint64_t started_ms; /* loop time then, for the access line */
};

typedef enum connection_state {
    CONNECTION_IDLE,     /* no request in progress: idle (or drain grace) timer */
    CONNECTION_READING,  /* a request is arriving: header timer */
    CONNECTION_HANDLING, /* the exchange is with the handler: no timer */
    CONNECTION_CLOSING,  /* last answer queued: shutdown, linger, close */
} connection_state;

typedef struct write_buffer {
    uv_write_t req;
    http_connection *connection;
    size_t cap;
    char data[];
} write_buffer;

struct http_connection {
    uv_tcp_t tcp;
    uv_timer_t timer; /* due at timer_due (loop time); deadline may be later */
    uint64_t deadline;
    uint64_t timer_due;
    uv_shutdown_t shutdown;
    http_server *server;
    http_connection *prev, *next;
    llhttp_t parser;
    connection_state state;
    int handles_open;
    int writes_pending;
    int error_status; /* set by a parser callback that rejects the request */
    bool reading;
    bool parsing;     /* inside connection_parse: answers must not re-enter it */
    bool closed;      /* uv_close called */
    bool peer_closed; /* EOF seen */
    bool headers_done;
    bool keep_alive;
    bool in_field;         /* a header name is being received */
    bool value_pending;    /* a header value is being received */
    size_t head_bytes;     /* request line and header bytes before head_mark */
    const char *head_mark; /* where counting resumes in the chunk being parsed */
    char *input;
    size_t input_off, input_len, input_cap;
    http_exchange *exchange;
    write_buffer *spare;
    char remote_address[INET6_ADDRSTRLEN];
};

struct http_server {
    uv_loop_t *loop;
    http_limits limits;
    http_handler_fn handler;
    void *context;
    llhttp_settings_t settings;
    uv_tcp_t listener;     /* owns the listening socket; http_accept.c accepts on it */
    bool listener_open;    /* initialised, close callback not yet run */
    bool listener_closing; /* uv_close called */
    uv_poll_t accept_poll; /* the listening socket's readiness */
    bool accept_poll_open;
    bool accepting;
    uv_timer_t accept_pause; /* out of descriptors without a reserve: the wait */
    bool accept_pause_open;
    int reserve_fd; /* closed to make room when out of descriptors; -1: none */
    bool shedding;  /* in a burst of refusals for want of descriptors */
    uint64_t shed_count;
    uv_timer_t drain_timer;
    bool drain_timer_open;
    bool draining;
    bool drain_done_called;
    bool drain_expired;      /* drain_timeout_ms passed: exchanges are no longer waited for */
    uint64_t drain_deadline; /* loop time */
    bool closing;
    bool log_requests; /* an access line per answer */
    void (*drain_done)(http_server *s, void *data);
    void *drain_data;
    void (*close_done)(void *data);
    void *close_data;
    http_connection *connections;
    http_exchange *orphans;
    http_server_stats stats;
    http_observer_fn observer; /* NULL: nobody watches the answers */
    void *observer_data;
    time_t date_second;
    char date[40];
    size_t date_len;
};

/* HTTP_BUFFERS_KEPT_UP_TO (http_server.h) is passed. */
static inline bool http_server_holds_many(const http_server *s)
{
    return s->stats.active_connections > HTTP_BUFFERS_KEPT_UP_TO;
}

/* http_server.c: called whenever a connection or server handle is gone. */
void http_server_check_drained(http_server *s);
void http_server_check_freed(http_server *s);
/* An orphaned exchange was answered: it may have been the last one a drain
 * waits for. */
void http_server_exchange_answered(http_server *s);

/* http_accept.c: init once with the server; start on a bound socket;
 * stop (closing the poll) before the listener closes; close with the server.
 * closed runs for each handle closed. */
void http_accept_init(http_server *s);
int http_accept_start(http_server *s);
void http_accept_stop(http_server *s, uv_close_cb closed);
void http_accept_close(http_server *s, uv_close_cb closed);

/* http_connection.c: takes an accepted, non-blocking socket (closed on failure). */
void http_connection_adopt(http_server *s, int fd);
void http_connection_arm_timer(http_connection *conn, uint64_t ms);
void http_connection_close(http_connection *conn);
/* Feeds bytes to the connection as if read from its socket (the fuzz target
 * of the request parser); stops when the connection stops reading. */
void http_connection_receive(http_connection *conn, const char *data, size_t len);
/* The handler's answer was queued (rc 0) or could not be (rc < 0). */
void http_connection_after_answer(http_connection *conn, int rc, bool keep_alive);

/* http_request_parser.c */
void http_request_parser_settings_init(llhttp_settings_t *settings);
/* Returns 0, or 431 when the incomplete head has grown past the limit. */
int http_request_parser_count_head_bytes(http_connection *conn, const char *end);

/* http_exchange.c */
http_exchange *http_exchange_create(http_connection *conn);
void http_exchange_free(http_exchange *ex);
void http_exchange_begin(http_exchange *ex);
void http_exchange_after_answer(http_exchange *ex);
void http_exchange_orphan(http_exchange *ex);
void http_exchange_unlink_orphan(http_exchange *ex);

/* http_response.c: both return 0 or a negative libuv error. */
int http_response_write_continue(http_connection *conn);
/* Counts and queues an error answer with Connection: close. */
int http_response_write_error(http_connection *conn, int status, const char *message);
/* Queues a 503 with Retry-After and Connection: close, for a connection the
 * server has no room for. */
int http_response_write_busy(http_connection *conn);

#endif
