/* Local operation of the instance on this machine: start the master in the
 * background and wait until every worker is ready, stop it gracefully and
 * wait until it is gone, show its status, roll its workers, apply the
 * migrations. The pid file and the control socket are the only handles on
 * a running master, as they are for systemd and for the updater. */
#include "cli.h"

#include "config.h"
#include "migrate.h"
#include "path.h"
#include "pidfile_read.h"
#include "settings.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PAYMENTS_SQL_DIR
#define PAYMENTS_SQL_DIR "sql"
#endif

#define POLL_MS 100
#define CONTROL_TIMEOUT_MS 5000

static int load_paths(cli_local_paths *paths)
{
    dotenv env;
    if (cli_settings_open(&env) < 0)
        return -1;
    char err[300];
    int rc = cli_local_paths_load(&env, paths, err, sizeof err);
    dotenv_free(&env);
    if (rc < 0)
        fprintf(stderr, "payments: %s\n", err);
    return rc;
}

/* --timeout SECONDS at argv[*i], a positive number, into *timeout_s. */
static bool timeout_option(int argc, char **argv, int *i, int *timeout_s)
{
    const char *value = cli_option_value(argc, argv, i, "--timeout");
    if (!value || atoi(value) <= 0)
        return false;
    *timeout_s = atoi(value);
    return true;
}

/* ---- start ---- */

/* payments-master beside this binary, unless PAYMENT_MASTER_BINARY says. */
static void master_binary(char *out, size_t len)
{
    const char *configured = getenv("PAYMENT_MASTER_BINARY");
    if (configured && *configured)
        snprintf(out, len, "%s", configured);
    else
        cli_sibling_binary("payments-master", out, len);
}

void cli_sibling_binary(const char *name, char *out, size_t len)
{
    char self[PATH_MAX];
    path_own_executable(self, sizeof self);
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    if (snprintf(out, len, "%s/%s", slash ? self : ".", name) >= (int)len)
        snprintf(out, len, "%s", name);
}

void cli_print_log_tail(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char text[4097];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > 4096 ? size - 4096 : 0, SEEK_SET);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *start = text + n;
    for (int lines = 0; start > text && lines <= 15;)
        if (*--start == '\n')
            lines++;
    fprintf(stderr, "last lines of %s:\n%s\n", path, start == text ? start : start + 1);
}

void cli_exec_background(char *const argv[], int log_fd)
{
    setsid();
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(log_fd, STDOUT_FILENO) < 0 ||
        dup2(log_fd, STDERR_FILENO) < 0)
        _exit(127);
    execv(argv[0], argv);
    fprintf(stderr, "payments: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Waits until the master reports every worker ready, or it dies, or time is up. */
static int wait_started(pid_t child, const cli_local_paths *paths, const char *log_path, int timeout_s)
{
    long long deadline = cli_now_ms() + (long long)timeout_s * 1000;
    while (cli_now_ms() < deadline) {
        int status;
        if (waitpid(child, &status, WNOHANG) == child) {
            fprintf(stderr, "payments start: payments-master %s %d during start-up\n",
                    WIFSIGNALED(status) ? "was killed by signal" : "exited with status",
                    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            cli_print_log_tail(log_path);
            return 1;
        }
        char err[300];
        json_t *doc = cli_control_json(paths->control_socket, CONTROL_STATUS, CONTROL_TIMEOUT_MS, err, sizeof err);
        bool all_ready = false;
        int ready = doc ? cli_ready_workers(doc, &all_ready) : 0;
        json_decref(doc);
        if (all_ready) {
            printf("payments-master started: pid %d, %d worker(s) ready; log: %s\n", (int)child, ready, log_path);
            return 0;
        }
        cli_sleep_ms(POLL_MS);
    }
    fprintf(stderr,
            "payments start: the workers were not all ready within %d s; payments-master (pid %d) keeps "
            "starting, see %s\n",
            timeout_s, (int)child, log_path);
    return 1;
}

int cli_start(int argc, char **argv)
{
    const char *log_option = NULL, *value;
    int timeout_s = 60;
    for (int i = 1; i < argc; i++) {
        if ((value = cli_option_value(argc, argv, &i, "--log")))
            log_option = value;
        else if (!timeout_option(argc, argv, &i, &timeout_s))
            return cli_usage_error(argv[0], "unexpected argument %s", argv[i]);
    }
    cli_local_paths paths;
    if (load_paths(&paths) < 0)
        return 1;
    pid_t running = pidfile_read_running(paths.pid_file);
    if (running) {
        fprintf(stderr, "payments start: payments-master is already running (pid %d)\n", (int)running);
        cli_local_paths_free(&paths);
        return 1;
    }
    const char *log_path = log_option ? log_option : *paths.log_file ? paths.log_file : "var/log/payments.log";
    int log_fd = path_make_parent(log_path) == 0 ? open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640) : -1;
    char binary[PATH_MAX];
    master_binary(binary, sizeof binary);
    pid_t child = log_fd < 0 ? -1 : fork();
    if (child == 0)
        cli_exec_background((char *const[]){binary, NULL}, log_fd);
    int rc = 1;
    if (child < 0)
        fprintf(stderr, "payments start: cannot %s: %s\n", log_fd < 0 ? "open the log file" : "fork", strerror(errno));
    else
        rc = wait_started(child, &paths, log_path, timeout_s);
    if (log_fd >= 0)
        close(log_fd);
    cli_local_paths_free(&paths);
    return rc;
}

/* ---- stop ---- */

int cli_stop(int argc, char **argv)
{
    bool fast = false;
    int timeout_s = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fast") == 0)
            fast = true;
        else if (!timeout_option(argc, argv, &i, &timeout_s))
            return cli_usage_error(argv[0], "unexpected argument %s", argv[i]);
    }
    cli_local_paths paths;
    if (load_paths(&paths) < 0)
        return 1;
    if (!timeout_s) /* the workers' drain limit, and time for the master to notice */
        timeout_s = (int)(paths.drain_timeout_ms / 1000) + 15;
    pid_t pid = pidfile_read_running(paths.pid_file);
    cli_local_paths_free(&paths);
    if (!pid) {
        printf("payments-master is not running\n");
        return 0;
    }
    if (kill(pid, fast ? SIGTERM : SIGQUIT) < 0) {
        fprintf(stderr, "payments stop: cannot signal pid %d: %s\n", (int)pid, strerror(errno));
        return 1;
    }
    return cli_wait_gone("payments-master", pid, timeout_s);
}

