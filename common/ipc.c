/* IPC channel: a libuv pipe read into one line buffer. Writes copy the line
 * into a request freed by its callback, so callers never keep buffers alive.
 * What the lines mean is ipc_message.c's business. */
#include "ipc.h"

#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ipc_channel {
    uv_pipe_t pipe;
    uv_shutdown_t shutdown;
    ipc_message_cb cb;
    void *data;
    char peer[32];   /* for the log */
    uint32_t logged; /* ipc_log_once keys already logged */
    char line[IPC_MAX_LINE + 1];
    size_t line_len;
    int closing;
};

typedef struct ipc_write {
    uv_write_t req;
    size_t len;
    char text[];
} ipc_write;

ipc_channel *ipc_create(uv_loop_t *loop, const char *peer, ipc_message_cb cb, void *data)
{
    ipc_channel *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    if (uv_pipe_init(loop, &ch->pipe, 0) < 0) {
        free(ch);
        return NULL;
    }
    ch->pipe.data = ch;
    snprintf(ch->peer, sizeof ch->peer, "%s", peer);
    ch->cb = cb;
    ch->data = data;
    return ch;
}

uv_pipe_t *ipc_pipe(ipc_channel *ch)
{
    return &ch->pipe;
}

int ipc_open_fd(ipc_channel *ch, int fd)
{
    return uv_pipe_open(&ch->pipe, fd);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)handle;
    (void)suggested;
    static char chunk[4096]; /* consumed synchronously in on_read */
    *buf = uv_buf_init(chunk, sizeof chunk);
}

/* Tells the owner once that the channel is over; the owner then closes it. */
static void notify_closed(ipc_channel *ch)
{
    if (ch->closing)
        return;
    uv_read_stop((uv_stream_t *)&ch->pipe);
    ch->cb(ch, NULL, ch->data);
}

static void deliver_bytes(ipc_channel *ch, const char *bytes, size_t n)
{
    for (size_t i = 0; i < n && !ch->closing; i++) {
        if (bytes[i] != '\n') {
            if (ch->line_len == IPC_MAX_LINE) {
                log_error("ipc (%s): message longer than %d bytes", ch->peer, IPC_MAX_LINE);
                notify_closed(ch);
                return;
            }
            ch->line[ch->line_len++] = bytes[i];
            continue;
        }
        ch->line[ch->line_len] = '\0';
        ch->line_len = 0;
        ch->cb(ch, ch->line, ch->data);
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    ipc_channel *ch = stream->data;
    if (nread < 0) {
        notify_closed(ch);
        return;
    }
    deliver_bytes(ch, buf->base, (size_t)nread);
}

int ipc_start(ipc_channel *ch)
{
    return uv_read_start((uv_stream_t *)&ch->pipe, on_alloc, on_read);
}

static void on_write(uv_write_t *req, int status)
{
    (void)status; /* a failed write shows up as a read error on the same pipe */
    free(req->data);
}

int ipc_send_line(ipc_channel *ch, const char *text)
{
    size_t n = strlen(text);
    if (ch->closing || n >= IPC_MAX_LINE)
        return -1;
    ipc_write *w = malloc(sizeof *w + n + 1);
    if (!w)
        return -1;
    memcpy(w->text, text, n);
    w->text[n] = '\n';
    w->len = n + 1;
    w->req.data = w;
    uv_buf_t buf = uv_buf_init(w->text, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&ch->pipe, &buf, 1, on_write) < 0) {
        free(w);
        return -1;
    }
    return 0;
}

static void on_close(uv_handle_t *handle)
{
    free(handle->data);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    if (!uv_is_closing((uv_handle_t *)req->handle))
        uv_close((uv_handle_t *)req->handle, on_close);
}

void ipc_close(ipc_channel *ch)
{
    if (!ch || ch->closing)
        return;
    ch->closing = 1;
    uv_read_stop((uv_stream_t *)&ch->pipe);
    /* Shutdown waits for queued writes, so a reply sent just before closing
     * still reaches the peer. */
    if (uv_is_writable((uv_stream_t *)&ch->pipe) &&
        uv_shutdown(&ch->shutdown, (uv_stream_t *)&ch->pipe, on_shutdown) == 0)
        return;
    uv_close((uv_handle_t *)&ch->pipe, on_close);
}

void ipc_log_once(ipc_channel *ch, unsigned key, const char *fmt, ...)
{
    uint32_t bit = key < 32 ? UINT32_C(1) << key : 0;
    if (!bit || (ch->logged & bit))
        return;
    ch->logged |= bit;
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    log_warn("ipc (%s): %s", ch->peer, message);
}
