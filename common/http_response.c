/* Answers leave here: one buffer per answer holds the status line, cached
 * Date, headers and body, written at once when the socket takes it (the rest
 * queued with one uv_write); a connection keeps one small spent buffer to
 * reuse for its next answer. */
#include "http_server_internal.h"

#include "error.h"
#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    WRITE_SPARE_MAX = 16 * 1024, /* write buffers up to this size are kept for the next answer */
};

static const char json_content_type[] = HTTP_ERROR_CONTENT_TYPE;

static bool header_text_is_safe(const char *text)
{
    return strpbrk(text, "\r\n") == NULL;
}

int http_exchange_add_header(http_exchange *ex, const char *name, const char *value)
{
    if (!name || !value || !*name || !header_text_is_safe(name) || !header_text_is_safe(value))
        return -1;
    byte_buffer *b = &ex->response_headers;
    if (byte_buffer_append(b, name, strlen(name)) != 0 || byte_buffer_append(b, ": ", 2) != 0 ||
        byte_buffer_append(b, value, strlen(value)) != 0 || byte_buffer_append(b, "\r\n", 2) != 0)
        return -1;
    return 0;
}

/* ---- writing ---- */

static const char *server_date(http_server *s)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    if (now == s->date_second && s->date_len)
        return s->date;
    struct tm tm;
    if (!gmtime_r(&now, &tm))
        return s->date;
    int n = snprintf(s->date, sizeof s->date, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                     months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    s->date_len = n > 0 ? (size_t)n : 0;
    s->date_second = now;
    return s->date;
}

static write_buffer *write_buffer_take(http_connection *conn, size_t size)
{
    write_buffer *wb = conn->spare;
    if (wb && wb->cap >= size) {
        conn->spare = NULL;
        return wb;
    }
    size_t cap = size < WRITE_SPARE_MAX ? WRITE_SPARE_MAX : size;
    wb = malloc(sizeof *wb + cap);
    if (!wb)
        return NULL;
    wb->cap = cap;
    wb->connection = conn;
    return wb;
}

/* A buffer whose bytes are all out: kept as the connection's spare or freed. */
static void write_buffer_spent(http_connection *conn, write_buffer *wb)
{
    if (!conn->closed && !conn->spare && wb->cap <= WRITE_SPARE_MAX && !http_server_holds_many(conn->server))
        conn->spare = wb;
    else
        free(wb);
}

static void on_write(uv_write_t *req, int status)
{
    write_buffer *wb = (write_buffer *)req;
    http_connection *conn = wb->connection;
    conn->writes_pending--;
    write_buffer_spent(conn, wb);
    if (status < 0 && !conn->closed)
        http_connection_close(conn);
}

/* With nothing queued before it, the answer is first written at once; the
 * bytes the socket did not take are queued. Returns how many were written:
 * 0 also when the attempt failed, which leaves the error to uv_write. */
static size_t connection_try_write(http_connection *conn, const write_buffer *wb, size_t len)
{
    if (conn->closed || conn->writes_pending > 0)
        return 0;
    uv_buf_t buf = uv_buf_init((char *)wb->data, (unsigned int)len);
    int sent = uv_try_write((uv_stream_t *)&conn->tcp, &buf, 1);
    return sent > 0 ? (size_t)sent : 0;
}

/* Sends wb->data[0..len); wb is freed or kept here or in on_write. */
static int connection_write(http_connection *conn, write_buffer *wb, size_t len)
{
    size_t sent = connection_try_write(conn, wb, len);
    if (sent == len) {
        write_buffer_spent(conn, wb);
        return 0;
    }
    uv_buf_t buf = uv_buf_init(wb->data + sent, (unsigned int)(len - sent));
    int rc = uv_write(&wb->req, (uv_stream_t *)&conn->tcp, &buf, 1, on_write);
    if (rc != 0) {
        free(wb);
        return rc;
    }
    conn->writes_pending++;
    return 0;
}

static char *put(char *out, const char *text, size_t len)
{
    memcpy(out, text, len);
    return out + len;
}

/* value in decimal (snprintf showed in profiles of small answers). */
static char *put_decimal(char *out, size_t value)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[sizeof digits - ++n] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    return put(out, digits + sizeof digits - n, n);
}

typedef struct response_spec {
    int status;
    const char *content_type;
    const char *headers; /* preformatted lines, may be NULL */
    size_t headers_len;
    const void *body;
    size_t body_len;
    bool head;
    bool keep_alive;
} response_spec;

/* Formats the whole answer into one buffer and queues it. */
static int response_write(http_connection *conn, const response_spec *r)
{
    int status = r->status >= 100 && r->status <= 999 ? r->status : 500;
    const char *reason = http_status_reason(status);
    bool bodyless_status = status / 100 == 1 || status == 204 || status == 304;
    size_t body_len = bodyless_status || r->head || !r->body ? 0 : r->body_len;
    const char *date = server_date(conn->server);
    size_t type_len = r->content_type ? strlen(r->content_type) : 0;
    size_t size = 160 + strlen(reason) + conn->server->date_len + type_len + r->headers_len + body_len;
    write_buffer *wb = write_buffer_take(conn, size);
    if (!wb)
        return UV_ENOMEM;
    char *p = wb->data;
    p = put(p, "HTTP/1.1 ", 9);
    p = put_decimal(p, (size_t)status);
    p = put(p, " ", 1);
    p = put(p, reason, strlen(reason));
    p = put(p, "\r\nDate: ", 8);
    p = put(p, date, conn->server->date_len);
    p = put(p, "\r\n", 2);
    if (r->content_type) {
        p = put(p, "Content-Type: ", 14);
        p = put(p, r->content_type, type_len);
        p = put(p, "\r\n", 2);
    }
    if (!bodyless_status) {
        p = put(p, "Content-Length: ", 16);
        p = put_decimal(p, r->body_len);
        p = put(p, "\r\n", 2);
    }
    if (r->headers_len)
        p = put(p, r->headers, r->headers_len);
    if (r->keep_alive)
        p = put(p, "Connection: keep-alive\r\n\r\n", 26);
    else
        p = put(p, "Connection: close\r\n\r\n", 21);
    if (body_len)
        p = put(p, r->body, body_len);
    return connection_write(conn, wb, (size_t)(p - wb->data));
}

