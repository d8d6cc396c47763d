/* HTTP/1.1 server core. Each connection owns an llhttp parser, a read buffer
 * and one reusable exchange; the parser pauses after every complete request
 * and resumes on the buffered bytes only once that request is answered, so
 * pipelined replies leave in order and a connection has at most one pending
 * exchange. One uv_timer per connection enforces the idle, header and
 * lingering-close deadlines; which one is meant follows from the state. */
#include "http_server.h"

#include "error.h"
#include "log.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <llhttp.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

enum {
    INPUT_INITIAL = 16 * 1024,   /* read buffer of a new connection */
    INPUT_MIN_SPACE = 4 * 1024,  /* less free room than this: compact or grow */
    INPUT_HELD_MAX = 64 * 1024,  /* held while a request is handled: stop reading past it */
    STORAGE_KEEP_MAX = 64 * 1024, /* bigger request buffers are released after each answer */
    WRITE_SPARE_MAX = 16 * 1024, /* write buffers up to this size are kept for the next answer */
    LISTEN_BACKLOG = 511,
    DRAIN_GRACE_MS = 1000, /* idle keep-alive connections live this long into a drain */
    LINGER_MS = 1000,      /* after our FIN, unread client bytes are discarded this long */
};

static const char json_content_type[] = "application/json; charset=utf-8";

typedef struct http_buffer {
    char *data;
    size_t len;
    size_t cap;
} http_buffer;

typedef struct http_connection http_connection;

struct http_exchange {
    http_request request;
    http_connection *connection; /* NULL once the client is gone */
    http_server *server;         /* NULL once the server is freed */
    http_exchange *orphan_prev, *orphan_next; /* in server->orphans while detached */
    bool pending; /* with the handler, unanswered */
    bool aborted;
    bool head;
    bool keep_alive;
    void *data;
    http_buffer text; /* target, path, header names and values, each NUL-terminated */
    http_buffer body;
    http_buffer response_headers; /* "Name: value\r\n" lines added by the handler */
    size_t path_offset;
    size_t query_offset; /* 0: no query (offset 0 is the target itself) */
    size_t name_offsets[HTTP_MAX_HEADERS];
    size_t value_offsets[HTTP_MAX_HEADERS];
    char remote_address[INET6_ADDRSTRLEN];
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
    uv_timer_t timer;
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
    bool in_field;      /* a header name is being received */
    bool value_pending; /* a header value is being received */
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
    uv_tcp_t listener;
    bool listener_open;    /* initialised, close callback not yet run */
    bool listener_closing; /* uv_close called */
    uv_timer_t drain_timer;
    bool drain_timer_open;
    bool draining;
    bool drain_done_called;
    bool closing;
    void (*drain_done)(http_server *s, void *data);
    void *drain_data;
    void (*close_done)(void *data);
    void *close_data;
    http_connection *connections;
    http_exchange *orphans;
    http_server_stats stats;
    time_t date_second;
    char date[40];
    size_t date_len;
};

static void connection_parse(http_connection *conn);
static void connection_close(http_connection *conn);
static void connection_finish(http_connection *conn);
static void connection_fail(http_connection *conn, int status, const char *message);
static void server_check_drained(http_server *s);
static void server_check_freed(http_server *s);
static void connection_arm_timer(http_connection *conn, uint64_t ms);

/* ---- growable buffers ---- */