int cli_wait_gone(const char *program, pid_t pid, int timeout_s)
{
    long long deadline = cli_now_ms() + (long long)timeout_s * 1000;
    while (cli_now_ms() < deadline) {
        if (kill(pid, 0) < 0 && errno == ESRCH) {
            printf("%s (pid %d) stopped\n", program, (int)pid);
            return 0;
        }
        cli_sleep_ms(POLL_MS);
    }
    fprintf(stderr, "payments stop: %s (pid %d) is still running after %d s\n", program, (int)pid, timeout_s);
    return 1;
}

/* ---- status, reload, migrate ---- */

static int show_reload(json_t *answer)
{
    const char *refusal = json_string_value(json_object_get(answer, "error"));
    if (refusal)
        fprintf(stderr, "payments reload: %s\n", refusal);
    else
        printf("reloading: workers are replaced one at a time (see payments status)\n");
    return refusal ? 1 : 0;
}

/* Sends command, a command line without arguments, to the running master's
 * control socket and lets show print the answer; returns the exit status. */
static int ask_master(int argc, char **argv, control_command command, int (*show)(json_t *answer))
{
    if (argc > 1)
        return cli_usage_error(argv[0], "unexpected argument %s", argv[1]);
    cli_local_paths paths;
    if (load_paths(&paths) < 0)
        return 1;
    char err[300];
    json_t *answer = cli_control_json(paths.control_socket, command, CONTROL_TIMEOUT_MS, err, sizeof err);
    cli_local_paths_free(&paths);
    if (!answer) {
        fprintf(stderr, "payments %s: %s\n", argv[0], err);
        return 1;
    }
    int rc = show(answer);
    json_decref(answer);
    return rc;
}

int cli_status(int argc, char **argv)
{
    return ask_master(argc, argv, CONTROL_STATUS, cli_print_json);
}

int cli_reload(int argc, char **argv)
{
    return ask_master(argc, argv, CONTROL_RELOAD, show_reload);
}

int cli_migrate(int argc, char **argv)
{
    if (argc > 1)
        return cli_usage_error(argv[0], "unexpected argument %s", argv[1]);
    cfg c;
    char err[512];
    if (cfg_load(&c, err, sizeof err) < 0) {
        fprintf(stderr, "payments migrate: %s\n", err);
        return 1;
    }
    const char *dir = getenv("PAYMENT_SQL_DIR");
    char *conninfo = cfg_postgres_conninfo(&c);
    if (!conninfo)
        snprintf(err, sizeof err, "out of memory");
    int applied = conninfo
                      ? migrate_apply_granting(conninfo, c.postgres.schema, dir && *dir ? dir : PAYMENTS_SQL_DIR,
                                               cfg_setting(&c, "PAYMENT_POSTGRES_USERNAME_READONLY"), err, sizeof err)
                      : -1;
    free(conninfo);
    cfg_free(&c);
    if (applied < 0) {
        fprintf(stderr, "payments migrate: %s\n", err);
        return 1;
    }
    printf("%d migration(s) applied\n", applied);
    return 0;
}