int http_response_write_continue(http_connection *conn)
{
    static const char text[] = "HTTP/1.1 100 Continue\r\n\r\n";
    write_buffer *wb = write_buffer_take(conn, sizeof text);
    if (!wb)
        return UV_ENOMEM;
    memcpy(wb->data, text, sizeof text - 1);
    return connection_write(conn, wb, sizeof text - 1);
}

/* Jansson refuses invalid UTF-8; such bytes (from a raw path) become '?'. */
static json_t *json_text(const char *text)
{
    json_t *value = json_string(text);
    if (value)
        return value;
    char *copy = strdup(text);
    if (!copy)
        return NULL;
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80 || (unsigned char)*c < 0x20)
            *c = '?';
    value = json_string(copy);
    free(copy);
    return value;
}

json_t *http_error_document(int status, const char *message)
{
    json_t *doc = json_object();
    json_t *text = json_text(message ? message : http_status_reason(status));
    if (!doc || !text || json_object_set_new(doc, "statusCode", json_integer(status)) != 0 ||
        json_object_set(doc, "message", text) != 0 ||
        json_object_set_new(doc, "error", json_string(http_status_reason(status))) != 0) {
        json_decref(doc);
        doc = NULL;
    }
    json_decref(text);
    return doc;
}

char *http_error_body(int status, const char *message)
{
    json_t *doc = http_error_document(status, message);
    char *out = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    return out;
}

/* An error answer with Connection: close and optional preformatted header lines. */
static int response_write_closing_error(http_connection *conn, int status, const char *message, const char *headers)
{
    char *body = http_error_body(status, message);
    response_spec r = {
        .status = status,
        .content_type = body ? json_content_type : NULL,
        .headers = headers,
        .headers_len = headers ? strlen(headers) : 0,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .keep_alive = false,
    };
    conn->server->stats.requests++;
    int rc = response_write(conn, &r);
    free(body);
    return rc;
}

int http_response_write_error(http_connection *conn, int status, const char *message)
{
    return response_write_closing_error(conn, status, message, NULL);
}

int http_response_write_busy(http_connection *conn)
{
    return response_write_closing_error(conn, 503, "the server has too many connections; retry after 1 s",
                                        "Retry-After: 1\r\n");
}

/* ---- answering ---- */

static void observe_answer(http_server *s, const http_exchange *ex, int status)
{
    if (s->observer)
        s->observer(s->observer_data, ex->route, status, (uv_hrtime() - ex->handed_ns) / 1000);
}

/* The access line, under the request's own id whatever runs now. The path
 * goes without its query, where a client may put what is not ours to log. */
static void log_answer(const http_exchange *ex, const http_server *s, int status, bool client_gone)
{
    if (!s || !s->log_requests)
        return;
    const http_request *req = &ex->request;
    unsigned long long ms = uv_now(s->loop) - ex->started_ms;
    log_request(LOG_INFO, ex->id.text, "http: %s %.200s %d %llums%s", req->method_name ? req->method_name : "-",
                req->path ? req->path : "-", status, ms, client_gone ? " (client gone)" : "");
}

void http_respond(http_exchange *ex, int status, const char *content_type, const void *body, size_t len)
{
    if (!ex || !ex->pending) {
        log_error("http: an exchange was answered twice");
        return;
    }
    ex->pending = false;
    if (ex->server) {
        ex->server->stats.pending_exchanges--;
        observe_answer(ex->server, ex, status);
    }
    http_connection *conn = ex->connection;
    if (!conn) {
        http_server *orphaned_from = ex->server;
        log_answer(ex, orphaned_from, status, true);
        http_exchange_unlink_orphan(ex);
        http_exchange_free(ex);
        if (orphaned_from)
            http_server_exchange_answered(orphaned_from);
        return;
    }
    http_server *s = conn->server;
    response_spec r = {
        .status = status,
        .content_type = content_type,
        .headers = ex->response_headers.data,
        .headers_len = ex->response_headers.len,
        .body = body,
        .body_len = body || ex->head ? len : 0, /* HEAD may state a length without a body */
        .head = ex->head,
        .keep_alive = ex->keep_alive && !s->draining && !s->closing,
    };
    s->stats.requests++;
    log_answer(ex, s, status, false);
    int rc = response_write(conn, &r);
    http_exchange_after_answer(ex);
    http_connection_after_answer(conn, rc, r.keep_alive);
}

void http_respond_error(http_exchange *ex, int status, const char *message)
{
    char *body = http_error_body(status, message);
    if (!body) {
        const char *reason = http_status_reason(status);
        http_respond(ex, status, "text/plain; charset=utf-8", reason, strlen(reason));
        return;
    }
    http_respond(ex, status, json_content_type, body, strlen(body));
    free(body);
}