static int buffer_reserve(http_buffer *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (!data)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

static int buffer_append(http_buffer *b, const void *bytes, size_t len)
{
    if (buffer_reserve(b, len + 1) != 0)
        return -1;
    memcpy(b->data + b->len, bytes, len);
    b->len += len;
    return 0;
}

static int buffer_append_nul(http_buffer *b)
{
    if (buffer_reserve(b, 1) != 0)
        return -1;
    b->data[b->len++] = '\0';
    return 0;
}

static void buffer_release(http_buffer *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Empties b for the next request, giving back memory a large one took. */
static void buffer_reset(http_buffer *b)
{
    if (b->cap > STORAGE_KEEP_MAX)
        buffer_release(b);
    b->len = 0;
}

/* ---- exchanges ---- */

static http_exchange *exchange_create(http_connection *conn)
{
    http_exchange *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    ex->connection = conn;
    ex->server = conn->server;
    memcpy(ex->remote_address, conn->remote_address, sizeof ex->remote_address);
    return ex;
}

static void exchange_free(http_exchange *ex)
{
    buffer_release(&ex->text);
    buffer_release(&ex->body);
    buffer_release(&ex->response_headers);
    free(ex);
}

static void exchange_begin(http_exchange *ex)
{
    buffer_reset(&ex->text);
    buffer_reset(&ex->body);
    buffer_reset(&ex->response_headers);
    memset(&ex->request, 0, sizeof ex->request);
    ex->request.remote_address = ex->remote_address;
    ex->query_offset = 0;
    ex->path_offset = 0;
    ex->aborted = false;
    ex->head = false;
    ex->data = NULL;
}

/* The client went away while the handler holds ex: it lives on, detached,
 * until http_respond frees it. */
static void exchange_orphan(http_exchange *ex)
{
    http_server *s = ex->server;
    ex->connection = NULL;
    ex->aborted = true;
    ex->orphan_prev = NULL;
    ex->orphan_next = s->orphans;
    if (s->orphans)
        s->orphans->orphan_prev = ex;
    s->orphans = ex;
}

static void exchange_unlink_orphan(http_exchange *ex)
{
    http_server *s = ex->server;
    if (!s)
        return;
    if (ex->orphan_prev)
        ex->orphan_prev->orphan_next = ex->orphan_next;
    else
        s->orphans = ex->orphan_next;
    if (ex->orphan_next)
        ex->orphan_next->orphan_prev = ex->orphan_prev;
}

const http_request *http_exchange_request(const http_exchange *ex)
{
    return &ex->request;
}

bool http_exchange_aborted(const http_exchange *ex)
{
    return ex->aborted;
}

void http_exchange_set_data(http_exchange *ex, void *data)
{
    ex->data = data;
}

void *http_exchange_data(const http_exchange *ex)
{
    return ex->data;
}

const char *http_request_header(const http_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

static bool header_text_is_safe(const char *text)
{
    return strpbrk(text, "\r\n") == NULL;
}

int http_exchange_add_header(http_exchange *ex, const char *name, const char *value)
{
    if (!name || !value || !*name || !header_text_is_safe(name) || !header_text_is_safe(value))
        return -1;
    http_buffer *b = &ex->response_headers;
    if (buffer_append(b, name, strlen(name)) != 0 || buffer_append(b, ": ", 2) != 0 ||
        buffer_append(b, value, strlen(value)) != 0 || buffer_append(b, "\r\n", 2) != 0)
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
    int n = snprintf(s->date, sizeof s->date, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                     tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
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

static void on_write(uv_write_t *req, int status)
{
    write_buffer *wb = (write_buffer *)req;
    http_connection *conn = wb->connection;
    conn->writes_pending--;
    if (!conn->closed && !conn->spare && wb->cap <= WRITE_SPARE_MAX)
        conn->spare = wb;
    else
        free(wb);
    if (status < 0 && !conn->closed)
        connection_close(conn);
}

/* Queues wb->data[0..len); wb is freed or kept in on_write. */
static int connection_write(http_connection *conn, write_buffer *wb, size_t len)
{
    uv_buf_t buf = uv_buf_init(wb->data, (unsigned int)len);
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
    p += snprintf(p, 32, "HTTP/1.1 %d ", status);
    p = put(p, reason, strlen(reason));
    p = put(p, "\r\nDate: ", 8);
    p = put(p, date, conn->server->date_len);
    p = put(p, "\r\n", 2);
    if (r->content_type) {
        p = put(p, "Content-Type: ", 14);
        p = put(p, r->content_type, type_len);
        p = put(p, "\r\n", 2);
    }
    if (!bodyless_status)
        p += snprintf(p, 48, "Content-Length: %zu\r\n", r->body_len);
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

static int write_continue(http_connection *conn)
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

/* {"statusCode":N,"message":"...","error":"Reason"}; free() the result. */
static char *error_body(int status, const char *message)
{
    json_t *doc = json_object();
    json_t *text = json_text(message ? message : http_status_reason(status));
    char *out = NULL;
    if (doc && text && json_object_set_new(doc, "statusCode", json_integer(status)) == 0 &&
        json_object_set(doc, "message", text) == 0 &&
        json_object_set_new(doc, "error", json_string(http_status_reason(status))) == 0)
        out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(text);
    json_decref(doc);
    return out;
}

/* ---- answering ---- */

static void exchange_after_answer(http_exchange *ex)
{
    buffer_reset(&ex->response_headers);
    buffer_reset(&ex->body);
    buffer_reset(&ex->text);
    ex->data = NULL;
}

void http_respond(http_exchange *ex, int status, const char *content_type, const void *body, size_t len)
{
    if (!ex || !ex->pending) {
        log_error("http: an exchange was answered twice");
        return;
    }
    ex->pending = false;
    if (ex->server)
        ex->server->stats.pending_exchanges--;
    http_connection *conn = ex->connection;
    if (!conn) {
        exchange_unlink_orphan(ex);
        exchange_free(ex);
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
    int rc = response_write(conn, &r);
    exchange_after_answer(ex);
    if (rc != 0) {
        log_warn("http: write to %s failed: %s", conn->remote_address, uv_strerror(rc));
        connection_close(conn);
        return;
    }
    if (!r.keep_alive) {
        connection_finish(conn);
        return;
    }
    conn->state = CONNECTION_IDLE;
    connection_arm_timer(conn, s->limits.idle_timeout_ms);
    if (!conn->parsing)
        connection_parse(conn);
}

void http_respond_error(http_exchange *ex, int status, const char *message)
{
    char *body = error_body(status, message);
    if (!body) {
        const char *reason = http_status_reason(status);
        http_respond(ex, status, "text/plain; charset=utf-8", reason, strlen(reason));
        return;
    }
    http_respond(ex, status, json_content_type, body, strlen(body));
    free(body);
}

/* ---- parser callbacks: the request is copied out of the read buffer ---- */

static int reject(http_connection *conn, int status)
{
    conn->error_status = status;
    return HPE_USER;
}

/* Request line and headers may not exceed max_header_bytes; end is the last
 * byte llhttp has reported so far. */
static int check_head_size(http_connection *conn, const char *end)
{
    if (!conn->head_mark)
        return 0;
    size_t seen = conn->head_bytes + (size_t)(end - conn->head_mark);
    return seen > conn->server->limits.max_header_bytes ? reject(conn, 431) : 0;
}

static int on_message_begin(llhttp_t *parser)
{
    http_connection *conn = parser->data;
    if (!conn->exchange) {
        conn->exchange = exchange_create(conn);
        if (!conn->exchange)
            return reject(conn, 500);
    }
    exchange_begin(conn->exchange);
    conn->state = CONNECTION_READING;
    conn->headers_done = false;
    conn->in_field = false;
    conn->value_pending = false;
    conn->head_bytes = 0;
    conn->head_mark = NULL;
    connection_arm_timer(conn, conn->server->limits.header_timeout_ms);
    return 0;
}

static int on_method(llhttp_t *parser, const char *at, size_t len)
{
    http_connection *conn = parser->data;
    if (!conn->head_mark)
        conn->head_mark = at;
    return check_head_size(conn, at + len);
}

static int append_text(http_connection *conn, const char *at, size_t len)
{
    return buffer_append(&conn->exchange->text, at, len) == 0 ? 0 : reject(conn, 500);
}

static int on_url(llhttp_t *parser, const char *at, size_t len)
{
    http_connection *conn = parser->data;
    int rc = check_head_size(conn, at + len);
    return rc ? rc : append_text(conn, at, len);
}

/* Splits the target into path and query. An absolute-form target
 * ("http://host/p") is reduced to its path. */
static int on_url_complete(llhttp_t *parser)
{
    http_connection *conn = parser->data;
    http_exchange *ex = conn->exchange;
    if (buffer_append_nul(&ex->text) != 0)
        return reject(conn, 500);
    size_t target_len = ex->text.len - 1;
    const char *target = ex->text.data;
    size_t path_start = 0;
    const char *scheme_end = strstr(target, "://");
    if (target[0] != '/' && scheme_end) {
        const char *slash = strchr(scheme_end + 3, '/');
        path_start = slash ? (size_t)(slash - target) : target_len;
    }
    const char *question = memchr(target, '?', target_len);
    size_t path_end = question ? (size_t)(question - target) : target_len;
    if (path_start > path_end)
        path_start = path_end;
    ex->query_offset = question ? path_end + 1 : 0;
    ex->path_offset = ex->text.len;
    if (path_start == path_end) {
        if (buffer_append(&ex->text, "/", 1) != 0)
            return reject(conn, 500);
    } else if (buffer_reserve(&ex->text, path_end - path_start + 1) != 0) {
        return reject(conn, 500);
    } else {
        memcpy(ex->text.data + ex->text.len, ex->text.data + path_start, path_end - path_start);
        ex->text.len += path_end - path_start;
    }
    return buffer_append_nul(&ex->text) == 0 ? 0 : reject(conn, 500);
}

static int finish_header_value(http_connection *conn)
{
    http_exchange *ex = conn->exchange;
    size_t i = ex->request.header_count - 1;
    while (ex->text.len > ex->value_offsets[i] &&
           (ex->text.data[ex->text.len - 1] == ' ' || ex->text.data[ex->text.len - 1] == '\t'))
        ex->text.len--;
    while (ex->value_offsets[i] < ex->text.len &&
           (ex->text.data[ex->value_offsets[i]] == ' ' || ex->text.data[ex->value_offsets[i]] == '\t'))
        ex->value_offsets[i]++;
    conn->value_pending = false;
    return buffer_append_nul(&ex->text) == 0 ? 0 : reject(conn, 500);
}

static int on_header_field(llhttp_t *parser, const char *at, size_t len)
{
    http_connection *conn = parser->data;
    http_exchange *ex = conn->exchange;
    if (conn->headers_done) /* trailers are not kept */
        return 0;
    int rc = check_head_size(conn, at + len);
    if (rc)
        return rc;
    if (!conn->in_field) {
        if (conn->value_pending && (rc = finish_header_value(conn)) != 0)
            return rc;
        if (ex->request.header_count == HTTP_MAX_HEADERS)
            return reject(conn, 431);
        ex->name_offsets[ex->request.header_count] = ex->text.len;
        conn->in_field = true;
    }
    return append_text(conn, at, len);
}

static int on_header_field_complete(llhttp_t *parser)
{
    http_connection *conn = parser->data;
    http_exchange *ex = conn->exchange;
    if (conn->headers_done || !conn->in_field)
        return 0;
    if (buffer_append_nul(&ex->text) != 0)
        return reject(conn, 500);
    conn->in_field = false;
    ex->value_offsets[ex->request.header_count++] = ex->text.len;
    conn->value_pending = true;
    return 0;
}

static int on_header_value(llhttp_t *parser, const char *at, size_t len)
{
    http_connection *conn = parser->data;
    if (conn->headers_done || !conn->value_pending)
        return 0;
    int rc = check_head_size(conn, at + len);
    return rc ? rc : append_text(conn, at, len);
}

static int on_header_value_complete(llhttp_t *parser)
{
    http_connection *conn = parser->data;
    if (conn->headers_done || !conn->value_pending)
        return 0;
    return finish_header_value(conn);
}

/* The text buffer no longer grows once the headers are in: pointers into it
 * are fixed here. */
static void exchange_fix_pointers(http_exchange *ex)
{
    http_request *req = &ex->request;
    req->target = ex->text.data;
    req->path = ex->text.data + ex->path_offset;
    req->query = ex->query_offset ? ex->text.data + ex->query_offset : NULL;
    for (size_t i = 0; i < req->header_count; i++) {
        req->headers[i].name = ex->text.data + ex->name_offsets[i];
        req->headers[i].value = ex->text.data + ex->value_offsets[i];
    }
}

/* Codings other than a lone "chunked" would need decoding we do not do. */
static bool transfer_coding_supported(const http_request *req)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, "transfer-encoding") == 0 &&
            strcasecmp(req->headers[i].value, "chunked") != 0)
            return false;
    return true;
}

static int check_request_head(http_connection *conn, llhttp_t *parser)
{
    const http_request *req = &conn->exchange->request;
    if (parser->http_major != 1)
        return parser->http_major == 0 ? 400 : 505;
    if ((parser->flags & F_CHUNKED) && !transfer_coding_supported(req))
        return 501;
    if ((parser->flags & F_CONTENT_LENGTH) && parser->content_length > conn->server->limits.max_body_bytes)
        return 413;
    return 0;
}

static bool expects_continue(const http_request *req, llhttp_t *parser)
{
    const char *expect = http_request_header(req, "expect");
    bool has_body = (parser->flags & F_CHUNKED) || parser->content_length > 0;
    return expect && has_body && parser->http_minor >= 1 && strcasecmp(expect, "100-continue") == 0;
}

static int on_headers_complete(llhttp_t *parser)
{
    http_connection *conn = parser->data;
    http_exchange *ex = conn->exchange;
    if (conn->value_pending && finish_header_value(conn) != 0)
        return -1;
    conn->headers_done = true;
    conn->head_mark = NULL;
    exchange_fix_pointers(ex);
    ex->request.method = parser->method;
    ex->request.method_name = llhttp_method_name((llhttp_method_t)parser->method);
    ex->head = parser->method == HTTP_HEAD;
    /* After an upgrade request the bytes that follow are another protocol. */
    conn->keep_alive = llhttp_should_keep_alive(parser) && !parser->upgrade;
    int status = check_request_head(conn, parser);
    if (status) {
        conn->error_status = status;
        return -1;
    }
    if ((parser->flags & F_CONTENT_LENGTH) && buffer_reserve(&ex->body, parser->content_length + 1) != 0) {
        conn->error_status = 500;
        return -1;
    }
    if (expects_continue(&ex->request, parser) && write_continue(conn) != 0) {
        conn->error_status = 500;
        return -1;
    }
    return 0;
}

static int on_body(llhttp_t *parser, const char *at, size_t len)
{
    http_connection *conn = parser->data;
    http_buffer *body = &conn->exchange->body;
    if (len > conn->server->limits.max_body_bytes - body->len)
        return reject(conn, 413);
    return buffer_append(body, at, len) == 0 ? 0 : reject(conn, 500);
}

static int on_message_complete(llhttp_t *parser)
{
    http_connection *conn = parser->data;
    http_exchange *ex = conn->exchange;
    if (buffer_reserve(&ex->body, 1) != 0) {
        conn->error_status = 500;
        return -1;
    }
    ex->body.data[ex->body.len] = '\0';
    ex->request.body = ex->body.data;
    ex->request.body_len = ex->body.len;
    return HPE_PAUSED;
}

static void settings_init(llhttp_settings_t *settings)
{
    llhttp_settings_init(settings);
    settings->on_message_begin = on_message_begin;
    settings->on_method = on_method;
    settings->on_url = on_url;
    settings->on_url_complete = on_url_complete;
    settings->on_header_field = on_header_field;
    settings->on_header_field_complete = on_header_field_complete;
    settings->on_header_value = on_header_value;
    settings->on_header_value_complete = on_header_value_complete;
    settings->on_headers_complete = on_headers_complete;
    settings->on_body = on_body;
    settings->on_message_complete = on_message_complete;
}

/* ---- connection life ---- */

static void on_connection_timer(uv_timer_t *timer)
{
    http_connection *conn = timer->data;
    switch (conn->state) {
    case CONNECTION_READING:
        connection_fail(conn, 408, "The request did not arrive in time");
        break;
    case CONNECTION_IDLE: /* an answer still being written is let out first */
        if (conn->writes_pending > 0)
            connection_finish(conn);
        else
            connection_close(conn);
        break;
    case CONNECTION_CLOSING:
        connection_close(conn);
        break;
    case CONNECTION_HANDLING:
        break;
    }
}

static void connection_arm_timer(http_connection *conn, uint64_t ms)
{
    if (!conn->closed)
        uv_timer_start(&conn->timer, on_connection_timer, ms, 0);
}

static void connection_start_reading(http_connection *conn);

static void connection_dispatch(http_connection *conn)
{
    http_exchange *ex = conn->exchange;
    http_server *s = conn->server;
    conn->state = CONNECTION_HANDLING;
    uv_timer_stop(&conn->timer);
    ex->pending = true;
    ex->keep_alive = conn->keep_alive;
    s->stats.pending_exchanges++;
    s->handler(ex, s->context);
}

/* Counts the head bytes of this chunk when the headers are still incomplete
 * after it. Returns 0, or 431. */
static int count_head_bytes(http_connection *conn, const char *end)
{
    if (conn->state != CONNECTION_READING || conn->headers_done || !conn->head_mark)
        return 0;
    conn->head_bytes += (size_t)(end - conn->head_mark);
    conn->head_mark = NULL;
    return conn->head_bytes > conn->server->limits.max_header_bytes ? 431 : 0;
}

/* Feeds buffered input to llhttp until it runs out, a request goes to the
 * handler, or the connection is closing. */
static void connection_parse(http_connection *conn)
{
    conn->parsing = true;
    while (conn->state != CONNECTION_HANDLING && conn->state != CONNECTION_CLOSING &&
           conn->input_off < conn->input_len) {
        const char *data = conn->input + conn->input_off;
        size_t len = conn->input_len - conn->input_off;
        if (conn->state == CONNECTION_READING && !conn->headers_done)
            conn->head_mark = data;
        llhttp_errno_t err = llhttp_execute(&conn->parser, data, len);
        if (err == HPE_OK) {
            conn->input_off = conn->input_len;
            int status = count_head_bytes(conn, data + len);
            if (status)
                connection_fail(conn, status, NULL);
        } else if (err == HPE_PAUSED) {
            conn->input_off += (size_t)(llhttp_get_error_pos(&conn->parser) - data);
            llhttp_resume(&conn->parser);
            connection_dispatch(conn);
        } else {
            /* llhttp's reason names the flaw without echoing the client's bytes. */
            if (conn->error_status)
                connection_fail(conn, conn->error_status, NULL);
            else
                connection_fail(conn, 400, llhttp_get_error_reason(&conn->parser));
        }
    }
    if (conn->input_off == conn->input_len)
        conn->input_off = conn->input_len = 0;
    conn->parsing = false;
    if (conn->state != CONNECTION_HANDLING || conn->input_len - conn->input_off < INPUT_HELD_MAX)
        connection_start_reading(conn);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    http_connection *conn = handle->data;
    (void)suggested;
    if (conn->input_off == conn->input_len)
        conn->input_off = conn->input_len = 0;
    if (conn->input_cap - conn->input_len < INPUT_MIN_SPACE && conn->input_off > 0) {
        memmove(conn->input, conn->input + conn->input_off, conn->input_len - conn->input_off);
        conn->input_len -= conn->input_off;
        conn->input_off = 0;
    }
    if (conn->input_cap - conn->input_len < INPUT_MIN_SPACE) {
        size_t cap = conn->input_cap ? conn->input_cap * 2 : INPUT_INITIAL;
        char *input = realloc(conn->input, cap);
        if (!input) {
            *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
            return;
        }
        conn->input = input;
        conn->input_cap = cap;
    }
    *buf = uv_buf_init(conn->input + conn->input_len, (unsigned int)(conn->input_cap - conn->input_len));
}

static void connection_stop_reading(http_connection *conn)
{
    if (conn->reading && !conn->closed)
        uv_read_stop((uv_stream_t *)&conn->tcp);
    conn->reading = false;
}

/* The client sent EOF or the socket failed. A pending exchange is aborted;
 * an answer still being written goes out before the close. */
static void connection_on_peer_gone(http_connection *conn)
{
    conn->peer_closed = true;
    connection_stop_reading(conn);
    bool answer_in_flight = conn->writes_pending > 0 &&
                            (conn->state == CONNECTION_IDLE || conn->state == CONNECTION_CLOSING);
    if (answer_in_flight)
        connection_finish(conn);
    else
        connection_close(conn);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    http_connection *conn = stream->data;
    (void)buf;
    if (nread < 0) {
        connection_on_peer_gone(conn);
        return;
    }
    conn->input_len += (size_t)nread;
    switch (conn->state) {
    case CONNECTION_CLOSING: /* lingering: the client's bytes are dropped */
        conn->input_off = conn->input_len = 0;
        break;
    case CONNECTION_HANDLING:
        if (conn->input_len - conn->input_off >= INPUT_HELD_MAX)
            connection_stop_reading(conn);
        break;
    case CONNECTION_IDLE:
    case CONNECTION_READING:
        connection_parse(conn);
        break;
    }
}

static void connection_start_reading(http_connection *conn)
{
    if (conn->reading || conn->closed || conn->peer_closed)
        return;
    int rc = uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read);
    if (rc != 0) {
        log_warn("http: cannot read from %s: %s", conn->remote_address, uv_strerror(rc));
        connection_close(conn);
        return;
    }
    conn->reading = true;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    http_connection *conn = req->data;
    if (conn->closed)
        return;
    if (status < 0 || conn->peer_closed) {
        connection_close(conn);
        return;
    }
    uint64_t idle = conn->server->limits.idle_timeout_ms;
    connection_arm_timer(conn, idle < LINGER_MS ? idle : LINGER_MS);
}

/* After the last answer: send FIN once it is written, then keep reading (and
 * dropping) a little, so that unread client bytes do not turn the close into
 * a reset that would destroy the answer. The timer bounds both phases. */
static void connection_finish(http_connection *conn)
{
    if (conn->closed || conn->state == CONNECTION_CLOSING)
        return;
    conn->state = CONNECTION_CLOSING;
    conn->input_off = conn->input_len = 0;
    connection_arm_timer(conn, conn->server->limits.idle_timeout_ms);
    conn->shutdown.data = conn;
    int rc = uv_shutdown(&conn->shutdown, (uv_stream_t *)&conn->tcp, on_shutdown);
    if (rc != 0) {
        connection_close(conn);
        return;
    }
    connection_start_reading(conn);
}

/* Answers a request the parser or a deadline rejected, then closes. */
static void connection_fail(http_connection *conn, int status, const char *message)
{
    if (conn->closed || conn->state == CONNECTION_CLOSING)
        return;
    char *body = error_body(status, message);
    response_spec r = {
        .status = status,
        .content_type = body ? json_content_type : NULL,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .keep_alive = false,
    };
    conn->server->stats.requests++;
    int rc = response_write(conn, &r);
    free(body);
    if (rc != 0)
        connection_close(conn);
    else
        connection_finish(conn);
}

static void connection_free(http_connection *conn)
{
    http_server *s = conn->server;
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        s->connections = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    s->stats.active_connections--;
    if (conn->exchange)
        exchange_free(conn->exchange);
    free(conn->spare);
    free(conn->input);
    free(conn);
    server_check_drained(s);
    server_check_freed(s);
}

static void on_connection_handle_closed(uv_handle_t *handle)
{
    http_connection *conn = handle->data;
    if (--conn->handles_open == 0)
        connection_free(conn);
}

static void connection_close(http_connection *conn)
{
    if (conn->closed)
        return;
    conn->closed = true;
    conn->reading = false;
    conn->state = CONNECTION_CLOSING;
    if (conn->exchange && conn->exchange->pending) {
        exchange_orphan(conn->exchange);
        conn->exchange = NULL;
    }
    uv_close((uv_handle_t *)&conn->tcp, on_connection_handle_closed);
    uv_close((uv_handle_t *)&conn->timer, on_connection_handle_closed);
}

static void connection_describe_peer(http_connection *conn)
{
    struct sockaddr_storage addr;
    int len = sizeof addr;
    strcpy(conn->remote_address, "unknown");
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&addr, &len) != 0)
        return;
    if (addr.ss_family == AF_INET)
        uv_ip4_name((struct sockaddr_in *)&addr, conn->remote_address, sizeof conn->remote_address);
    else if (addr.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&addr, conn->remote_address, sizeof conn->remote_address);
}

/* Links a fresh connection into the server; its handles are initialised, so
 * from here on connection_close is the one way out. */
static http_connection *connection_create(http_server *s)
{
    http_connection *conn = calloc(1, sizeof *conn);
    if (!conn)
        return NULL;
    conn->server = s;
    if (uv_tcp_init(s->loop, &conn->tcp) != 0) {
        free(conn);
        return NULL;
    }
    uv_timer_init(s->loop, &conn->timer); /* cannot fail for a valid loop */
    conn->tcp.data = conn;
    conn->timer.data = conn;
    conn->handles_open = 2;
    conn->state = CONNECTION_IDLE;
    conn->next = s->connections;
    if (s->connections)
        s->connections->prev = conn;
    s->connections = conn;
    s->stats.active_connections++;
    llhttp_init(&conn->parser, HTTP_REQUEST, &s->settings);
    conn->parser.data = conn;
    return conn;
}

static void on_connection(uv_stream_t *listener, int status)
{
    http_server *s = listener->data;
    if (status < 0) {
        log_warn("http: accept failed: %s", uv_strerror(status));
        return;
    }
    http_connection *conn = connection_create(s);
    if (!conn) {
        log_error("http: out of memory accepting a connection");
        return;
    }
    int rc = uv_accept(listener, (uv_stream_t *)&conn->tcp);
    if (rc != 0) {
        log_warn("http: accept failed: %s", uv_strerror(rc));
        connection_close(conn);
        return;
    }
    s->stats.connections++;
    uv_tcp_nodelay(&conn->tcp, 1);
    connection_describe_peer(conn);
    connection_arm_timer(conn, s->limits.idle_timeout_ms);
    connection_start_reading(conn);
}

/* ---- the server ---- */

http_server *http_server_create(uv_loop_t *loop, const http_limits *limits, http_handler_fn handler,
                                void *context)
{
    http_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->loop = loop;
    s->limits = *limits;
    s->handler = handler;
    s->context = context;
    settings_init(&s->settings);
    if (uv_timer_init(loop, &s->drain_timer) != 0) {
        free(s);
        return NULL;
    }
    s->drain_timer.data = s;
    s->drain_timer_open = true;
    s->listener.data = s;
    return s;
}

static void on_server_handle_closed(uv_handle_t *handle)
{
    http_server *s = handle->data;
    if (handle == (uv_handle_t *)&s->listener)
        s->listener_open = false;
    else
        s->drain_timer_open = false;
    server_check_drained(s);
    server_check_freed(s);
}

static void server_close_listener(http_server *s)
{
    if (!s->listener_open || s->listener_closing)
        return;
    s->listener_closing = true;
    uv_close((uv_handle_t *)&s->listener, on_server_handle_closed);
}

static int server_open_listener(http_server *s)
{
    if (s->listener_open || s->draining || s->closing)
        return UV_EINVAL;
    int rc = uv_tcp_init(s->loop, &s->listener);
    if (rc != 0)
        return rc;
    s->listener.data = s;
    s->listener_open = true;
    s->listener_closing = false;
    return 0;
}

static int server_start_listening(http_server *s)
{
    int rc = uv_listen((uv_stream_t *)&s->listener, LISTEN_BACKLOG, on_connection);
    if (rc != 0)
        server_close_listener(s);
    return rc;
}

int http_server_listen_fd(http_server *s, int fd)
{
    int rc = server_open_listener(s);
    if (rc != 0)
        return rc;
    rc = uv_tcp_open(&s->listener, fd);
    if (rc != 0) {
        server_close_listener(s);
        return rc;
    }
    return server_start_listening(s);
}

static int resolve_host(const char *host, int port, struct sockaddr_storage *addr)
{
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)addr) == 0)
        return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)addr) == 0)
        return 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *found = NULL;
    if (getaddrinfo(host, NULL, &hints, &found) != 0 || !found)
        return UV_EINVAL;
    memcpy(addr, found->ai_addr, found->ai_addrlen);
    if (found->ai_family == AF_INET)
        ((struct sockaddr_in *)addr)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)addr)->sin6_port = htons((uint16_t)port);
    freeaddrinfo(found);
    return 0;
}

