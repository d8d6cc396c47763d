/* An updater link over libuv TCP. The handshake is driven by the frames as
 * they arrive; before it completes a peer may send only small frames and has
 * HANDSHAKE_MS to finish, so an unauthenticated connection costs little and
 * never lingers. Afterwards every frame is sealed (updater_protocol.c) and a
 * heartbeat keeps a dead peer from holding the master's update forever.
 * Ownership: the link owns its socket, timer, reader and session; it frees
 * itself after both handles closed, right after on_closed. */
#include "updater_link.h"

#include "log.h"
#include "updater_protocol.h"
#include "updater_read.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HANDSHAKE_MS 10000
#define CLOSE_GRACE_MS 5000 /* queued messages get this long to go out */
#define DEFAULT_HEARTBEAT_MS 15000
#define SILENT_PERIODS 3 /* heartbeats missed before a peer counts as gone */

typedef enum link_state { LINK_CONNECTING, LINK_HANDSHAKE, LINK_READY, LINK_CLOSING } link_state;

struct updater_link {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_getaddrinfo_t resolve;
    uv_connect_t connect;
    uv_shutdown_t shutdown;
    int open_handles;
    link_state state;
    bool is_server;
    bool resolving;
    bool hello_sent;
    const char *secret;
    char own_instance[PROTOCOL_MAX_NAME + 1];
    char own_role[PROTOCOL_MAX_NAME + 1];
    char address[80];
    char host[64];          /* the peer's address without its port: the key of guesses */
    attempt_limit *guesses; /* server side: failed handshakes per host, or NULL */
    int port;
    protocol_reader reader;
    protocol_handshake handshake;
    protocol_session session;
    uint64_t last_received_ms;
    uint64_t heartbeat_ms;
    unsigned pending_writes;
    char reason[256];
    updater_link_handlers handlers;
    void *data;
};

typedef struct link_write {
    uv_write_t req;
    updater_link *link;
    unsigned char *frame;
} link_write;

static void start_close(updater_link *link);
static void on_timer(uv_timer_t *timer);

void updater_link_set_heartbeat(updater_link *link, uint64_t period_ms)
{
    link->heartbeat_ms = period_ms ? period_ms : DEFAULT_HEARTBEAT_MS;
}

bool updater_link_ready(const updater_link *link)
{
    return link->state == LINK_READY;
}

const char *updater_link_peer_role(const updater_link *link)
{
    return link->is_server ? link->handshake.peer_role : "master";
}

const char *updater_link_peer_instance(const updater_link *link)
{
    return link->handshake.peer_instance;
}

const char *updater_link_peer_address(const updater_link *link)
{
    return link->address;
}

/* ---- closing ---- */

static void on_handle_closed(uv_handle_t *handle)
{
    updater_link *link = handle->data;
    if (--link->open_handles > 0)
        return;
    link->handlers.on_closed(link, link->reason, link->data);
    protocol_reader_free(&link->reader);
    protocol_session_clear(&link->session);
    OPENSSL_cleanse(&link->handshake, sizeof link->handshake);
    free(link);
}

