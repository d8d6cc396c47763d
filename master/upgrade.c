/* Binary upgrade, nginx-style. The old master execs the master binary anew
 * (a successor) with the listening socket on fd 3, a pipe on fd 4 and the
 * operators' listening socket on fd 5; the
 * successor starts its workers and writes "ready" on the pipe, and only then
 * does the old master drain its own workers and exit. The listening socket
 * never closes, so no connection is refused. If the successor dies or does
 * not report ready in time, the old master takes back its pid file and
 * control socket and keeps serving. The control socket is closed for the
 * moment of the hand-over: commands then fail and are retried. */
#include "master.h"

#include "log.h"
#include "sd_notify.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SUCCESSOR_READY_LIMIT_MS 60000

static void free_handle(uv_handle_t *handle)
{
    free(handle);
}

static void forget_successor(master *m)
{
    if (m->successor_ipc)
        ipc_close(m->successor_ipc);
    m->successor_ipc = NULL;
    if (m->successor)
        uv_close((uv_handle_t *)m->successor, free_handle); /* does not kill it */
    m->successor = NULL;
}

/* The successor serves: hand over and leave. */
static void successor_ready(master *m)
{
    log_info("upgrade: new master (pid %d) is ready; draining the old workers", m->successor->pid);
    m->handed_over = true;
    forget_successor(m);
    supervisor_stop(m, STOP_GRACEFUL);
}

static void on_successor_ready(const char *payload, void *data)
{
    (void)payload;
    master *m = data;
    if (m->successor)
        successor_ready(m);
}

/* The successor says one thing, once: ready. Its pipe closing is its exit,
 * which on_successor_exit handles. */
static const ipc_handler successor_messages[IPC_KIND_COUNT] = {[IPC_READY] = on_successor_ready};

static void on_successor_message(ipc_channel *ch, const char *line, void *data)
{
    if (line)
        ipc_dispatch(ch, line, successor_messages, data);
}

/* The successor failed before it was ready: take back what it may have taken. */
static void on_successor_exit(uv_process_t *process, int64_t status, int term_signal)
{
    master *m = process->data;
    log_error("upgrade failed: the new master (pid %d) %s %d before it was ready; the old master keeps serving",
              process->pid, term_signal ? "died of signal" : "exited with status",
              term_signal ? term_signal : (int)status);
    forget_successor(m);
    char err[256];
    if (pidfile_write(m->config.pid_file, "master", 0, err, sizeof err) < 0)
        log_error("%s", err);
    if (control_open(m) < 0)
        log_error("the control socket could not be taken back");
}

void upgrade_check(master *m)
{
    if (m->successor && uv_now(m->loop) - m->successor_started_ms > SUCCESSOR_READY_LIMIT_MS) {
        log_error("upgrade: the new master (pid %d) is not ready after %d s: killing it", m->successor->pid,
                  SUCCESSOR_READY_LIMIT_MS / 1000);
        kill(m->successor->pid, SIGKILL);
        m->successor_started_ms = uv_now(m->loop); /* once per period */
    }
}

static int spawn_successor(master *m, char *err, size_t errlen)
{
    uv_stdio_container_t stdio[6] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = STDOUT_FILENO},
        {.flags = UV_INHERIT_FD, .data.fd = STDERR_FILENO},
        {.flags = UV_INHERIT_FD, .data.fd = m->listen_fd},
        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE | UV_WRITABLE_PIPE,
         .data.stream = (uv_stream_t *)ipc_pipe(m->successor_ipc)},
        {.flags = UV_INHERIT_FD, .data.fd = m->admin_fd},
    };
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    /* The child copies the environment at spawn time; ours is restored at once. */
    setenv("PAYMENT_INHERITED_LISTEN_FD", "3", 1);
    setenv("PAYMENT_UPGRADE_IPC_FD", "4", 1);
    setenv("PAYMENT_INHERITED_ADMIN_FD", "5", 1);
    setenv("PAYMENT_UPGRADE_FROM", pid, 1);
    uv_process_options_t options = {
        .exit_cb = on_successor_exit,
        .file = m->binary_path,
        .args = m->argv,
        .stdio_count = 6,
        .stdio = stdio,
        .flags = UV_PROCESS_DETACHED, /* outlives us, outside our process group */
    };
    int rc = uv_spawn(m->loop, m->successor, &options);
    unsetenv("PAYMENT_INHERITED_LISTEN_FD");
    unsetenv("PAYMENT_UPGRADE_IPC_FD");
    unsetenv("PAYMENT_INHERITED_ADMIN_FD");
    unsetenv("PAYMENT_UPGRADE_FROM");
    if (rc < 0)
        snprintf(err, errlen, "cannot start %s: %s", m->binary_path, uv_strerror(rc));
    return rc;
}

