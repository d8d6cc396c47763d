/* llhttp callbacks that copy a request out of the connection's read buffer
 * into its exchange, enforcing the head and body limits as bytes arrive; the
 * parser pauses after each complete request so the connection can answer it. */
#include "http_server_internal.h"

#include <string.h>
#include <strings.h>

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
        conn->exchange = http_exchange_create(conn);
        if (!conn->exchange)
            return reject(conn, 500);
    }
    http_exchange_begin(conn->exchange);
    conn->state = CONNECTION_READING;
    conn->headers_done = false;
    conn->in_field = false;
    conn->value_pending = false;
    conn->head_bytes = 0;
    conn->head_mark = NULL;
    http_connection_arm_timer(conn, conn->server->limits.header_timeout_ms);
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
    return byte_buffer_append(&conn->exchange->text, at, len) == 0 ? 0 : reject(conn, 500);
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
    if (byte_buffer_append_nul(&ex->text) != 0)
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
        if (byte_buffer_append(&ex->text, "/", 1) != 0)
            return reject(conn, 500);
    } else if (byte_buffer_reserve(&ex->text, path_end - path_start + 1) != 0) {
        return reject(conn, 500);
    } else {
        memcpy(ex->text.data + ex->text.len, ex->text.data + path_start, path_end - path_start);
        ex->text.len += path_end - path_start;
    }
    return byte_buffer_append_nul(&ex->text) == 0 ? 0 : reject(conn, 500);
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
    return byte_buffer_append_nul(&ex->text) == 0 ? 0 : reject(conn, 500);
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
    if (byte_buffer_append_nul(&ex->text) != 0)
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
    if ((parser->flags & F_CONTENT_LENGTH) && byte_buffer_reserve(&ex->body, parser->content_length + 1) != 0) {
        conn->error_status = 500;
        return -1;
    }
    if (expects_continue(&ex->request, parser) && http_response_write_continue(conn) != 0) {
        conn->error_status = 500;
        return -1;
    }
    return 0;
}

static int on_body(llhttp_t *parser, const char *at, size_t len)
{
    http_connection *conn = parser->data;
    byte_buffer *body = &conn->exchange->body;
    if (len > conn->server->limits.max_body_bytes - body->len)
        return reject(conn, 413);
    return byte_buffer_append(body, at, len) == 0 ? 0 : reject(conn, 500);
}

static int on_message_complete(llhttp_t *parser)
{
    http_connection *conn = parser->data;
    http_exchange *ex = conn->exchange;
    if (byte_buffer_reserve(&ex->body, 1) != 0) {
        conn->error_status = 500;
        return -1;
    }
    ex->body.data[ex->body.len] = '\0';
    ex->request.body = ex->body.data;
    ex->request.body_len = ex->body.len;
    return HPE_PAUSED;
}

void http_request_parser_settings_init(llhttp_settings_t *settings)
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

/* Counts the head bytes of this chunk when the headers are still incomplete
 * after it. Returns 0, or 431. */
int http_request_parser_count_head_bytes(http_connection *conn, const char *end)
{
    if (conn->state != CONNECTION_READING || conn->headers_done || !conn->head_mark)
        return 0;
    conn->head_bytes += (size_t)(end - conn->head_mark);
    conn->head_mark = NULL;
    return conn->head_bytes > conn->server->limits.max_header_bytes ? 431 : 0;
}
