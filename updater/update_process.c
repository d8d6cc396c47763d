/* A child process of an update. It runs in a session of its own, so that a
 * timeout can stop everything it started (cmake starts make or ninja, which
 * start compilers) with one kill of the group. The record completes when the
 * child has exited and its pipes are drained, or one second after the exit
 * if a grandchild keeps them open; then every handle is closed and, from the
 * last close callback, the owner is told. */
#include "update_process.h"

#include "updater_read.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

#define TAIL_BYTES 16384
#define KILL_GRACE_MS 5000
#define PIPE_GRACE_MS 1000

typedef enum process_phase { PHASE_RUNNING, PHASE_TERMINATING, PHASE_KILLED, PHASE_EXITED } process_phase;

struct update_process {
    uv_process_t process;
    uv_pipe_t out;
    uv_pipe_t err;
    uv_timer_t timer;
    int open_handles;
    int open_pipes;
    process_phase phase;
    bool closing;
    bool timed_out;
    int spawn_error;
    int64_t exit_status;
    int term_signal;
    char program[256];
    char tail[TAIL_BYTES];
    size_t tail_len;
    update_process_cb cb;
    void *data;
};

static void append_output(update_process *p, const char *bytes, size_t len)
{
    if (len >= TAIL_BYTES) {
        bytes += len - TAIL_BYTES;
        len = TAIL_BYTES;
    }
    if (p->tail_len + len > TAIL_BYTES) {
        size_t drop = p->tail_len + len - TAIL_BYTES;
        memmove(p->tail, p->tail + drop, p->tail_len - drop);
        p->tail_len -= drop;
    }
    memcpy(p->tail + p->tail_len, bytes, len);
    p->tail_len += len;
}

/* The last UPDATE_PROCESS_TAIL_LINES lines of the output, NUL-terminated in place. */
static const char *output_tail(update_process *p)
{
    while (p->tail_len > 0 && (p->tail[p->tail_len - 1] == '\n' || p->tail[p->tail_len - 1] == '\r'))
        p->tail_len--;
    if (p->tail_len == TAIL_BYTES)
        p->tail_len--;
    p->tail[p->tail_len] = '\0';
    const char *start = p->tail + p->tail_len;
    int lines = 0;
    while (start > p->tail && lines < UPDATE_PROCESS_TAIL_LINES) {
        start--;
        if (*start == '\n' && ++lines == UPDATE_PROCESS_TAIL_LINES)
            start++;
    }
    return start;
}

static void describe_failure(const update_process *p, char *out, size_t len)
{
    if (p->spawn_error)
        snprintf(out, len, "cannot run %s: %s", p->program, uv_strerror(p->spawn_error));
    else if (p->timed_out)
        snprintf(out, len, "%s did not finish in time and was stopped", p->program);
    else if (p->term_signal)
        snprintf(out, len, "%s was killed by signal %d (%s)", p->program, p->term_signal, strsignal(p->term_signal));
    else
        snprintf(out, len, "%s exited with status %lld", p->program, (long long)p->exit_status);
}

static void on_handle_closed(uv_handle_t *handle)
{
    update_process *p = handle->data;
    if (--p->open_handles > 0)
        return;
    char error[512];
    bool ok = !p->spawn_error && !p->timed_out && !p->term_signal && p->exit_status == 0;
    if (!ok)
        describe_failure(p, error, sizeof error);
    update_process_result result = {.ok = ok,
                                    .exit_status = p->exit_status,
                                    .term_signal = p->term_signal,
                                    .timed_out = p->timed_out,
                                    .error = ok ? NULL : error,
                                    .output = output_tail(p)};
    p->cb(&result, p->data);
    free(p);
}

/* Closes the handles initialized so far (in the order init_handles makes them). */
static void finish(update_process *p)
{
    if (p->closing)
        return;
    p->closing = true;
    uv_handle_t *handles[] = {(uv_handle_t *)&p->timer, (uv_handle_t *)&p->out, (uv_handle_t *)&p->err,
                              (uv_handle_t *)&p->process};
    int initialized = p->open_handles;
    for (int i = 0; i < initialized; i++)
        uv_close(handles[i], on_handle_closed);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    update_process *p = stream->data;
    if (nread > 0) {
        append_output(p, buf->base, (size_t)nread);
        return;
    }
    if (nread == 0)
        return;
    uv_read_stop(stream);
    p->open_pipes--;
    if (p->phase == PHASE_EXITED && p->open_pipes == 0)
        finish(p);
}

static void signal_group(update_process *p, int signum)
{
    if (p->process.pid > 0 && kill(-p->process.pid, signum) < 0 && errno == ESRCH)
        kill(p->process.pid, signum);
}

