/* HTTP client: libcurl's multi interface on the worker's loop. curl says which
 * sockets to watch (one uv_poll each) and when to wake it (one uv_timer); we
 * tell curl what happened, and finished transfers leave through
 * curl_multi_info_read into their one callback. */
#include "http_client.h"

#include "log.h"
#include "request_id.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_CLIENT_DEFAULT_TIMEOUT_MS 10000L
#define HTTP_CLIENT_MAX_BODY ((size_t)8 * 1024 * 1024)
#define HTTP_CLIENT_IDLE_CONNECTIONS 256 /* kept for reuse, across every host */

typedef struct http_transfer http_transfer;
typedef struct http_socket_watch http_socket_watch;

/* One request from send to its callback. Owned by the client's list. */
struct http_transfer {
    http_client *client;
    CURL *easy;
    struct curl_slist *headers;
    http_client_cb cb;
    void *data;
    request_id caller; /* the ambient request id at send, again at the callback */
    char *body;
    size_t body_len, body_cap;
    bool body_too_large;
    http_client_address_filter address_filter;
    void *address_filter_data;
    char refused[INET6_ADDRSTRLEN + 64]; /* why the filter refused, "" when it did not */
    char no_body[1];                     /* what res.body points at when nothing came */
    http_transfer *prev, *next;
};

/* One socket curl asked us to watch; freed by its close callback. */
struct http_socket_watch {
    uv_poll_t poll;
    curl_socket_t fd;
    http_client *client;
    http_socket_watch *prev, *next;
};

struct http_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    http_transfer *transfers;
    size_t pending;
    http_socket_watch *watches;
    size_t open_handles; /* timer + polls whose close callback has not run */
    unsigned busy;       /* depth of loop callbacks inside curl; close waits for 0 */
    bool closing, torn_down;
    void (*done)(void *data);
    void *done_data;
};

static void client_teardown(http_client *c);

/* libcurl wants one global initialisation before any handle exists. */
static int http_client_global_init(void)
{
    static bool initialized;
    if (initialized)
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    initialized = true;
    return 0;
}

/* ---- handle bookkeeping ------------------------------------------------ */

static void client_handle_closed(http_client *c)
{
    if (--c->open_handles > 0 || !c->torn_down)
        return;
    void (*done)(void *) = c->done;
    void *done_data = c->done_data;
    free(c);
    if (done)
        done(done_data);
}

static void on_timer_closed(uv_handle_t *handle)
{
    client_handle_closed(handle->data);
}

static void on_watch_closed(uv_handle_t *handle)
{
    http_socket_watch *w = handle->data;
    http_client *c = w->client;
    free(w);
    client_handle_closed(c);
}

static void socket_watch_close(http_socket_watch *w)
{
    http_client *c = w->client;
    if (w->prev)
        w->prev->next = w->next;
    else
        c->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    uv_close((uv_handle_t *)&w->poll, on_watch_closed);
}

static void transfer_link(http_client *c, http_transfer *t)
{
    t->next = c->transfers;
    if (t->next)
        t->next->prev = t;
    c->transfers = t;
    c->pending++;
}

static void transfer_unlink(http_client *c, http_transfer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        c->transfers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
    c->pending--;
}

static void transfer_free(http_transfer *t)
{
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    free(t->body);
    free(t);
}

/* ---- completion ---------------------------------------------------------- */

/* Takes t out of the multi handle, runs its callback once, frees it. A
 * non-NULL reason overrides what curl reported. */
static void transfer_finish(http_transfer *t, CURLcode result, const char *reason)
{
    http_client *c = t->client;
    transfer_unlink(c, t);
    CURLMcode removed = curl_multi_remove_handle(c->multi, t->easy);
    if (removed != CURLM_OK)
        log_warn("http client: curl_multi_remove_handle: %s", curl_multi_strerror(removed));

    http_client_response res = {.error = reason};
    /* Once the filter refused an address, a failed transfer failed because
     * of it: say so rather than curl's "could not connect". */
    if (!res.error && result != CURLE_OK && t->refused[0]) {
        res.error = t->refused;
        res.address_refused = true;
    }
    if (!res.error && result == CURLE_OK) {
        if (curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &res.status) != CURLE_OK || res.status == 0)
            res.error = "no HTTP status in the response";
    } else if (!res.error) {
        res.timed_out = result == CURLE_OPERATION_TIMEDOUT;
        res.error = t->body_too_large ? "response body too large" : curl_easy_strerror(result);
    }
    if (res.error) {
        res.status = 0;
        res.body = t->no_body;
    } else {
        res.body = t->body ? t->body : t->no_body;
        res.body_len = t->body_len;
    }
    request_id saved;
    request_id_enter(&t->caller, &saved);
    t->cb(&res, t->data);
    request_id_restore(&saved);
    transfer_free(t);
}

static void client_collect_completed(http_client *c)
{
    CURLMsg *msg;
    int queued;
    /* A callback may close the client: the rest then finish as "client closed". */
    while (!c->closing && (msg = curl_multi_info_read(c->multi, &queued))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURLcode result = msg->data.result;
        char *private_data = NULL;
        if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &private_data) != CURLE_OK || !private_data) {
            log_error("http client: finished transfer without its record");
            continue;
        }
        transfer_finish((http_transfer *)private_data, result, NULL);
    }
}

