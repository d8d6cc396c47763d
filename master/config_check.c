/* config_check: before the first workers start and before a reload replaces
 * any, the master runs `<worker> --check-config` as a new worker would run
 * (its environment, its user), as nginx -t does, so the worker's own code
 * judges the configuration (routing table, vendor stores, a file the
 * workers' user cannot read) and the master links none of it.
 *
 * The check runs on a loop of its own and the caller waits for it: at a
 * reload the master's loop (supervision only) pauses for as long as the
 * check takes, normally milliseconds, never more than CHECK_LIMIT_MS. */
#include "master.h"

#include "error.h"
#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define CHECK_LIMIT_MS 10000
/* The worker prints its line as "payments-worker: <why>"; the master relays
 * <why> under its own name. */
#define WORKER_PREFIX "payments-worker: "
#define WARNING_PREFIX "warning: "
#define MAX_WARNINGS 32

typedef struct config_check {
    uv_loop_t loop;
    uv_process_t process;
    uv_pipe_t output; /* the check's stderr */
    uv_timer_t limit;
    char line[512];     /* the first line it printed but warnings */
    bool line_complete; /* line holds it */
    char pending[512];  /* the line being read */
    size_t pending_length;
    unsigned warnings;
    char chunk[512];
    int64_t status;
    int term_signal;
    bool timed_out;
    const char *trouble; /* why the check could not be watched, or NULL */
} config_check;

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    config_check *check = handle->data;
    *buf = uv_buf_init(check->chunk, sizeof check->chunk);
}

/* A warning line is relayed to the master's log (an unknown setting);
 * the first other line is the check's verdict. */
static void take_line(config_check *check)
{
    check->pending[check->pending_length] = '\0';
    const char *text = check->pending;
    if (strncmp(text, WORKER_PREFIX WARNING_PREFIX, strlen(WORKER_PREFIX WARNING_PREFIX)) == 0) {
        if (check->warnings++ < MAX_WARNINGS)
            log_warn("%s", text + strlen(WORKER_PREFIX WARNING_PREFIX));
    } else if (!check->line_complete) {
        snprintf(check->line, sizeof check->line, "%s", text);
        check->line_complete = true;
    }
    check->pending_length = 0;
}

/* Splits what the check prints into lines (a longer one is cut); read to
 * the end so that the check never blocks on a full pipe. */
static void take_output(config_check *check, const char *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '\n')
            take_line(check);
        else if (check->pending_length + 1 < sizeof check->pending)
            check->pending[check->pending_length++] = data[i];
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    config_check *check = stream->data;
    if (nread > 0) {
        take_output(check, buf->base, (size_t)nread);
    } else if (nread < 0) {
        if (check->pending_length)
            take_line(check);
        uv_close((uv_handle_t *)stream, NULL);
    }
}

static void on_check_exit(uv_process_t *process, int64_t status, int term_signal)
{
    config_check *check = process->data;
    check->status = status;
    check->term_signal = term_signal;
    uv_close((uv_handle_t *)&check->limit, NULL);
    uv_close((uv_handle_t *)process, NULL);
}

static void on_limit(uv_timer_t *timer)
{
    config_check *check = timer->data;
    check->timed_out = true;
    uv_process_kill(&check->process, SIGKILL);
}

/* Starts the check with the limit running. The handles (output, limit) are
 * initialized; on failure the caller closes them. */
static int spawn_check(config_check *check, const char *worker_path, const master_privilege *privilege, char *err,
                       size_t errlen)
{
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&check->output},
    };
    char *args[] = {(char *)worker_path, "--check-config", NULL};
    uv_process_options_t options = {
        .exit_cb = on_check_exit, .file = worker_path, .args = args, .stdio_count = 3, .stdio = stdio};
    if (privilege_spawn_options(privilege, &options) < 0)
        return error_format(err, errlen, "cannot check the workers' configuration: out of memory");
    int rc = uv_spawn(&check->loop, &check->process, &options);
    privilege_spawn_done(&options);
    if (rc < 0) {
        uv_close((uv_handle_t *)&check->process, NULL);
        return error_format(err, errlen, "cannot start worker %s%s%s: %s", worker_path,
                            privilege->drop ? " as user " : "", privilege->drop ? privilege->user.name : "",
                            uv_strerror(rc));
    }
    rc = uv_read_start((uv_stream_t *)&check->output, on_alloc, on_read);
    if (rc == 0)
        rc = uv_timer_start(&check->limit, on_limit, CHECK_LIMIT_MS, 0);
    if (rc < 0) {
        /* Unread or unbounded, it could block the master: it is stopped and
         * its exit (on_check_exit) closes what it holds. */
        uv_close((uv_handle_t *)&check->output, NULL);
        uv_process_kill(&check->process, SIGKILL);
        check->trouble = uv_strerror(rc);
    }
    return 0;
}

/* What the finished check says: 0, or -1 with one line in err. */
static int check_verdict(const config_check *check, const char *worker_path, char *err, size_t errlen)
{
    if (check->trouble)
        return error_format(err, errlen, "cannot watch %s --check-config: %s", worker_path, check->trouble);
    if (check->timed_out)
        return error_format(err, errlen, "%s --check-config did not finish within %d s", worker_path,
                            CHECK_LIMIT_MS / 1000);
    if (check->status == 0 && check->term_signal == 0)
        return 0;
    const char *why = check->line;
    if (strncmp(why, WORKER_PREFIX, strlen(WORKER_PREFIX)) == 0)
        why += strlen(WORKER_PREFIX);
    if (*why)
        return error_format(err, errlen, "%s", why);
    if (check->term_signal)
        return error_format(err, errlen, "%s --check-config was killed by signal %d", worker_path, check->term_signal);
    return error_format(err, errlen, "%s --check-config failed (exit status %lld) without saying why", worker_path,
                        (long long)check->status);
}

int config_check_workers(const char *worker_path, const master_privilege *privilege, char *err, size_t errlen)
{
    config_check check;
    memset(&check, 0, sizeof check);
    if (uv_loop_init(&check.loop) < 0)
        return error_format(err, errlen, "cannot check the workers' configuration: no event loop");
    check.process.data = &check;
    check.output.data = &check;
    check.limit.data = &check;
    int rc = uv_pipe_init(&check.loop, &check.output, 0);
    if (rc == 0 && (rc = uv_timer_init(&check.loop, &check.limit)) < 0)
        uv_close((uv_handle_t *)&check.output, NULL);
    if (rc < 0) {
        uv_run(&check.loop, UV_RUN_DEFAULT); /* lets the pipe close */
        uv_loop_close(&check.loop);
        return error_format(err, errlen, "cannot check the workers' configuration: %s", uv_strerror(rc));
    }
    rc = spawn_check(&check, worker_path, privilege, err, errlen);
    if (rc < 0) {
        uv_close((uv_handle_t *)&check.output, NULL);
        uv_close((uv_handle_t *)&check.limit, NULL);
    }
    uv_run(&check.loop, UV_RUN_DEFAULT); /* until the check exited and its output ended */
    uv_loop_close(&check.loop);
    return rc < 0 ? rc : check_verdict(&check, worker_path, err, errlen);
}