int http_server_listen(http_server *s, const char *host, int port)
{
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    if (port < 0 || port > 65535 || !host)
        return UV_EINVAL;
    int rc = resolve_host(host, port, &addr);
    if (rc != 0)
        return rc;
    if ((rc = server_open_listener(s)) != 0)
        return rc;
    rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0);
    if (rc != 0) {
        server_close_listener(s);
        return rc;
    }
    return server_start_listening(s);
}

int http_server_port(const http_server *s)
{
    struct sockaddr_storage addr;
    int len = sizeof addr;
    if (!s->listener_open || s->listener_closing ||
        uv_tcp_getsockname(&s->listener, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    if (addr.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&addr)->sin_port);
    if (addr.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    return -1;
}

static void server_close_connections(http_server *s)
{
    for (http_connection *conn = s->connections; conn; conn = conn->next)
        connection_close(conn);
}

static void on_drain_timeout(uv_timer_t *timer)
{
    http_server *s = timer->data;
    server_close_connections(s);
    server_check_drained(s);
}

/* Fires the drain callback once nothing is left; always from a callback. */
static void server_check_drained(http_server *s)
{
    if (!s->draining || s->drain_done_called || s->closing || s->listener_open || s->connections)
        return;
    s->drain_done_called = true;
    uv_timer_stop(&s->drain_timer);
    if (s->drain_done)
        s->drain_done(s, s->drain_data);
}

void http_server_drain(http_server *s, void (*done)(http_server *s, void *data), void *data)
{
    if (s->draining || s->closing)
        return;
    s->draining = true;
    s->drain_done = done;
    s->drain_data = data;
    server_close_listener(s);
    uint64_t grace = s->limits.idle_timeout_ms < DRAIN_GRACE_MS ? s->limits.idle_timeout_ms : DRAIN_GRACE_MS;
    for (http_connection *conn = s->connections; conn; conn = conn->next)
        if (conn->state == CONNECTION_IDLE)
            connection_arm_timer(conn, grace);
    /* With nothing to wait for, the timer still makes done run from the loop. */
    bool idle = !s->listener_open && !s->connections;
    uv_timer_start(&s->drain_timer, on_drain_timeout, idle ? 0 : s->limits.drain_timeout_ms, 0);
}

bool http_server_draining(const http_server *s)
{
    return s->draining;
}

static void server_check_freed(http_server *s)
{
    if (!s->closing || s->listener_open || s->drain_timer_open || s->connections)
        return;
    for (http_exchange *ex = s->orphans; ex; ex = ex->orphan_next)
        ex->server = NULL;
    void (*done)(void *data) = s->close_done;
    void *data = s->close_data;
    free(s);
    if (done)
        done(data);
}

void http_server_close(http_server *s, void (*done)(void *data), void *data)
{
    if (s->closing)
        return;
    s->closing = true;
    s->close_done = done;
    s->close_data = data;
    server_close_listener(s);
    uv_close((uv_handle_t *)&s->drain_timer, on_server_handle_closed);
    server_close_connections(s);
}

void http_server_get_stats(const http_server *s, http_server_stats *out)
{
    *out = s->stats;
}
