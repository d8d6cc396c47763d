/* payments-master: binds the API port, applies migrations, starts the
 * workers and supervises them; it does no request work itself. Signals as
 * nginx: TERM/INT fast stop, QUIT graceful stop, HUP reload (re-read the
 * configuration and replace workers one at a time), USR1 reopen logs. */
#include "master.h"

#include "log.h"
#include "migrate.h"
#include "sd_notify.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PAYMENTS_SQL_DIR
#define PAYMENTS_SQL_DIR "sql"
#endif

static void usage(FILE *out)
{
    fputs("usage: payments-master [--no-migrate] [--help]\n"
          "\n"
          "Binds PAYMENT_API_HOST:PAYMENT_API_PORT, applies the sql/ migrations, starts\n"
          "PAYMENT_WORKERS payments-worker processes and keeps them running.\n"
          "Configuration: the environment and PAYMENT_ENV_FILE (default .env).\n"
          "\n"
          "  --no-migrate  do not apply migrations at start-up\n"
          "  --help        this text\n"
          "\n"
          "Signals: TERM/INT fast stop, QUIT graceful stop, HUP reload configuration and\n"
          "replace workers one at a time, USR1 reopen log files, USR2 upgrade: start the\n"
          "master binary anew on the same socket, then drain and exit once it is ready.\n"
          "Control socket (PAYMENT_CONTROL_SOCKET): \"status\", \"reload\" or \"upgrade\".\n",
          out);
}

/* Publishes the served commit to the workers started from now on. */
static void refresh_commit(master *m)
{
    free(m->commit_json);
    m->commit_json = commit_info_json();
    if (m->commit_json)
        setenv("PAYMENT_COMMIT", m->commit_json, 1);
}

void master_reload(master *m)
{
    cfg fresh;
    master_privilege privilege;
    char err[512];
    if (cfg_load(&fresh, err, sizeof err) < 0) {
        cfg_free(&fresh); /* a failed cfg_load leaves it empty: freeing is harmless */
        log_error("reload refused, configuration unchanged: %s", err);
        return;
    }
    /* The new workers' user and environment, then the check they pass. */
    if (privilege_prepare(&privilege, &fresh, err, sizeof err) < 0) {
        log_error("reload refused, configuration unchanged: %s", err);
        cfg_free(&fresh);
        return;
    }
    if (config_check_workers(fresh.worker_path, &privilege, err, sizeof err) < 0) {
        log_error("reload refused, configuration unchanged: %s", err);
        privilege_clear(&privilege);
        cfg_free(&fresh);
        return;
    }
    privilege_clear(&m->privilege);
    m->privilege = privilege;
    if (fresh.api_port != m->config.api_port || strcmp(fresh.host, m->config.host) != 0)
        log_warn("reload: a new API address takes effect only after a restart");
    if (fresh.admin_port != m->config.admin_port || strcmp(fresh.admin_host, m->config.admin_host) != 0)
        log_warn("reload: a new operators' address takes effect only after a restart");
    cfg_free(&m->config);
    m->config = fresh;
    if (log_open("master", m->config.log_file) < 0)
        log_error("cannot open the log file");
    log_set_format(m->config.log_format);
    privilege_own_log(&m->privilege, m->config.log_file);
    refresh_commit(m);
    sd_notify_send("RELOADING=1");
    supervisor_roll(m);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    master *m = handle->data;
    switch (signum) {
    case SIGTERM:
    case SIGINT:
        supervisor_stop(m, STOP_FAST);
        break;
    case SIGQUIT:
        supervisor_stop(m, STOP_GRACEFUL);
        break;
    case SIGHUP:
        log_info("SIGHUP: reloading");
        master_reload(m);
        break;
    case SIGUSR2: {
        char err[256];
        if (upgrade_start(m, err, sizeof err) < 0)
            log_error("SIGUSR2: %s", err);
        break;
    }
    case SIGUSR1:
        if (log_reopen() < 0)
            log_error("cannot reopen the log file");
        else
            log_info("log file reopened");
        privilege_own_log(&m->privilege, m->config.log_file);
        for (worker_slot *s = m->slots; s; s = s->next)
            kill(s->pid, SIGUSR1);
        break;
    }
}

static const int watched_signals[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2};
#define SIGNAL_COUNT (sizeof watched_signals / sizeof watched_signals[0])

/* The master's own handles exist from the start, so every exit path can
 * close them the same way whether or not they were started. */
static int init_handles(master *m)
{
    _Static_assert(SIGNAL_COUNT == sizeof m->signals / sizeof m->signals[0], "one handle per signal");
    m->tick.data = m;
    if (uv_timer_init(m->loop, &m->tick) < 0)
        return -1;
    for (size_t i = 0; i < SIGNAL_COUNT; i++) {
        m->signals[i].data = m;
        if (uv_signal_init(m->loop, &m->signals[i]) < 0)
            return -1;
    }
    return 0;
}

static int watch_signals(master *m)
{
    for (size_t i = 0; i < SIGNAL_COUNT; i++)
        if (uv_signal_start(&m->signals[i], on_signal, watched_signals[i]) < 0)
            return -1;
    return 0;
}

static int apply_migrations(const cfg *c)
{
    const char *dir = getenv("PAYMENT_SQL_DIR");
    char *conninfo = cfg_postgres_conninfo(c);
    char err[512];
    int applied = conninfo
                      ? migrate_apply_granting(conninfo, c->postgres.schema, dir && *dir ? dir : PAYMENTS_SQL_DIR,
                                               cfg_setting(c, "PAYMENT_POSTGRES_USERNAME_READONLY"), err, sizeof err)
                      : -1;
    free(conninfo);
    if (applied < 0) {
        log_error("migrations failed: %s", conninfo ? err : "out of memory");
        return -1;
    }
    log_info("migrations: %d applied", applied);
    return 0;
}

