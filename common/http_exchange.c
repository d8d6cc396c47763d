/* An exchange holds one request and the handler's headers for its answer. A
 * connection reuses one exchange for all its requests; when the client leaves
 * mid-request it is orphaned and lives until the handler answers it. */
#include "http_server_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    STORAGE_KEEP_MAX = 64 * 1024, /* bigger request buffers are released after each answer */
};

/* ---- buffers ---- */

/* Empties b for the next request, giving back memory a large one took. */
static void buffer_reset(byte_buffer *b)
{
    if (b->cap > STORAGE_KEEP_MAX)
        byte_buffer_release(b);
    b->len = 0;
}

/* ---- exchanges ---- */

http_exchange *http_exchange_create(http_connection *conn)
{
    http_exchange *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    ex->connection = conn;
    ex->server = conn->server;
    memcpy(ex->remote_address, conn->remote_address, sizeof ex->remote_address);
    return ex;
}

void http_exchange_free(http_exchange *ex)
{
    byte_buffer_release(&ex->text);
    byte_buffer_release(&ex->body);
    byte_buffer_release(&ex->response_headers);
    free(ex);
}

void http_exchange_begin(http_exchange *ex)
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

void http_exchange_after_answer(http_exchange *ex)
{
    buffer_reset(&ex->response_headers);
    buffer_reset(&ex->body);
    buffer_reset(&ex->text);
    ex->data = NULL;
}

/* The client went away while the handler holds ex: it lives on, detached,
 * until http_respond frees it. */
void http_exchange_orphan(http_exchange *ex)
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

void http_exchange_unlink_orphan(http_exchange *ex)
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

/* ---- what the handler sees ---- */

const http_request *http_exchange_request(const http_exchange *ex)
{
    return &ex->request;
}

const char *http_exchange_request_id(const http_exchange *ex)
{
    return ex->id.text;
}

bool http_exchange_aborted(const http_exchange *ex)
{
    return ex->aborted;
}

void http_exchange_set_route(http_exchange *ex, int route)
{
    ex->route = route;
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
