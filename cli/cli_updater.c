/* `payments updater start|stop|status`: the updater on this machine, managed
 * as `payments start|stop|status` manage the master. Its pid file
 * (PAYMENT_UPDATER_PID_FILE) names it; its state file beside it tells the
 * role, the instances a master has linked and a slave's link. */
#include "cli.h"

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
#include <time.h>
#include <unistd.h>

#define POLL_MS 100
#define DEFAULT_LOG "var/log/payments-updater.log"

typedef struct updater_files {
    char pid_file[PATH_MAX];
    char state_file[PATH_MAX];
    char log_file[PATH_MAX]; /* PAYMENT_UPDATER_LOG_FILE, else the default */
} updater_files;

static int files_load(updater_files *files)
{
    dotenv env;
    if (cli_settings_open(&env) < 0)
        return -1;
    const char *pid_file = settings_updater_pid_file(&env);
    char *state_file = settings_updater_state_file(pid_file);
    snprintf(files->pid_file, sizeof files->pid_file, "%s", pid_file);
    snprintf(files->state_file, sizeof files->state_file, "%s", state_file ? state_file : "");
    snprintf(files->log_file, sizeof files->log_file, "%s",
             settings_get(&env, "PAYMENT_UPDATER_LOG_FILE", DEFAULT_LOG));
    free(state_file);
    dotenv_free(&env);
    if (!*files->state_file) {
        fprintf(stderr, "payments updater: out of memory\n");
        return -1;
    }
    return 0;
}

/* Loads the files and the pid of the live updater they name: 0 after
 * saying that none runs, -1 after saying why the settings cannot be read. */
static pid_t running_updater(updater_files *files)
{
    if (files_load(files) < 0)
        return -1;
    pid_t pid = pidfile_read_running(files->pid_file);
    if (!pid)
        printf("payments-updater is not running (%s)\n", files->pid_file);
    return pid;
}

