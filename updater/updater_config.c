/* The updater daemon's settings. Paths are made absolute once, here, so the
 * update steps and the log never depend on a working directory. The secret
 * is copied into the struct and wiped when it is freed. */
#include "updater.h"

#include "crypto.h"
#include "duration.h"
#include "path.h"
#include "secret_strength.h"
#include "settings.h"
#include "updater_protocol.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* name made absolute against base (or the working directory when base is NULL). */
static char *absolute_path(const char *name, const char *base)
{
    if (name[0] == '/')
        return strdup(name);
    char cwd[PATH_MAX];
    if (!base && !getcwd(cwd, sizeof cwd))
        return NULL;
    const char *dir = base ? base : cwd;
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(len);
    if (path)
        snprintf(path, len, "%s/%s", dir, name);
    return path;
}

/* hostname:port with every character a name may not hold replaced. */
static char *default_instance(const dotenv *env)
{
    char host[128] = "localhost", name[PROTOCOL_MAX_NAME + 1];
    if (gethostname(host, sizeof host) < 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    snprintf(name, sizeof name, "%.50s:%s", host, settings_get(env, "PAYMENT_API_PORT", "37821"));
    for (char *p = name; *p; p++)
        if (!protocol_name_valid((char[]){*p, '\0'}))
            *p = '-';
    return strdup(name);
}

static char *own_binary(void)
{
    char path[PATH_MAX];
    return path_own_executable(path, sizeof path) == 0 ? strdup(path) : NULL;
}

static int read_paths(updater_config *c, const dotenv *env, const char *log_override, char *err, size_t errlen)
{
    const char *checkout = settings_get(env, "PAYMENT_UPDATE_CHECKOUT", ".");
    c->checkout = realpath(checkout, NULL);
    if (!c->checkout) {
        snprintf(err, errlen, "PAYMENT_UPDATE_CHECKOUT: no directory %s", checkout);
        return -1;
    }
    c->build_dir =
        c->checkout ? absolute_path(settings_get(env, "PAYMENT_UPDATE_BUILD_DIR", "build"), c->checkout) : NULL;
    c->control_socket = absolute_path(settings_get(env, "PAYMENT_CONTROL_SOCKET", "var/run/payments.sock"), NULL);
    c->build_type = strdup(settings_get(env, "PAYMENT_UPDATE_BUILD_TYPE", "RelWithDebInfo"));
    const char *log = log_override ? log_override : settings_get(env, "PAYMENT_UPDATER_LOG_FILE", "");
    c->log_file = *log ? absolute_path(log, NULL) : strdup("");
    c->pid_file = absolute_path(settings_updater_pid_file(env), NULL);
    c->state_file = c->pid_file ? settings_updater_state_file(c->pid_file) : NULL;
    c->self_path = own_binary();
    if (!c->build_dir || !c->control_socket || !c->build_type || !c->log_file || !c->pid_file || !c->state_file ||
        !c->self_path) {
        snprintf(err, errlen, "cannot resolve the checkout, build and socket paths");
        return -1;
    }
    return 0;
}

static int read_numbers(updater_config *c, const dotenv *env, char *err, size_t errlen)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    settings_link link;
    long long jobs, command, roll;
    if (settings_link_read(env, &link, err, errlen) < 0 ||
        settings_integer(env, "PAYMENT_UPDATE_BUILD_JOBS", cpus > 0 ? cpus : 1, 1, 256, &jobs, err, errlen) < 0 ||
        settings_integer(env, "PAYMENT_UPDATE_COMMAND_TIMEOUT_MS", 1800000, 1000, 86400000, &command, err, errlen) <
            0 ||
        settings_integer(env, "PAYMENT_UPDATE_ROLL_TIMEOUT_MS", 300000, 1000, 86400000, &roll, err, errlen) < 0)
        return -1;
    c->port = (int)link.port;
    c->build_jobs = (int)jobs;
    c->command_timeout_ms = (uint64_t)command;
    c->roll_timeout_ms = (uint64_t)roll;
    c->update_timeout_ms = (uint64_t)link.update_timeout_ms;
    c->heartbeat_ms = (uint64_t)link.heartbeat_ms;
    return 0;
}

/* A duration setting (duration.h) from 1 ms to max_ms. */
static int read_duration(const dotenv *env, const char *name, const char *fallback, uint64_t max_ms, uint64_t *out,
                         char *err, size_t errlen)
{
    const char *text = settings_get(env, name, fallback);
    if (duration_parse(text, strlen(text), max_ms, out) < 0 || *out == 0) {
        snprintf(err, errlen, "%s must be a duration from 1ms to %llud (e.g. 1s, 15m)", name,
                 (unsigned long long)(max_ms / 86400000));
        return -1;
    }
    return 0;
}

