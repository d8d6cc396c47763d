/* The master's state: configuration, the listening socket, the worker slots
 * and the roll in progress. One instance, owned by main.c, passed to every
 * part (supervisor, control socket, signals) explicitly. */
#ifndef PAYMENTS_MASTER_H
#define PAYMENTS_MASTER_H

#include "config.h"
#include "dotenv.h"
#include "ipc.h"
#include "metrics_region.h"
#include "path.h"
#include "pidfile.h"
#include "run_as.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

typedef enum slot_state { SLOT_STARTING, SLOT_READY, SLOT_DRAINING, SLOT_EXITED } slot_state;

typedef struct master master;

typedef struct worker_slot {
    master *master;
    uv_process_t process;
    ipc_channel *ipc;
    int id; /* sequential, for logs */
    int pid;
    unsigned generation; /* configuration generation it was started with */
    slot_state state;
    time_t started_at;            /* wall clock, for status */
    uint64_t started_ms;          /* loop clock */
    uint64_t state_since_ms;      /* loop clock, when state last changed */
    struct worker_slot *replaces; /* during a roll: the old worker to drain once this one is ready */
    char *stats;                  /* last stats document from the worker, or NULL */
    struct worker_slot *next;
} worker_slot;

typedef enum stop_mode { STOP_NONE, STOP_GRACEFUL, STOP_FAST } stop_mode;

/* Who the workers run as (privilege.c). */
typedef struct master_privilege {
    bool drop; /* the master is root and PAYMENT_USER is not */
    run_as_user user;
    dotenv settings; /* the .env's values, handed to workers in their environment */
} master_privilege;

struct master {
    cfg config;
    uv_loop_t *loop;
    int listen_fd;
    int admin_fd; /* the operators' listener (PAYMENT_ADMIN_HOST:PORT) */
    worker_slot *slots;
    int next_slot_id;
    unsigned generation;
    bool rolling;
    int roll_failures;      /* consecutive new workers of this roll that did not start */
    int crash_streak;       /* consecutive workers that died young */
    uint64_t respawn_at_ms; /* loop clock: no crash respawn before */
    stop_mode stopping;
    time_t started_at;
    uv_timer_t tick;    /* supervision: respawns, stuck workers */
    uv_pipe_t *control; /* control socket, NULL when closed */
    uv_signal_t signals[6];
    char *binary_path;    /* this executable, exec'd anew by an upgrade */
    char **argv;          /* our arguments, given again to the new master */
    char *commit_json;    /* ISystem.ICommit of the checkout served (commit_info.c) */
    bool announced_ready; /* all workers were ready once: told systemd / the old master */
    int ticks;
    /* Upgrade, old master's side: the new master starting. */
    uv_process_t *successor;
    ipc_channel *successor_ipc;
    uint64_t successor_started_ms;
    bool handed_over; /* the new master serves: the pid file is its own */
    /* Upgrade, new master's side: the old master waiting for our "ready". */
    ipc_channel *predecessor_ipc;
    master_privilege privilege; /* of the configuration in force */
    /* The counters every worker shares (common/metrics_region.h), handed
     * to each as fd 6; NULL (and -1) when it could not be made. */
    metrics_region *metrics;
    int metrics_fd;
};

/* main.c: re-read the configuration and the commit, then roll the workers. */
void master_reload(master *m);

/* supervisor.c */
int supervisor_start(master *m);
void supervisor_roll(master *m); /* replace every worker, one at a time */
void supervisor_stop(master *m, stop_mode mode);
int supervisor_active_count(const master *m);
const char *supervisor_state_name(slot_state s); /* as in the status document */
void supervisor_publish_figures(master *m);      /* the master's CPU and memory, for /metrics */

/* upgrade.c: nginx-style binary upgrade with the listening socket inherited. */
int upgrade_start(master *m, char *err, size_t errlen);
void upgrade_check(master *m);          /* from the tick: a successor that takes too long is killed */
int upgrade_adopt(master *m);           /* new master: take over what the old one handed down */
void upgrade_announce_ready(master *m); /* new master: all workers ready */

/* commit_info.c: ISystem.ICommit of the checkout, as JSON text (malloc'd), or NULL. */
char *commit_info_json(void);

/* control.c: a unix socket taking the commands of control_command.h */
int control_open(master *m);
void control_close(master *m);
char *control_status_json(const master *m); /* caller frees */

/* privilege.c: when the master runs as root, workers run as PAYMENT_USER.
 * prepare resolves it for c (-1 with one line when the user is missing);
 * spawn_options sets a worker's uid, gid and environment (-1: out of
 * memory), undone by spawn_done once uv_spawn returned. */
int privilege_prepare(master_privilege *p, const cfg *c, char *err, size_t errlen);
void privilege_clear(master_privilege *p);
void privilege_describe(const master_privilege *p); /* one log line */
int privilege_spawn_options(const master_privilege *p, uv_process_options_t *options);
void privilege_spawn_done(uv_process_options_t *options);
void privilege_own_log(const master_privilege *p, const char *path);

/* config_check.c: runs `worker_path --check-config` as a worker of this
 * privilege would run and waits for it (at most a few seconds). Returns 0,
 * or -1 with the worker's one line (or why it could not run) in err. */
int config_check_workers(const char *worker_path, const master_privilege *privilege, char *err, size_t errlen);

/* key_check.c: after the migrations, refuses (-1, logged with the table and
 * the count) a database holding values sealed with a key no longer
 * configured. */
int key_check_database(const cfg *c);

/* listener.c: the API's listening socket and the operators'. */
int listener_open(const char *host, int port, char *err, size_t errlen);
int listener_port(int fd);    /* the bound port, or -1 */
void listener_close(int *fd); /* closes *fd when open and sets it to -1 */

#endif