/* The state document of the updater with this pid, or NULL (not written yet). */
static json_t *state_of(const updater_files *files, pid_t pid)
{
    json_t *doc = json_load_file(files->state_file, 0, NULL);
    if (json_integer_value(json_object_get(doc, "pid")) != (json_int_t)pid) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---- start ---- */

/* Waits until the child wrote its state (its role started), or it died. */
static int wait_started(pid_t child, const updater_files *files, const char *role, const char *log_path, int timeout_s)
{
    long long deadline = cli_now_ms() + (long long)timeout_s * 1000;
    while (cli_now_ms() < deadline) {
        int status;
        if (waitpid(child, &status, WNOHANG) == child) {
            fprintf(stderr, "payments updater start: payments-updater %s %d during start-up\n",
                    WIFSIGNALED(status) ? "was killed by signal" : "exited with status",
                    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            cli_print_log_tail(log_path);
            return 1;
        }
        json_t *state = state_of(files, child);
        json_decref(state);
        if (state) {
            printf("payments-updater %s started: pid %d; log: %s\n", role, (int)child, log_path);
            return 0;
        }
        cli_sleep_ms(POLL_MS);
    }
    fprintf(stderr, "payments updater start: payments-updater (pid %d) did not start within %d s, see %s\n", (int)child,
            timeout_s, log_path);
    return 1;
}

static int updater_start(int argc, char **argv)
{
    const char *role = NULL, *log_option = NULL, *master = NULL, *value;
    int timeout_s = 30;
    for (int i = 1; i < argc; i++) {
        if ((value = cli_option_value(argc, argv, &i, "--log")))
            log_option = value;
        else if ((value = cli_option_value(argc, argv, &i, "--master")))
            master = value;
        else if ((value = cli_option_value(argc, argv, &i, "--timeout")) && atoi(value) > 0)
            timeout_s = atoi(value);
        else if (!role && (strcmp(argv[i], "master") == 0 || strcmp(argv[i], "slave") == 0))
            role = argv[i];
        else
            return cli_usage_error("updater", "unexpected argument %s", argv[i]);
    }
    if (!role)
        return cli_usage_error("updater", "start needs a role: master or slave");
    updater_files files;
    if (files_load(&files) < 0)
        return 1;
    pid_t running = pidfile_read_running(files.pid_file);
    if (running) {
        fprintf(stderr, "payments updater start: payments-updater is already running (pid %d, %s)\n", (int)running,
                files.pid_file);
        return 1;
    }
    const char *log_path = log_option ? log_option : files.log_file;
    int log_fd = path_make_parent(log_path) == 0 ? open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640) : -1;
    if (log_fd < 0) {
        fprintf(stderr, "payments updater start: cannot open the log file %s: %s\n", log_path, strerror(errno));
        return 1;
    }
    char binary[PATH_MAX];
    cli_sibling_binary("payments-updater", binary, sizeof binary);
    char *child_argv[] = {binary, (char *)role, "--log", (char *)log_path, "--master", (char *)master, NULL};
    if (!master)
        child_argv[4] = NULL;
    pid_t child = fork();
    if (child == 0)
        cli_exec_background(child_argv, log_fd);
    close(log_fd);
    if (child < 0) {
        fprintf(stderr, "payments updater start: cannot fork: %s\n", strerror(errno));
        return 1;
    }
    return wait_started(child, &files, role, log_path, timeout_s);
}

/* ---- stop ---- */

static int updater_stop(int argc, char **argv)
{
    int timeout_s = 60; /* an update in progress is cancelled: its children get time to end */
    const char *value;
    for (int i = 1; i < argc; i++) {
        if ((value = cli_option_value(argc, argv, &i, "--timeout")) && atoi(value) > 0)
            timeout_s = atoi(value);
        else
            return cli_usage_error("updater", "unexpected argument %s", argv[i]);
    }
    updater_files files;
    pid_t pid = running_updater(&files);
    if (pid <= 0)
        return pid < 0 ? 1 : 0;
    if (kill(pid, SIGTERM) < 0) {
        fprintf(stderr, "payments updater stop: cannot signal pid %d: %s\n", (int)pid, strerror(errno));
        return 1;
    }
    return cli_wait_gone("payments-updater", pid, timeout_s);
}

/* ---- status ---- */

static const char *text_of(json_t *doc, const char *key, const char *fallback)
{
    const char *text = json_string_value(json_object_get(doc, key));
    return text ? text : fallback;
}

static void print_time(const char *label, json_int_t seconds)
{
    char text[64] = "?";
    time_t at = (time_t)seconds;
    struct tm tm;
    if (seconds > 0 && gmtime_r(&at, &tm))
        strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%s %s\n", label, text);
}

static void print_master(json_t *state)
{
    printf("listening on %s%s\n", text_of(state, "listening", "?"),
           json_is_true(json_object_get(state, "updating")) ? "; an update is running" : "");
    printf("linked instances:\n");
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(state, "instances"), i, entry) printf(
        "  %s (%s, %s): api %s, operators %s\n", text_of(entry, "instance", "?"), text_of(entry, "role", "?"),
        text_of(entry, "address", "?"), text_of(entry, "api", "unknown"), text_of(entry, "operators", "unknown"));
}

static void print_slave(json_t *state)
{
    printf("master updater %s: %s\n", text_of(state, "master", "?"), text_of(state, "link", "?"));
    if (strcmp(text_of(state, "link", ""), "connected") == 0)
        print_time("connected since", json_integer_value(json_object_get(state, "connected_since")));
    if (json_is_true(json_object_get(state, "updating")))
        printf("an update is running\n");
}

static int updater_status(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            return cli_usage_error("updater", "unexpected argument %s", argv[i]);
    }
    updater_files files;
    pid_t pid = running_updater(&files);
    if (pid <= 0)
        return 1;
    json_t *state = state_of(&files, pid);
    if (!state) {
        printf("payments-updater: pid %d, starting (no state in %s yet)\n", (int)pid, files.state_file);
        return 0;
    }
    int rc = 0;
    if (json) {
        rc = cli_print_json(state);
    } else {
        const char *role = text_of(state, "role", "?");
        printf("payments-updater %s: pid %d, instance %s\n", role, (int)pid, text_of(state, "instance", "?"));
        if (strcmp(role, "master") == 0)
            print_master(state);
        else
            print_slave(state);
    }
    json_decref(state);
    return rc;
}

int cli_updater(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(argv[0], "start, stop or status?");
    if (strcmp(argv[1], "start") == 0)
        return updater_start(argc - 1, argv + 1);
    if (strcmp(argv[1], "stop") == 0)
        return updater_stop(argc - 1, argv + 1);
    if (strcmp(argv[1], "status") == 0)
        return updater_status(argc - 1, argv + 1);
    return cli_usage_error(argv[0], "unknown subcommand %s (start, stop or status)", argv[1]);
}