/* The master being upgraded from, when we are its successor. */
static int predecessor_pid(void)
{
    const char *v = getenv("PAYMENT_UPGRADE_FROM");
    int pid = v ? atoi(v) : 0;
    unsetenv("PAYMENT_UPGRADE_FROM");
    return pid;
}

/* The workers' shared counters; without them each worker counts alone
 * (the scrape then shows one worker's figures), which is logged. Made anew
 * by each master: a binary upgrade (USR2) starts the counts again. */
static void open_metrics(master *m)
{
    char err[256];
    m->metrics = metrics_region_create(&m->metrics_fd, err, sizeof err);
    if (!m->metrics) {
        log_warn("%s: /metrics shows one worker's counts only", err);
        unsetenv("PAYMENT_METRICS_FD");
        return;
    }
    atomic_store(&m->metrics->master_pid, (int32_t)getpid());
    supervisor_publish_figures(m); /* then once a second, from the tick */
    setenv("PAYMENT_METRICS_FD", "6", 1);
}

static int start_master(master *m, int migrate)
{
    char err[256];
    if (pidfile_write(m->config.pid_file, "master", predecessor_pid(), err, sizeof err) < 0) {
        log_error("%s", err);
        return -1;
    }
    if (migrate && (apply_migrations(&m->config) < 0 || key_check_database(&m->config) < 0))
        return -1;
    if (upgrade_adopt(m) < 0)
        return -1;
    if (m->listen_fd < 0)
        m->listen_fd = listener_open(m->config.host, m->config.api_port, err, sizeof err);
    if (m->listen_fd >= 0 && m->admin_fd < 0)
        m->admin_fd = listener_open(m->config.admin_host, m->config.admin_port, err, sizeof err);
    if (m->listen_fd < 0 || m->admin_fd < 0) {
        log_error("%s", err);
        return -1;
    }
    refresh_commit(m);
    open_metrics(m);
    /* Workers find their inherited descriptors here (see supervisor.c). */
    setenv("PAYMENT_LISTEN_FD", "3", 1);
    setenv("PAYMENT_IPC_FD", "4", 1);
    setenv("PAYMENT_ADMIN_LISTEN_FD", "5", 1);
    if (watch_signals(m) < 0 || control_open(m) < 0 || supervisor_start(m) < 0) {
        log_error("start-up failed");
        return -1;
    }
    log_info("master ready: %d workers on %s:%d, operators on %s:%d (%s mode)", m->config.workers, m->config.host,
             m->config.api_port, m->config.admin_host, listener_port(m->admin_fd), cfg_mode_name(m->config.mode));
    privilege_describe(&m->privilege);
    return 0;
}

/* Resolved once at start: after a rebuild /proc/self/exe names a deleted
 * file, while the path then holds the new binary an upgrade should run. */
static char *own_binary_path(const char *argv0)
{
    char path[4096];
    size_t size = sizeof path;
    if (uv_exepath(path, &size) == 0)
        return strdup(path);
    return strdup(argv0);
}

/* Start-up failed before any worker ran: undo what was done. */
static void abandon_start(master *m)
{
    listener_close(&m->listen_fd);
    listener_close(&m->admin_fd);
    control_close(m);
    uv_close((uv_handle_t *)&m->tick, NULL);
    for (size_t i = 0; i < SIGNAL_COUNT; i++)
        uv_close((uv_handle_t *)&m->signals[i], NULL);
    pidfile_remove(m->config.pid_file);
}

int main(int argc, char **argv)
{
    int migrate = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--no-migrate") == 0) {
            migrate = 0;
        } else {
            fprintf(stderr, "payments-master: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    static master m;
    char err[512];
    if (cfg_load(&m.config, err, sizeof err) < 0) {
        fprintf(stderr, "payments-master: %s\n", err);
        return 1;
    }
    if (privilege_prepare(&m.privilege, &m.config, err, sizeof err) < 0) {
        fprintf(stderr, "payments-master: %s\n", err);
        cfg_free(&m.config);
        return 1;
    }
    if (log_open("master", m.config.log_file) < 0)
        fprintf(stderr, "payments-master: cannot open log file, logging to stderr\n");
    log_set_format(m.config.log_format);
    if (config_check_workers(m.config.worker_path, &m.privilege, err, sizeof err) < 0) {
        fprintf(stderr, "payments-master: %s\n", err);
        privilege_clear(&m.privilege);
        cfg_free(&m.config);
        return 1;
    }
    privilege_own_log(&m.privilege, m.config.log_file);
    signal(SIGPIPE, SIG_IGN);
    m.loop = uv_default_loop();
    m.started_at = time(NULL);
    m.listen_fd = -1;
    m.admin_fd = -1;
    m.metrics_fd = -1;
    m.generation = 1;
    m.argv = argv;
    m.binary_path = own_binary_path(argv[0]);
    if (init_handles(&m) < 0) {
        log_error("cannot initialize the event loop");
        return 1;
    }
    int rc = start_master(&m, migrate);
    if (rc < 0)
        abandon_start(&m);
    uv_run(m.loop, UV_RUN_DEFAULT);
    uv_loop_close(m.loop);
    cfg_free(&m.config);
    privilege_clear(&m.privilege);
    free(m.binary_path);
    free(m.commit_json);
    metrics_region_unmap(m.metrics);
    if (m.metrics_fd >= 0)
        close(m.metrics_fd);
    log_close();
    return rc < 0 ? 1 : 0;
}