int upgrade_start(master *m, char *err, size_t errlen)
{
    if (m->successor || m->stopping != STOP_NONE || m->listen_fd < 0 || m->admin_fd < 0) {
        snprintf(err, errlen, "%s", m->successor ? "an upgrade is already running" : "the master is stopping");
        return -1;
    }
    m->successor = calloc(1, sizeof *m->successor);
    m->successor_ipc = m->successor ? ipc_create(m->loop, "new master", on_successor_message, m) : NULL;
    if (!m->successor_ipc) {
        free(m->successor);
        m->successor = NULL;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->successor->data = m;
    /* Closing a bound pipe unlinks its path, so ours goes before the new
     * master binds the same path, never after. */
    control_close(m);
    if (spawn_successor(m, err, errlen) < 0) {
        if (control_open(m) < 0)
            log_error("the control socket could not be reopened");
        ipc_close(m->successor_ipc);
        m->successor_ipc = NULL;
        uv_close((uv_handle_t *)m->successor, free_handle);
        m->successor = NULL;
        log_error("upgrade: %s", err);
        return -1;
    }
    m->successor_started_ms = uv_now(m->loop);
    if (ipc_start(m->successor_ipc) < 0)
        log_error("upgrade: cannot read the new master's pipe");
    log_info("upgrade: new master started (pid %d) from %s", m->successor->pid, m->binary_path);
    return 0;
}

static int env_fd(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : -1;
}

int upgrade_adopt(master *m)
{
    int listen_fd = env_fd("PAYMENT_INHERITED_LISTEN_FD");
    int pipe_fd = env_fd("PAYMENT_UPGRADE_IPC_FD");
    int admin_fd = env_fd("PAYMENT_INHERITED_ADMIN_FD");
    unsetenv("PAYMENT_INHERITED_LISTEN_FD");
    unsetenv("PAYMENT_UPGRADE_IPC_FD");
    unsetenv("PAYMENT_INHERITED_ADMIN_FD");
    if (listen_fd < 0)
        return 0;
    /* Our children get their own copies through uv_spawn; nothing else should. */
    fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
    if (pipe_fd >= 0)
        fcntl(pipe_fd, F_SETFD, FD_CLOEXEC);
    /* An old master without an operators' listener hands none down: ours
     * is then bound anew (start_master). */
    if (admin_fd >= 0)
        fcntl(admin_fd, F_SETFD, FD_CLOEXEC);
    m->listen_fd = listen_fd;
    m->admin_fd = admin_fd;
    log_info("upgrade: serving the inherited listening sockets");
    if (pipe_fd < 0)
        return 0;
    m->predecessor_ipc = ipc_create(m->loop, "old master", NULL, NULL); /* written to, never read */
    if (!m->predecessor_ipc || ipc_open_fd(m->predecessor_ipc, pipe_fd) < 0) {
        log_error("upgrade: cannot open the pipe to the old master");
        return -1;
    }
    return 0;
}

void upgrade_announce_ready(master *m)
{
    char state[64];
    snprintf(state, sizeof state, "MAINPID=%d\nREADY=1", (int)getpid());
    sd_notify_send(state);
    if (!m->predecessor_ipc)
        return;
    ipc_send_ready(m->predecessor_ipc);
    ipc_close(m->predecessor_ipc);
    m->predecessor_ipc = NULL;
}
