/* Outgoing HTTP on libcurl's multi interface, driven by the loop's sockets
 * (uv_poll) and one timer: nothing blocks. Each request has a timeout and one
 * completion callback that always runs, exactly once. Connections to the
 * same host are reused. */
#ifndef PAYMENTS_HTTP_CLIENT_H
#define PAYMENTS_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

typedef struct http_client http_client;

/* Asked about each address a request is about to connect to, once the name
 * is resolved and before any byte is sent: false refuses that address (the
 * next address of the name, if any, is asked in turn). Because it judges the
 * resolved address, a name cannot be made to point elsewhere between a check
 * and the connection. A connection kept alive from an earlier request to the
 * same host and port is reused without asking: give requests that need
 * different filters different clients. */
typedef bool (*http_client_address_filter)(const struct sockaddr *address, void *data);

typedef struct http_client_request {
    const char *method; /* "GET", "POST", ... */
    const char *url;
    const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
    const char *body;           /* may be NULL */
    size_t body_len;
    long timeout_ms;                           /* whole transfer; 0 means 10 s; negative is refused */
    http_client_address_filter address_filter; /* NULL: every address */
    void *address_filter_data;                 /* must outlive the request's callback */
} http_client_request;

typedef struct http_client_response {
    long status; /* HTTP status, 0 when no answer came */
    char *body;  /* NUL-terminated, never NULL ("" with an error); owned by the
                  * client, valid during the callback; at most 8 MiB, more is an error */
    size_t body_len;
    bool timed_out;
    bool address_refused; /* no answer because the address filter refused the address(es) */
    const char *error;    /* NULL on an answer; else why there was none (refused, timeout, ...) */
} http_client_response;

typedef void (*http_client_cb)(const http_client_response *res, void *data);

http_client *http_client_create(uv_loop_t *loop);
/* Copies what it needs from req. Returns 0, or -1 (then cb is not called). */
int http_client_send(http_client *c, const http_client_request *req, http_client_cb cb, void *data);
/* Transfers in flight complete with the error "client closed"; then handles
 * close and done runs (always later, from the loop). Call it once; it may be
 * called from a completion callback. Later sends are refused. */
void http_client_close(http_client *c, void (*done)(void *data), void *data);
/* Transfers not yet completed. */
size_t http_client_pending(const http_client *c);

#endif