static void close_handles(updater_link *link)
{
    if (!uv_is_closing((uv_handle_t *)&link->tcp))
        uv_close((uv_handle_t *)&link->tcp, on_handle_closed);
    if (!uv_is_closing((uv_handle_t *)&link->timer))
        uv_close((uv_handle_t *)&link->timer, on_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    close_handles(req->data);
}

static void start_close(updater_link *link)
{
    if (link->state == LINK_CLOSING)
        return;
    bool connected = link->state == LINK_HANDSHAKE || link->state == LINK_READY;
    link->state = LINK_CLOSING;
    uv_timer_stop(&link->timer);
    if (link->resolving) {
        uv_cancel((uv_req_t *)&link->resolve); /* its callback closes the handles */
        return;
    }
    uv_read_stop((uv_stream_t *)&link->tcp);
    if (connected && link->pending_writes > 0 &&
        uv_shutdown(&link->shutdown, (uv_stream_t *)&link->tcp, on_shutdown) == 0) {
        uv_timer_start(&link->timer, on_timer, CLOSE_GRACE_MS, 0); /* a peer that stopped reading */
        return;
    }
    close_handles(link);
}

void updater_link_close(updater_link *link, const char *reason)
{
    if (link->state == LINK_CLOSING)
        return;
    snprintf(link->reason, sizeof link->reason, "%s", reason ? reason : "closed");
    start_close(link);
}

/* ---- writing ---- */

static void on_written(uv_write_t *req, int status)
{
    link_write *w = req->data;
    updater_link *link = w->link;
    link->pending_writes--;
    free(w->frame);
    free(w);
    if (status < 0 && status != UV_ECANCELED)
        updater_link_close(link, "connection lost while sending");
}

/* Queues a whole frame; takes ownership of it. */
static int write_frame(updater_link *link, unsigned char *frame, size_t len)
{
    link_write *w = frame ? malloc(sizeof *w) : NULL;
    if (!w) {
        free(frame);
        return -1;
    }
    w->link = link;
    w->frame = frame;
    w->req.data = w;
    uv_buf_t buf = uv_buf_init((char *)frame, (unsigned int)len);
    if (uv_write(&w->req, (uv_stream_t *)&link->tcp, &buf, 1, on_written) < 0) {
        free(frame);
        free(w);
        return -1;
    }
    link->pending_writes++;
    return 0;
}

/* A handshake message: framed, not sealed. Takes ownership of text. */
static int write_plain(updater_link *link, char *text)
{
    if (!text)
        return -1;
    size_t len = 0;
    unsigned char *frame = protocol_frame(text, strlen(text), &len);
    free(text);
    return write_frame(link, frame, len);
}

int updater_link_send(updater_link *link, json_t *message)
{
    if (link->state != LINK_READY)
        return -1;
    char *text = json_dumps(message, JSON_COMPACT);
    if (!text)
        return -1;
    size_t len = 0;
    unsigned char *frame = protocol_seal(&link->session, text, strlen(text), &len);
    free(text);
    return write_frame(link, frame, len);
}

/* ---- reading ---- */

static void become_ready(updater_link *link)
{
    if (protocol_session_init(&link->session, &link->handshake, link->secret, link->is_server) < 0) {
        updater_link_close(link, "cannot derive the session keys");
        return;
    }
    link->state = LINK_READY;
    link->reader.limit = PROTOCOL_MAX_FRAME;
    uv_timer_start(&link->timer, on_timer, link->heartbeat_ms, link->heartbeat_ms);
    link->handlers.on_ready(link, link->data);
}

/* A failed hello counts against its host; the log says when it trips. */
static void count_failure(const updater_link *link)
{
    uint64_t now = uv_now(link->loop);
    if (link->guesses && attempt_limit_failed(link->guesses, link->host, now))
        log_warn("refusing connections from %s for %" PRIu64 " s after repeated failed handshakes", link->host,
                 attempt_limit_seconds(attempt_limit_check(link->guesses, link->host, now)));
}

/* The server's side of the handshake: the only frame expected is the hello. */
static void server_handshake(updater_link *link, const char *text)
{
    char *reply = NULL, err[160];
    int rc = protocol_check_hello(&link->handshake, link->secret, text, link->own_instance, &reply, err, sizeof err);
    if (rc < 0) {
        const char *instance = link->handshake.peer_instance[0] ? link->handshake.peer_instance : "unknown";
        const char *role = link->handshake.peer_role[0] ? link->handshake.peer_role : "peer";
        log_warn("refused %s %s from %s: %s", role, instance, link->address, err);
        count_failure(link);
        write_plain(link, reply);
        updater_link_close(link, err);
        return;
    }
    if (write_plain(link, reply) < 0) {
        updater_link_close(link, "cannot answer the hello");
        return;
    }
    if (link->guesses)
        attempt_limit_succeeded(link->guesses, link->host);
    become_ready(link);
}

/* The client's side: a challenge, then a welcome (or a refusal). */
static void client_handshake(updater_link *link, const char *text)
{
    char err[160];
    if (!link->hello_sent) {
        link->hello_sent = true;
        char *hello =
            protocol_hello(&link->handshake, link->secret, text, link->own_role, link->own_instance, err, sizeof err);
        if (!hello || write_plain(link, hello) < 0)
            updater_link_close(link, hello ? "cannot send the hello" : err);
        return;
    }
    if (protocol_check_welcome(&link->handshake, link->secret, text, err, sizeof err) < 0) {
        updater_link_close(link, err);
        return;
    }
    become_ready(link);
}

static void handle_frame(updater_link *link, const unsigned char *body, size_t len)
{
    if (link->state == LINK_HANDSHAKE) {
        char *text = strndup((const char *)body, len);
        if (!text) {
            updater_link_close(link, "out of memory");
            return;
        }
        if (link->is_server)
            server_handshake(link, text);
        else
            client_handshake(link, text);
        free(text);
        return;
    }
    const char *json;
    size_t json_len;
    if (protocol_open(&link->session, body, len, &json, &json_len) < 0) {
        log_warn("link with %s: a message failed its authentication check; closing", link->address);
        updater_link_close(link, "message failed its authentication check");
        return;
    }
    json_t *message = json_loadb(json, json_len, 0, NULL);
    const char *type = json_string_value(json_object_get(message, "type"));
    if (!type)
        updater_link_close(link, "malformed message");
    else if (strcmp(type, "ping") != 0)
        link->handlers.on_message(link, message, link->data);
    json_decref(message);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    updater_link *link = stream->data;
    if (nread < 0) {
        updater_link_close(link, nread == UV_EOF ? "the peer closed the connection" : uv_strerror((int)nread));
        return;
    }
    link->last_received_ms = uv_now(link->loop);
    if (protocol_reader_feed(&link->reader, buf->base, (size_t)nread) < 0) {
        updater_link_close(link, "out of memory");
        return;
    }
    const unsigned char *body;
    size_t len;
    int rc;
    while (link->state != LINK_CLOSING && (rc = protocol_reader_next(&link->reader, &body, &len)) != 0) {
        if (rc < 0) {
            updater_link_close(link, "frame too large");
            return;
        }
        handle_frame(link, body, len);
    }
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *timer)
{
    updater_link *link = timer->data;
    if (link->state == LINK_CLOSING) {
        close_handles(link);
        return;
    }
    if (link->state != LINK_READY) {
        log_warn("link with %s: no handshake within %d s; closing", link->address, HANDSHAKE_MS / 1000);
        updater_link_close(link, "handshake timed out");
        return;
    }
    if (uv_now(link->loop) - link->last_received_ms > SILENT_PERIODS * link->heartbeat_ms) {
        updater_link_close(link, "the peer went silent");
        return;
    }
    json_t *ping = json_pack("{s:s}", "type", "ping");
    if (ping)
        updater_link_send(link, ping);
    json_decref(ping);
}

static void start_session(updater_link *link)
{
    link->state = LINK_HANDSHAKE;
    link->last_received_ms = uv_now(link->loop);
    uv_tcp_nodelay(&link->tcp, 1);
    uv_timer_start(&link->timer, on_timer, HANDSHAKE_MS, 0);
    if (uv_read_start((uv_stream_t *)&link->tcp, updater_read_alloc, on_read) < 0) {
        updater_link_close(link, "cannot read from the connection");
        return;
    }
    if (link->is_server && write_plain(link, protocol_challenge(&link->handshake)) < 0)
        updater_link_close(link, "cannot send the challenge");
}

/* ---- creating ---- */

static void free_unused_link(uv_handle_t *handle)
{
    free(handle->data);
}

static updater_link *link_new(uv_loop_t *loop, const char *secret, const updater_link_handlers *handlers, void *data)
{
    updater_link *link = calloc(1, sizeof *link);
    if (!link)
        return NULL;
    link->loop = loop;
    link->secret = secret;
    link->handlers = *handlers;
    link->data = data;
    link->heartbeat_ms = DEFAULT_HEARTBEAT_MS;
    link->tcp.data = link->timer.data = link->resolve.data = link->connect.data = link->shutdown.data = link;
    protocol_reader_init(&link->reader, PROTOCOL_MAX_HANDSHAKE_FRAME);
    if (uv_tcp_init(loop, &link->tcp) < 0) {
        free(link);
        return NULL;
    }
    if (uv_timer_init(loop, &link->timer) < 0) {
        uv_close((uv_handle_t *)&link->tcp, free_unused_link);
        return NULL;
    }
    link->open_handles = 2;
    return link;
}

static void describe_address(const struct sockaddr_storage *addr, char *out, size_t len)
{
    char host[64] = "?";
    int port = 0;
    if (addr->ss_family == AF_INET) {
        uv_ip4_name((const struct sockaddr_in *)addr, host, sizeof host);
        port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
    } else if (addr->ss_family == AF_INET6) {
        uv_ip6_name((const struct sockaddr_in6 *)addr, host, sizeof host);
        port = ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
    }
    snprintf(out, len, "%s:%d", host, port);
}

/* The host part of "host:port" (IPv6 hosts hold colons of their own). */
static void address_host(const char *address, char *host, size_t len)
{
    const char *colon = strrchr(address, ':');
    snprintf(host, len, "%.*s", colon ? (int)(colon - address) : (int)strlen(address), address);
}

updater_link *updater_link_accept(uv_stream_t *server, const char *secret, const char *instance, attempt_limit *guesses,
                                  const updater_link_handlers *handlers, void *data)
{
    updater_link *link = link_new(server->loop, secret, handlers, data);
    if (!link)
        return NULL;
    link->is_server = true;
    link->guesses = guesses;
    snprintf(link->own_instance, sizeof link->own_instance, "%s", instance);
    snprintf(link->reason, sizeof link->reason, "closed");
    if (uv_accept(server, (uv_stream_t *)&link->tcp) < 0) {
        link->state = LINK_CLOSING;
        snprintf(link->reason, sizeof link->reason, "cannot accept the connection");
        close_handles(link);
        return link;
    }
    struct sockaddr_storage peer;
    int len = sizeof peer;
    if (uv_tcp_getpeername(&link->tcp, (struct sockaddr *)&peer, &len) == 0)
        describe_address(&peer, link->address, sizeof link->address);
    address_host(link->address, link->host, sizeof link->host);
    if (guesses && attempt_limit_check(guesses, link->host, uv_now(link->loop)) > 0) {
        /* No challenge, no work: closed before a hello could be tried. */
        link->state = LINK_CLOSING;
        snprintf(link->reason, sizeof link->reason, "too many failed handshakes from this address");
        close_handles(link);
        return link;
    }
    start_session(link);
    return link;
}

static void on_connected(uv_connect_t *req, int status)
{
    updater_link *link = req->data;
    if (link->state == LINK_CLOSING)
        return;
    if (status < 0) {
        char reason[160];
        snprintf(reason, sizeof reason, "cannot connect to %s: %s", link->address, uv_strerror(status));
        updater_link_close(link, reason);
        return;
    }
    start_session(link);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    updater_link *link = req->data;
    link->resolving = false;
    if (link->state == LINK_CLOSING || status < 0) {
        if (link->state != LINK_CLOSING)
            snprintf(link->reason, sizeof link->reason, "cannot resolve %s: %s", link->address, uv_strerror(status));
        link->state = LINK_CLOSING;
        uv_freeaddrinfo(res);
        close_handles(link);
        return;
    }
    struct sockaddr_storage addr;
    memcpy(&addr, res->ai_addr, res->ai_addrlen < sizeof addr ? res->ai_addrlen : sizeof addr);
    uv_freeaddrinfo(res);
    describe_address(&addr, link->address, sizeof link->address);
    if (uv_tcp_connect(&link->connect, &link->tcp, (const struct sockaddr *)&addr, on_connected) < 0)
        updater_link_close(link, "cannot start connecting");
    else
        uv_timer_start(&link->timer, on_timer, HANDSHAKE_MS, 0);
}

updater_link *updater_link_connect(uv_loop_t *loop, const char *host, int port, const char *secret, const char *role,
                                   const char *instance, const updater_link_handlers *handlers, void *data)
{
    updater_link *link = link_new(loop, secret, handlers, data);
    if (!link)
        return NULL;
    snprintf(link->own_role, sizeof link->own_role, "%s", role);
    snprintf(link->own_instance, sizeof link->own_instance, "%s", instance);
    snprintf(link->address, sizeof link->address, "%s:%d", host, port);
    link->port = port;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    link->state = LINK_CONNECTING;
    if (uv_getaddrinfo(loop, &link->resolve, on_resolved, host, service, &hints) < 0) {
        snprintf(link->reason, sizeof link->reason, "cannot resolve %s", host);
        link->state = LINK_CLOSING;
        close_handles(link);
        return link;
    }
    link->resolving = true;
    return link;
}
