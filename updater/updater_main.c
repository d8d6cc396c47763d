/* payments-updater: the daemon that updates instances. `master` listens for
 * slaves and for `payments update`, and updates its own instance as well;
 * `slave` connects to the master and updates its instance when told. After
 * an update that rebuilt the updater itself, it re-executes the new binary
 * once the result went out. Signals: TERM, INT and QUIT stop (an update in
 * progress is cancelled, its child processes terminated); USR1 reopens the log. */
#include "updater.h"

#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int watched_signals[] = {SIGTERM, SIGINT, SIGQUIT, SIGUSR1};
#define SIGNAL_COUNT (sizeof watched_signals / sizeof watched_signals[0])

typedef struct updater_process {
    updater app;
    uv_signal_t signals[SIGNAL_COUNT];
    size_t signals_initialized;
} updater_process;

static void usage(FILE *out)
{
    fputs("usage: payments-updater master|slave [--master HOST[:PORT]] [--log FILE] [--help]\n"
          "\n"
          "  master   listen on PAYMENT_UPDATOR_BIND:PAYMENT_UPDATOR_PORT (0.0.0.0:37820) for slave\n"
          "           updaters and `payments update`; update this instance too\n"
          "  slave    connect to the master updater (--master, PAYMENT_UPDATOR_MASTER, or\n"
          "           PAYMENT_UPDATOR_HOST_<PAYMENT_MODE>) and update this instance when told\n"
          "\n"
          "Every link proves PAYMENT_SYSTEM_PASSWORD by HMAC challenge-response; the secret\n"
          "never crosses the network. An update: git pull --ff-only in PAYMENT_UPDATE_CHECKOUT\n"
          "(default: the working directory), cmake --build PAYMENT_UPDATE_BUILD_DIR (default\n"
          "build/) of the binaries that run, payments migrate, then the local master\n"
          "(PAYMENT_CONTROL_SOCKET) reloads its workers, or upgrades itself when its binary\n"
          "changed. A failed step leaves the old version serving.\n"
          "\n"
          "Signals: TERM/INT/QUIT stop (cancelling an update in progress), USR1 reopens the log\n"
          "(--log FILE, else PAYMENT_UPDATER_LOG_FILE, default stderr). The pid file is\n"
          "PAYMENT_UPDATER_PID_FILE (default var/run/payments-updater.pid): a second updater\n"
          "on it refuses to start. `payments updater start|stop|status` manage it.\n",
          out);
}

static void stop(updater_process *p)
{
    updater *u = &p->app;
    if (u->stopping)
        return;
    u->stopping = true;
    log_info("stopping");
    updater_master_stop(u);
    updater_slave_stop(u);
    for (size_t i = 0; i < p->signals_initialized; i++)
        uv_close((uv_handle_t *)&p->signals[i], NULL);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    updater_process *p = handle->data;
    if (signum == SIGUSR1) {
        if (log_reopen() < 0)
            log_error("cannot reopen the log file");
        return;
    }
    stop(p);
}

void updater_idle(updater *u)
{
    if (!u->restart_requested || u->stopping)
        return;
    log_info("the updater binary was rebuilt: re-executing %s", u->config.self_path);
    execv(u->config.self_path, u->argv);
    log_error("cannot re-execute %s: %s; carrying on with the running binary", u->config.self_path, strerror(errno));
    u->restart_requested = false;
}

static int start_role(updater_process *p, const char *role)
{
    updater *u = &p->app;
    for (size_t i = 0; i < SIGNAL_COUNT; i++) {
        p->signals[i].data = p;
        if (uv_signal_init(u->loop, &p->signals[i]) < 0)
            return -1;
        p->signals_initialized++;
        if (uv_signal_start(&p->signals[i], on_signal, watched_signals[i]) < 0)
            return -1;
    }
    return strcmp(role, "master") == 0 ? updater_master_start(u) : updater_slave_start(u);
}

/* Returns the role, or NULL after printing why the arguments are wrong. */
static const char *parse_arguments(int argc, char **argv, updater_overrides *overrides, int *exit_code)
{
    const char *role = NULL;
    *exit_code = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            *exit_code = 0;
            return NULL;
        } else if (strcmp(argv[i], "--master") == 0 && i + 1 < argc) {
            overrides->master = argv[++i];
        } else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
            overrides->log = argv[++i];
        } else if (!role && (strcmp(argv[i], "master") == 0 || strcmp(argv[i], "slave") == 0)) {
            role = argv[i];
        } else {
            fprintf(stderr, "payments-updater: unexpected argument %s\n", argv[i]);
            usage(stderr);
            return NULL;
        }
    }
    if (!role) {
        usage(stderr);
        return NULL;
    }
    return role;
}

int main(int argc, char **argv)
{
    updater_overrides overrides = {NULL, NULL};
    int exit_code;
    const char *role = parse_arguments(argc, argv, &overrides, &exit_code);
    if (!role)
        return exit_code;
    static updater_process process;
    updater *u = &process.app;
    char err[300];
    if (updater_config_load(&u->config, &overrides, err, sizeof err) < 0) {
        fprintf(stderr, "payments-updater: %s\n", err);
        return 1;
    }
    if (log_open(strcmp(role, "master") == 0 ? "updater-master" : "updater-slave", u->config.log_file) < 0)
        fprintf(stderr, "payments-updater: cannot open the log file, logging to stderr\n");
    if (updater_state_start(u, err, sizeof err) < 0) {
        log_error("%s", err);
        updater_config_free(&u->config);
        log_close();
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    u->loop = uv_default_loop();
    u->argv = argv;
    int rc = start_role(&process, role);
    if (rc < 0) {
        log_error("start-up failed");
        stop(&process);
    } else {
        updater_state_write(u);
    }
    uv_run(u->loop, UV_RUN_DEFAULT);
    updater_state_remove(u);
    updater_master_free(u);
    updater_slave_free(u);
    if (uv_loop_close(u->loop) != 0)
        log_warn("handles still open at exit");
    updater_config_free(&u->config);
    log_close();
    return rc < 0 ? 1 : 0;
}