/* Every entry from the loop into curl goes through here, so that a close
 * requested inside a callback runs only once curl has returned. */
static void client_drive(http_client *c, curl_socket_t fd, int flags)
{
    int running = 0;
    c->busy++;
    CURLMcode rc = curl_multi_socket_action(c->multi, fd, flags, &running);
    if (rc != CURLM_OK)
        log_warn("http client: curl_multi_socket_action: %s", curl_multi_strerror(rc));
    client_collect_completed(c);
    if (--c->busy == 0 && c->closing && !c->torn_down)
        client_teardown(c);
}

/* ---- curl's socket and timer callbacks ----------------------------------- */

static void on_socket_event(uv_poll_t *poll, int status, int events)
{
    http_socket_watch *w = poll->data;
    int flags = 0;
    if (status < 0) {
        flags = CURL_CSELECT_ERR;
    } else {
        if (events & (UV_READABLE | UV_DISCONNECT))
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    client_drive(w->client, w->fd, flags);
}

static void on_timer(uv_timer_t *timer)
{
    client_drive(timer->data, CURL_SOCKET_TIMEOUT, 0);
}

static http_socket_watch *socket_watch_open(http_client *c, curl_socket_t fd)
{
    http_socket_watch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    int rc = uv_poll_init_socket(c->loop, &w->poll, fd);
    if (rc != 0) {
        log_error("http client: uv_poll_init_socket: %s", uv_strerror(rc));
        free(w);
        return NULL;
    }
    w->poll.data = w;
    w->fd = fd;
    w->client = c;
    w->next = c->watches;
    if (w->next)
        w->next->prev = w;
    c->watches = w;
    c->open_handles++;
    if (curl_multi_assign(c->multi, fd, w) != CURLM_OK) {
        socket_watch_close(w);
        return NULL;
    }
    return w;
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *client, void *socket_data)
{
    (void)easy;
    http_client *c = client;
    http_socket_watch *w = socket_data;
    if (what == CURL_POLL_REMOVE) {
        if (w) {
            curl_multi_assign(c->multi, fd, NULL);
            socket_watch_close(w);
        }
        return 0;
    }
    if (!w && !(w = socket_watch_open(c, fd)))
        return -1;
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    int rc = events ? uv_poll_start(&w->poll, events, on_socket_event) : uv_poll_stop(&w->poll);
    if (rc != 0) {
        log_error("http client: watching a socket: %s", uv_strerror(rc));
        return -1;
    }
    return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *client)
{
    (void)multi;
    http_client *c = client;
    int rc = timeout_ms < 0 ? uv_timer_stop(&c->timer) : uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
    return rc == 0 ? 0 : -1;
}

/* ---- requests ------------------------------------------------------------ */

static size_t on_body_data(char *data, size_t size, size_t count, void *transfer)
{
    http_transfer *t = transfer;
    size_t n = size * count;
    if (n > HTTP_CLIENT_MAX_BODY - t->body_len) {
        t->body_too_large = true;
        return 0; /* short count: curl fails the transfer */
    }
    if (t->body_len + n + 1 > t->body_cap) {
        size_t cap = t->body_cap ? t->body_cap : 4096;
        while (cap < t->body_len + n + 1)
            cap *= 2;
        char *grown = realloc(t->body, cap);
        if (!grown)
            return 0;
        t->body = grown;
        t->body_cap = cap;
    }
    memcpy(t->body + t->body_len, data, n);
    t->body_len += n;
    t->body[t->body_len] = '\0';
    return n;
}

/* A method is a plain token, so that nothing can be smuggled into the
 * request line. */
static bool method_is_valid(const char *method)
{
    if (!*method)
        return false;
    for (const char *p = method; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
            return false;
    return true;
}

static int transfer_set_method(CURL *easy, const http_client_request *req)
{
    const char *method = req->method;
    if (!method_is_valid(method) || (!req->body && req->body_len > 0))
        return -1;
    bool is_post = strcmp(method, "POST") == 0;
    if (!req->body && strcmp(method, "GET") == 0)
        return curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L) == CURLE_OK ? 0 : -1;
    if (!req->body && strcmp(method, "HEAD") == 0)
        return curl_easy_setopt(easy, CURLOPT_NOBODY, 1L) == CURLE_OK ? 0 : -1;
    if (req->body || is_post) {
        /* The size goes first so that the copy takes exactly body_len bytes. */
        if (curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len) != CURLE_OK ||
            curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "") != CURLE_OK)
            return -1;
    }
    if (!is_post && curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK)
        return -1;
    return 0;
}

static int transfer_set_headers(http_transfer *t, const http_client_request *req)
{
    bool has_expect = false;
    for (const char *const *h = req->headers; h && *h; h++) {
        if (strpbrk(*h, "\r\n"))
            return -1;
        has_expect |= strncasecmp(*h, "Expect:", 7) == 0;
        struct curl_slist *list = curl_slist_append(t->headers, *h);
        if (!list)
            return -1;
        t->headers = list;
    }
    /* Without this, curl waits up to a second for "100 Continue" before
     * sending a large body; vendors answer directly. */
    if (!has_expect) {
        struct curl_slist *list = curl_slist_append(t->headers, "Expect:");
        if (!list)
            return -1;
        t->headers = list;
    }
    return curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers) == CURLE_OK ? 0 : -1;
}

