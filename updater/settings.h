/* Settings of the updater and of the `payments` command: the same PAYMENT_*
 * environment and .env file as the server, but each tool reads only the
 * variables it needs, so an operator's machine running `payments update real`
 * needs the system password and the hosts, not the encryption keys. */
#ifndef PAYMENTS_UPDATER_SETTINGS_H
#define PAYMENTS_UPDATER_SETTINGS_H

#include "dotenv.h"

#include <stddef.h>

/* Loads PAYMENT_ENV_FILE (default ./.env, optional) into env. Returns 0 or -1
 * with the reason in err; the environment always wins over the file. */
int settings_open(dotenv *env, char *err, size_t errlen);
/* The value when set and not empty, else fallback. */
const char *settings_get(const dotenv *env, const char *name, const char *fallback);
/* Reads an integer in [min, max]; fallback when unset. Returns 0, or -1 with
 * err naming the variable. */
int settings_integer(const dotenv *env, const char *name, long long fallback, long long min, long long max,
                     long long *out, char *err, size_t errlen);
/* Splits "host", "host:port" or "[v6]:port"; port stays default_port when
 * absent. *host is malloc'd. Returns 0 or -1 when malformed. */
int settings_host_port(const char *text, int default_port, char **host, int *port);
/* The host of one mode ("local", "dev" or "real") for a kind of service:
 * PAYMENT_<KIND>_HOST_<MODE>, then for kind "API" PAYMENT_UPDATOR_HOST_<MODE>,
 * then 127.0.0.1 for local. NULL with err naming the variable for dev and
 * real when unset, or for an unknown mode. */
const char *settings_mode_host(const dotenv *env, const char *kind, const char *mode, char *err, size_t errlen);

/* What both ends of a link to the master updater must read alike. */
typedef struct settings_link {
    long long port;              /* PAYMENT_UPDATOR_PORT */
    long long update_timeout_ms; /* PAYMENT_UPDATE_TIMEOUT_MS: how long a round may take */
    long long heartbeat_ms;      /* PAYMENT_UPDATOR_HEARTBEAT_MS */
} settings_link;
/* Returns 0, or -1 with err naming the variable. */
int settings_link_read(const dotenv *env, settings_link *link, char *err, size_t errlen);

/* The updater's pid file (PAYMENT_UPDATER_PID_FILE, relative to the working
 * directory unless absolute) and its state file beside it: the pid file
 * with .pid replaced by .state.json (malloc'd, NULL when out of memory). */
const char *settings_updater_pid_file(const dotenv *env);
char *settings_updater_state_file(const char *pid_file);

#endif