static void on_timer(uv_timer_t *timer)
{
    update_process *p = timer->data;
    switch (p->phase) {
    case PHASE_RUNNING:
        p->timed_out = true;
        p->phase = PHASE_TERMINATING;
        signal_group(p, SIGTERM);
        uv_timer_start(&p->timer, on_timer, KILL_GRACE_MS, 0);
        break;
    case PHASE_TERMINATING:
        p->phase = PHASE_KILLED;
        signal_group(p, SIGKILL);
        uv_timer_start(&p->timer, on_timer, KILL_GRACE_MS, 0);
        break;
    case PHASE_KILLED:
        signal_group(p, SIGKILL);
        uv_timer_start(&p->timer, on_timer, KILL_GRACE_MS, 0);
        break;
    case PHASE_EXITED:
        finish(p); /* a grandchild holds the pipes open: stop waiting for them */
        break;
    }
}

static void on_process_exit(uv_process_t *process, int64_t exit_status, int term_signal)
{
    update_process *p = process->data;
    p->exit_status = exit_status;
    p->term_signal = term_signal;
    p->phase = PHASE_EXITED;
    if (p->open_pipes == 0)
        finish(p);
    else
        uv_timer_start(&p->timer, on_timer, PIPE_GRACE_MS, 0);
}

/* environ without the names extra overrides, then extra. Caller frees the array only. */
static char **merged_environment(const char *const *extra)
{
    size_t count = 0, extra_count = 0;
    while (environ[count])
        count++;
    while (extra && extra[extra_count])
        extra_count++;
    char **env = calloc(count + extra_count + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        size_t name_len = strcspn(environ[i], "=");
        bool overridden = false;
        for (size_t j = 0; j < extra_count && !overridden; j++)
            overridden = strncmp(extra[j], environ[i], name_len) == 0 && extra[j][name_len] == '=';
        if (!overridden)
            env[n++] = environ[i];
    }
    for (size_t j = 0; j < extra_count; j++)
        env[n++] = (char *)extra[j];
    return env;
}

/* Initializes the timer and both pipes, counting each in open_handles. */
static int init_handles(uv_loop_t *loop, update_process *p)
{
    int rc = uv_timer_init(loop, &p->timer);
    if (rc < 0)
        return rc;
    p->open_handles++;
    rc = uv_pipe_init(loop, &p->out, 0);
    if (rc < 0)
        return rc;
    p->open_handles++;
    rc = uv_pipe_init(loop, &p->err, 0);
    if (rc < 0)
        return rc;
    p->open_handles++;
    return 0;
}

static int spawn(uv_loop_t *loop, update_process *p, const update_process_options *options, char **env)
{
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->err},
    };
    uv_process_options_t spawn_options = {.exit_cb = on_process_exit,
                                          .file = options->argv[0],
                                          .args = (char **)options->argv,
                                          .env = env,
                                          .cwd = options->cwd,
                                          .flags = UV_PROCESS_DETACHED,
                                          .stdio_count = 3,
                                          .stdio = stdio};
    int rc = uv_spawn(loop, &p->process, &spawn_options);
    p->open_handles++; /* the process handle needs closing even when spawn failed */
    return rc;
}

update_process *update_process_start(uv_loop_t *loop, const update_process_options *options, update_process_cb cb,
                                     void *data)
{
    char **env = merged_environment(options->extra_env);
    update_process *p = env ? calloc(1, sizeof *p) : NULL;
    if (!p) {
        free(env);
        return NULL;
    }
    p->cb = cb;
    p->data = data;
    p->process.data = p->out.data = p->err.data = p->timer.data = p;
    snprintf(p->program, sizeof p->program, "%s", options->argv[0]);
    int rc = init_handles(loop, p);
    if (rc == 0)
        rc = spawn(loop, p, options, env);
    free(env);
    if (rc < 0) {
        if (p->open_handles == 0) {
            free(p);
            return NULL;
        }
        p->spawn_error = rc;
        p->phase = PHASE_EXITED;
        finish(p);
        return p;
    }
    p->open_pipes = 2;
    if (uv_read_start((uv_stream_t *)&p->out, updater_read_alloc, on_read) < 0)
        p->open_pipes--;
    if (uv_read_start((uv_stream_t *)&p->err, updater_read_alloc, on_read) < 0)
        p->open_pipes--;
    if (options->timeout_ms)
        uv_timer_start(&p->timer, on_timer, options->timeout_ms, 0);
    return p;
}
void update_process_cancel(update_process *p)
{
    if (p->phase != PHASE_RUNNING)
        return;
    p->phase = PHASE_TERMINATING;
    signal_group(p, SIGTERM);
    uv_timer_start(&p->timer, on_timer, KILL_GRACE_MS, 0);
}