/* Why an address was refused, with the address, for the caller's log. */
static void transfer_note_refused(http_transfer *t, const struct sockaddr *address)
{
    char text[INET6_ADDRSTRLEN] = "an address of another family";
    if (address->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)address)->sin_addr, text, sizeof text);
    else if (address->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)address)->sin6_addr, text, sizeof text);
    snprintf(t->refused, sizeof t->refused, "refused to connect to %s: the address is not allowed", text);
}

/* curl's socket(2): the one place every outgoing connection of a filtered
 * request passes, with the address it will connect to. */
static curl_socket_t on_open_socket(void *transfer, curlsocktype purpose, struct curl_sockaddr *address)
{
    http_transfer *t = transfer;
    if (purpose != CURLSOCKTYPE_IPCXN || !t->address_filter(&address->addr, t->address_filter_data)) {
        transfer_note_refused(t, &address->addr);
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

static int transfer_set_address_filter(http_transfer *t, const http_client_request *req)
{
    if (!req->address_filter)
        return 0;
    t->address_filter = req->address_filter;
    t->address_filter_data = req->address_filter_data;
    return curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket) == CURLE_OK &&
                   curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETDATA, t) == CURLE_OK
               ? 0
               : -1;
}

static int transfer_configure(http_transfer *t, const http_client_request *req)
{
    CURL *e = t->easy;
    long timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : HTTP_CLIENT_DEFAULT_TIMEOUT_MS;
    /* NOPROXY "*": traffic goes only to the URL given, whatever the
     * environment's *_proxy variables say; no redirects are followed. */
    if (curl_easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_CLIENT_MAX_BODY) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body_data) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, t) != CURLE_OK || curl_easy_setopt(e, CURLOPT_PRIVATE, t) != CURLE_OK)
        return -1;
    if (transfer_set_method(e, req) < 0 || transfer_set_headers(t, req) < 0 || transfer_set_address_filter(t, req) < 0)
        return -1;
    return 0;
}

int http_client_send(http_client *c, const http_client_request *req, http_client_cb cb, void *data)
{
    if (!c || c->closing || !req || !req->url || !req->method || !cb || req->timeout_ms < 0)
        return -1;
    http_transfer *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->client = c;
    t->cb = cb;
    t->data = data;
    request_id_capture(&t->caller);
    t->easy = curl_easy_init();
    if (!t->easy || transfer_configure(t, req) < 0) {
        transfer_free(t);
        return -1;
    }
    CURLMcode rc = curl_multi_add_handle(c->multi, t->easy);
    if (rc != CURLM_OK) {
        log_error("http client: curl_multi_add_handle: %s", curl_multi_strerror(rc));
        transfer_free(t);
        return -1;
    }
    transfer_link(c, t);
    return 0;
}

/* ---- life cycle ---------------------------------------------------------- */

/* Connections to a vendor are kept and reused between calls (a TLS
 * handshake saved each time), but only so many idle ones: curl's cache
 * otherwise grows to four per transfer ever at once, so that a burst of
 * thousands of slow calls would leave thousands of idle sockets behind.
 * Calls per host are not capped here: PAYMENT_VENDOR_CONCURRENCY bounds them,
 * and refuses at once, where a cap in curl would queue calls unseen. */
static int client_set_connection_cache(CURLM *multi)
{
    return curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)HTTP_CLIENT_IDLE_CONNECTIONS) == CURLM_OK &&
                   curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L) == CURLM_OK
               ? 0
               : -1;
}

http_client *http_client_create(uv_loop_t *loop)
{
    if (!loop || http_client_global_init() < 0)
        return NULL;
    http_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->loop = loop;
    c->multi = curl_multi_init();
    if (!c->multi || curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK || client_set_connection_cache(c->multi) != 0 ||
        uv_timer_init(loop, &c->timer) != 0) {
        if (c->multi)
            curl_multi_cleanup(c->multi);
        free(c);
        return NULL;
    }
    c->timer.data = c;
    c->open_handles = 1;
    return c;
}

/* Runs outside any curl call: finishes what is pending, then closes the
 * handles; the last close callback frees the client and calls done. */
static void client_teardown(http_client *c)
{
    c->torn_down = true;
    while (c->transfers)
        transfer_finish(c->transfers, CURLE_OK, "client closed");
    /* From here curl must not call back into watches we are closing. */
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, NULL);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, NULL);
    while (c->watches)
        socket_watch_close(c->watches);
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

void http_client_close(http_client *c, void (*done)(void *data), void *data)
{
    if (!c || c->closing)
        return;
    c->closing = true;
    c->done = done;
    c->done_data = data;
    if (c->busy == 0)
        client_teardown(c);
}

size_t http_client_pending(const http_client *c)
{
    return c ? c->pending : 0;
}
