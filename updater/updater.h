/* payments-updater: the daemon's configuration and its two roles. The master
 * role listens for slaves and for `payments update`, and updates its own
 * instance too; the slave role keeps a link to the master and updates its
 * instance when told. One updater struct, owned by updater_main.c. */
#ifndef PAYMENTS_UPDATER_H
#define PAYMENTS_UPDATER_H

#include "attempt_limit.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct updater_config {
    char *secret;      /* PAYMENT_SYSTEM_PASSWORD: HMAC key only, never logged or sent */
    int port;          /* PAYMENT_UPDATOR_PORT */
    char *bind;        /* PAYMENT_UPDATOR_BIND: the master's listening address */
    char *master_host; /* slave: --master or PAYMENT_UPDATOR_MASTER */
    int master_port;
    char *instance;              /* PAYMENT_UPDATE_INSTANCE, default hostname:api-port */
    char *checkout;              /* PAYMENT_UPDATE_CHECKOUT, default the working directory; absolute */
    char *build_dir;             /* PAYMENT_UPDATE_BUILD_DIR, default <checkout>/build; absolute */
    char *build_type;            /* PAYMENT_UPDATE_BUILD_TYPE, for a build directory not configured yet */
    int build_jobs;              /* PAYMENT_UPDATE_BUILD_JOBS, default online CPUs */
    char *control_socket;        /* PAYMENT_CONTROL_SOCKET of the local master */
    char *self_path;             /* the updater's own binary, for re-executing a rebuilt one */
    char *log_file;              /* --log, else PAYMENT_UPDATER_LOG_FILE; empty: stderr */
    char *pid_file;              /* PAYMENT_UPDATER_PID_FILE; absolute */
    char *state_file;            /* beside the pid file: what `payments updater status` shows */
    uint64_t command_timeout_ms; /* PAYMENT_UPDATE_COMMAND_TIMEOUT_MS: each git/cmake/migrate run */
    uint64_t roll_timeout_ms;    /* PAYMENT_UPDATE_ROLL_TIMEOUT_MS: reload or upgrade to finish */
    uint64_t update_timeout_ms;  /* PAYMENT_UPDATE_TIMEOUT_MS: the master waits this for every result */
    uint64_t heartbeat_ms;       /* PAYMENT_UPDATOR_HEARTBEAT_MS: links silent for 3 periods are dropped */
    /* PAYMENT_GUESS_FREE, _DELAY, _DELAY_MAX: a client address that keeps
     * failing the master's handshake is refused until its delay passes. */
    attempt_limit_settings guesses;
    /* This instance's API and operators' listener, as its master updater
     * tells `payments monitor` (PAYMENT_API_HOST/_PORT, PAYMENT_ADMIN_HOST/_PORT). */
    char *api_host;
    int api_port;
    char *operators_host;
    int operators_port;
} updater_config;

/* The command line's choices that override the settings, NULL when not given. */
typedef struct updater_overrides {
    const char *master; /* --master HOST[:PORT] */
    const char *log;    /* --log FILE */
} updater_overrides;

/* Reads the settings. Returns 0, or -1 with one line in err naming the variable. */
int updater_config_load(updater_config *c, const updater_overrides *overrides, char *err, size_t errlen);
void updater_config_free(updater_config *c);

typedef struct updater_master updater_master;
typedef struct updater_slave updater_slave;

typedef struct updater {
    uv_loop_t *loop;
    updater_config config;
    updater_master *master; /* master role, or NULL */
    updater_slave *slave;   /* slave role, or NULL */
    bool stopping;
    bool restart_requested; /* the updater binary was rebuilt: exec it once idle */
    char **argv;            /* for re-executing */
} updater;

/* updater_master.c and updater_slave.c: start a role; stop closes every
 * handle and cancels the update in progress (the loop then runs dry); free
 * releases the role's memory after uv_run returned. */
int updater_master_start(updater *u);
void updater_master_stop(updater *u);
void updater_master_free(updater *u);
int updater_slave_start(updater *u);
void updater_slave_stop(updater *u);
void updater_slave_free(updater *u);
/* A role's part of the state file: the master's linked instances, the
 * slave's master and link state (new reference). */
json_t *updater_master_state(updater *u);
json_t *updater_slave_state(updater *u);
/* updater_state.c: the pid file and the state file. start writes the pid
 * file (-1 with err when another live updater holds it); write rewrites the
 * state file, once the role started and whenever a link comes or goes;
 * remove deletes both unless another updater holds them now. */
int updater_state_start(updater *u, char *err, size_t errlen);
void updater_state_write(updater *u);
void updater_state_remove(updater *u);
/* updater_addresses.c: where `payments monitor` reaches an instance. own:
 * {"api": "HOST:PORT", "operators": ...} of this instance; announcement: the
 * message a slave sends once linked; seen: the addresses of an announcement
 * as the master tells them, a wildcard or loopback host replaced by the
 * address the slave's link comes from (all new references, or NULL). */
json_t *updater_addresses_own(const updater_config *c);
json_t *updater_addresses_announcement(const updater_config *c);
json_t *updater_addresses_seen(json_t *announcement, const char *peer_address);

/* updater_main.c: a role calls this when its update finished and nothing
 * is in flight; the process re-executes itself if its binary was rebuilt. */
void updater_idle(updater *u);

#endif
