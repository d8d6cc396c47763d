/* The `payments` command line: one function per command, each given its own
 * arguments (argv[0] is the command's name) and returning the exit status
 * (0 success, 1 failure, 2 usage). payments_main.c holds the table and the
 * help texts; the rest are the helpers the commands share. */
#ifndef PAYMENTS_CLI_H
#define PAYMENTS_CLI_H

#include "control_command.h"
#include "dotenv.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* cli_local.c: the instance on this machine */
int cli_start(int argc, char **argv);
int cli_stop(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_reload(int argc, char **argv);
int cli_migrate(int argc, char **argv);
/* The binary name beside this one. */
void cli_sibling_binary(const char *name, char *out, size_t len);
/* The child side of starting a daemon: a session of its own, stdin from
 * /dev/null, output to log_fd, then argv; never returns. */
void cli_exec_background(char *const argv[], int log_fd) __attribute__((noreturn));
/* Waits until pid is gone (printing "<program> (pid N) stopped"); returns
 * the exit status, 1 when it still runs after timeout_s. */
int cli_wait_gone(const char *program, pid_t pid, int timeout_s);
/* The last lines of a log file, on stderr, after a failed start. */
void cli_print_log_tail(const char *path);
/* cli_updater.c: `payments updater start|stop|status`, the local updater */
int cli_updater(int argc, char **argv);
/* cli_reseal.c: stored values moved to each table's current key */
int cli_reseal(int argc, char **argv);
/* cli_update.c: through the master updater of a mode */
int cli_update(int argc, char **argv);
int cli_instances(int argc, char **argv);
/* The instances message of the mode's master updater (new reference), and
 * the host it was reached at (*updater_host, malloc'd); NULL with err. */
json_t *cli_instances_ask(const dotenv *env, const char *mode, int timeout_ms, char **updater_host, char *err,
                          size_t errlen);
/* cli_monitor.c: /monitors/performance and /monitors/system of a mode */
int cli_monitor(int argc, char **argv);
/* cli_call.c: one encrypted request to a mode's API */
int cli_call(int argc, char **argv);
/* cli_fake.c: payments made at the local fake vendors */
int cli_fake(int argc, char **argv);
/* cli_import.c: an original server's database copied into ours */
int cli_import(int argc, char **argv);

/* cli_watch.c: `monitor MODE --watch`, given the /metrics address of each
 * instance and the refresh interval; frames (0: until interrupted). Each
 * frame shows one block per instance. */
typedef struct cli_watch_target {
    char url[512];
    char title[600];
} cli_watch_target;
int cli_watch(const cli_watch_target *targets, size_t count, int interval_ms, long frames);

/* payments_main.c: prints the usage of a command to stderr; returns 2. */
int cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli_control.c: one command to the master's control socket. Returns its
 * answer as a JSON object (new reference), or NULL with err. */
json_t *cli_control_json(const char *socket_path, control_command command, int timeout_ms, char *err, size_t errlen);
/* Ready workers in a status document, and whether that is all of them. */
int cli_ready_workers(json_t *status, bool *all_ready);

/* cli_options.c: the local instance's paths and a mode's endpoint. */
typedef struct cli_local_paths {
    char *control_socket;
    char *pid_file;
    char *log_file; /* "" when the master logs to stderr */
    long long drain_timeout_ms;
} cli_local_paths;
int cli_local_paths_load(const dotenv *env, cli_local_paths *paths, char *err, size_t errlen);
void cli_local_paths_free(cli_local_paths *paths);
/* Reads the settings or prints why not (returns -1). */
int cli_settings_open(dotenv *env);
/* The value of --name VALUE at argv[*i] (advancing *i), or NULL. */
const char *cli_option_value(int argc, char **argv, int *i, const char *name);
/* The arguments of a command aimed at a mode: "<mode> [--host HOST[:PORT]]
 * [--json]", and [--url URL] where the command takes one. */
typedef struct cli_mode_arguments {
    const char *mode;
    const char *host; /* NULL when not given */
    const char *url;  /* NULL when not given */
    bool json;
} cli_mode_arguments;
/* Returns 0, or the exit status of a usage error (printed). */
int cli_mode_arguments_parse(int argc, char **argv, bool takes_url, cli_mode_arguments *out);
/* "payments-cli@<hostname>", a valid instance name for the handshake. */
void cli_instance_name(char *out, size_t len);
/* Prints doc indented on stdout; returns the exit status (1 when stdout fails). */
int cli_print_json(json_t *doc);

/* cli_clock.c: every wait of the command line is bounded on the monotonic clock. */
long long cli_now_ms(void);
void cli_sleep_ms(int ms);

#endif