/* This instance's listeners, with the server's defaults (common/config.c). */
static int read_listeners(updater_config *c, const dotenv *env, char *err, size_t errlen)
{
    long long api_port, operators_port;
    if (settings_integer(env, "PAYMENT_API_PORT", 37821, 0, 65535, &api_port, err, errlen) < 0 ||
        settings_integer(env, "PAYMENT_ADMIN_PORT", 37822, 0, 65535, &operators_port, err, errlen) < 0)
        return -1;
    c->api_port = (int)api_port;
    c->operators_port = (int)operators_port;
    c->api_host = strdup(settings_get(env, "PAYMENT_API_HOST", "0.0.0.0"));
    c->operators_host = strdup(settings_get(env, "PAYMENT_ADMIN_HOST", "127.0.0.1"));
    if (!c->api_host || !c->operators_host) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* The same limits on guessing as the server's (config.h). */
static int read_guesses(updater_config *c, const dotenv *env, char *err, size_t errlen)
{
    long long free_failures;
    attempt_limit_settings *g = &c->guesses;
    if (settings_integer(env, "PAYMENT_GUESS_FREE", 5, 0, 1000, &free_failures, err, errlen) < 0 ||
        read_duration(env, "PAYMENT_GUESS_DELAY", "1s", 86400000, &g->first_delay_ms, err, errlen) < 0 ||
        read_duration(env, "PAYMENT_GUESS_DELAY_MAX", "15m", 7ULL * 86400000, &g->max_delay_ms, err, errlen) < 0)
        return -1;
    g->free_failures = (unsigned)free_failures;
    if (g->max_delay_ms < g->first_delay_ms) {
        snprintf(err, errlen, "PAYMENT_GUESS_DELAY_MAX must not be shorter than PAYMENT_GUESS_DELAY");
        return -1;
    }
    return 0;
}

/* The slave's master: --master, else PAYMENT_UPDATOR_MASTER, else the
 * updater host of this instance's own mode. */
static int read_master(updater_config *c, const dotenv *env, const char *mode, const char *master_override, char *err,
                       size_t errlen)
{
    const char *text = master_override ? master_override : settings_get(env, "PAYMENT_UPDATOR_MASTER", NULL);
    if (!text) {
        text = settings_mode_host(env, "UPDATOR", mode, err, errlen);
        if (!text)
            return -1;
    }
    if (settings_host_port(text, c->port, &c->master_host, &c->master_port) < 0) {
        snprintf(err, errlen, "the master updater address must be HOST or HOST:PORT: %s", text);
        return -1;
    }
    return 0;
}

/* The instance's PAYMENT_MODE, as strict as the server's: required, and
 * outside local mode the system password the links prove must be strong. */
static const char *read_mode(const dotenv *env, const char *secret, char *err, size_t errlen)
{
    const char *mode = settings_get(env, "PAYMENT_MODE", NULL);
    if (!mode) {
        snprintf(err, errlen, "PAYMENT_MODE is not set (local, dev or real)");
        return NULL;
    }
    if (strcmp(mode, "local") != 0 && strcmp(mode, "dev") != 0 && strcmp(mode, "real") != 0) {
        snprintf(err, errlen, "PAYMENT_MODE must be local, dev or real");
        return NULL;
    }
    if (strcmp(mode, "local") != 0 && secret_strength_password("PAYMENT_SYSTEM_PASSWORD", secret, err, errlen) < 0)
        return NULL;
    return mode;
}

int updater_config_load(updater_config *c, const updater_overrides *overrides, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    dotenv env;
    if (settings_open(&env, err, errlen) < 0)
        return -1;
    int rc = -1;
    const char *secret = settings_get(&env, "PAYMENT_SYSTEM_PASSWORD", NULL);
    const char *instance = settings_get(&env, "PAYMENT_UPDATE_INSTANCE", NULL);
    const char *mode = NULL;
    if (!secret)
        snprintf(err, errlen, "PAYMENT_SYSTEM_PASSWORD is not set");
    else if (instance && !protocol_name_valid(instance))
        snprintf(err, errlen, "PAYMENT_UPDATE_INSTANCE must be 1 to 64 of the characters A-Z a-z 0-9 . _ : @ -");
    else if ((mode = read_mode(&env, secret, err, errlen)) && read_numbers(c, &env, err, errlen) == 0 &&
             read_paths(c, &env, overrides->log, err, errlen) == 0 &&
             read_master(c, &env, mode, overrides->master, err, errlen) == 0 &&
             read_guesses(c, &env, err, errlen) == 0 && read_listeners(c, &env, err, errlen) == 0) {
        c->secret = strdup(secret);
        c->bind = strdup(settings_get(&env, "PAYMENT_UPDATOR_BIND", "0.0.0.0"));
        c->instance = instance ? strdup(instance) : default_instance(&env);
        rc = c->secret && c->bind && c->instance ? 0 : -1;
        if (rc < 0)
            snprintf(err, errlen, "out of memory");
    }
    dotenv_free(&env);
    if (rc < 0)
        updater_config_free(c);
    return rc;
}

void updater_config_free(updater_config *c)
{
    crypto_secret_free(c->secret);
    free(c->bind);
    free(c->master_host);
    free(c->instance);
    free(c->checkout);
    free(c->build_dir);
    free(c->build_type);
    free(c->control_socket);
    free(c->self_path);
    free(c->log_file);
    free(c->pid_file);
    free(c->state_file);
    free(c->api_host);
    free(c->operators_host);
    memset(c, 0, sizeof *c);
}
