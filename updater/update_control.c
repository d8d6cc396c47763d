/* The updater's client of the master's control socket. The request owns its
 * pipe, timer and answer buffer; whichever of answer, error or timeout comes
 * first decides the outcome, and the callback runs once both handles are
 * closed, so the owner may start the next request from inside it. */
#include "update_control.h"

#include "updater_read.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define ANSWER_LIMIT (1u << 20)

typedef struct control_request {
    uv_pipe_t pipe;
    uv_timer_t timer;
    uv_connect_t connect;
    uv_write_t write;
    int open_handles;
    bool finished;
    char error[256];
    char *answer;
    size_t answer_len;
    char line[64];
    update_control_cb cb;
    void *data;
} control_request;

static void on_closed(uv_handle_t *handle)
{
    control_request *r = handle->data;
    if (--r->open_handles > 0)
        return;
    json_t *doc = NULL;
    if (!r->error[0]) {
        json_error_t parse_error;
        doc = json_loadb(r->answer ? r->answer : "", r->answer_len, 0, &parse_error);
        if (!doc)
            snprintf(r->error, sizeof r->error, "the master's answer is not JSON: %s", parse_error.text);
    }
    r->cb(doc, doc ? NULL : r->error, r->data);
    json_decref(doc);
    free(r->answer);
    free(r);
}

/* Records the first outcome (error NULL: the answer is complete) and closes. */
static void finish(control_request *r, const char *error)
{
    if (r->finished)
        return;
    r->finished = true;
    if (error)
        snprintf(r->error, sizeof r->error, "%s", error);
    uv_close((uv_handle_t *)&r->pipe, on_closed);
    uv_close((uv_handle_t *)&r->timer, on_closed);
}

static void on_timeout(uv_timer_t *timer)
{
    finish(timer->data, "the master did not answer in time");
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    control_request *r = stream->data;
    if (nread == UV_EOF) {
        finish(r, r->answer_len ? NULL : "the master closed the control socket without an answer");
        return;
    }
    if (nread < 0) {
        char message[128];
        snprintf(message, sizeof message, "control socket: %s", uv_strerror((int)nread));
        finish(r, message);
        return;
    }
    if (r->answer_len + (size_t)nread > ANSWER_LIMIT) {
        finish(r, "the master's answer is too long");
        return;
    }
    char *grown = realloc(r->answer, r->answer_len + (size_t)nread + 1);
    if (!grown) {
        finish(r, "out of memory");
        return;
    }
    r->answer = grown;
    memcpy(r->answer + r->answer_len, buf->base, (size_t)nread);
    r->answer_len += (size_t)nread;
}

static void on_written(uv_write_t *req, int status)
{
    control_request *r = req->data;
    if (status < 0 && status != UV_ECANCELED)
        finish(r, "cannot send the command to the master");
}

static void on_connected(uv_connect_t *req, int status)
{
    control_request *r = req->data;
    if (r->finished)
        return;
    if (status < 0) {
        char message[160];
        snprintf(message, sizeof message, "no master answers on the control socket: %s", uv_strerror(status));
        finish(r, message);
        return;
    }
    uv_buf_t buf = uv_buf_init(r->line, (unsigned int)strlen(r->line));
    if (uv_write(&r->write, (uv_stream_t *)&r->pipe, &buf, 1, on_written) < 0 ||
        uv_read_start((uv_stream_t *)&r->pipe, updater_read_alloc, on_read) < 0)
        finish(r, "cannot talk to the master's control socket");
}

int update_control_request(uv_loop_t *loop, const char *socket_path, control_command command, uint64_t timeout_ms,
                           update_control_cb cb, void *data)
{
    control_request *r = calloc(1, sizeof *r);
    if (!r || snprintf(r->line, sizeof r->line, "%s\n", control_command_name(command)) >= (int)sizeof r->line) {
        free(r);
        return -1;
    }
    r->cb = cb;
    r->data = data;
    r->pipe.data = r->timer.data = r->connect.data = r->write.data = r;
    if (uv_pipe_init(loop, &r->pipe, 0) < 0) {
        free(r);
        return -1;
    }
    r->open_handles = 2;
    if (uv_timer_init(loop, &r->timer) < 0) {
        r->open_handles = 1;
        r->finished = true;
        snprintf(r->error, sizeof r->error, "cannot start a timer");
        uv_close((uv_handle_t *)&r->pipe, on_closed);
        return 0;
    }
    if (strlen(socket_path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
        finish(r, "the control socket path is too long");
        return 0;
    }
    uv_timer_start(&r->timer, on_timeout, timeout_ms, 0);
    uv_pipe_connect(&r->connect, &r->pipe, socket_path, on_connected);
    return 0;
}
