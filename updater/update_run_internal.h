/* The state of one instance's update, shared by its three files:
 * update_run.c (the steps up to the roll, and the roll back),
 * update_roll.c (deciding and waiting for reload or upgrade), and
 * update_report.c (what was served, and the result document). */
#ifndef PAYMENTS_UPDATE_RUN_INTERNAL_H
#define PAYMENTS_UPDATE_RUN_INTERNAL_H

#include "update_hash.h"
#include "update_process.h"
#include "update_run.h"

#include <stdbool.h>
#include <stdint.h>

#define RUN_PATH_MAX 4096

/* Indexes of the binaries hashed before and after the build. */
enum { HASH_MASTER, HASH_WORKER, HASH_SELF, HASH_RUNNING_MASTER, HASH_RUNNING_WORKER, HASH_RUNNING_SELF, HASH_COUNT };

typedef void (*run_continuation)(update_run *r);
typedef void (*process_continuation)(update_run *r, const update_process_result *result);

struct update_run {
    uv_loop_t *loop;
    const updater_config *config;
    update_run_progress_cb progress;
    update_run_done_cb done;
    void *data;
    uint64_t started_ms;

    uv_timer_t timer;                 /* roll polling; closed at the end */
    update_process *process;          /* the child running now, or NULL */
    process_continuation after_process;
    run_continuation after_roll;      /* where the roll (or the roll back's reload) continues */
    bool cancelled;
    bool finishing;

    /* what the instance ran before */
    char old_head[64];
    char new_head[64];
    int master_pid_before;
    char master_binary[RUN_PATH_MAX];
    char worker_binary[RUN_PATH_MAX];
    json_t *workers_before;           /* pids before the update */
    update_hash_entry before[HASH_COUNT];
    update_hash_entry after[HASH_COUNT];

    /* the roll */
    const char *action;               /* "none", "reload" or "upgrade" */
    enum { ROLL_IDLE, ROLL_REQUEST, ROLL_WAITING } roll_phase;
    bool roll_started;
    bool updater_changed;             /* the updater's own binary was rebuilt */
    int roll_master_pid;
    json_t *roll_pids;                /* worker pids when the roll began */
    uint64_t roll_deadline_ms;
    char roll_wait_note[256];         /* why the roll is not done yet, for the timeout message */
    json_t *last_status;              /* the master's latest status document */

    /* the outcome */
    bool failed;
    bool rolling_back;
    bool rolled_back;
    char failed_step[32];
    char error[1024];
    char *failed_output;              /* last lines of the failing command */
    json_t *warnings;
    json_t *commit;                   /* what is served at the end */
};

/* update_run.c */
void run_progress(update_run *r, const char *step, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records the failure of step (output may be NULL) and moves on to the roll
 * back or the report. */
void run_fail(update_run *r, const char *step, const char *error, const char *output);
/* Runs a command in the checkout; next gets the result. */
void run_command(update_run *r, const char *const *argv, process_continuation next);
/* The pull brought a new commit. */
bool run_head_moved(const update_run *r);
/* Asks the master for its status; next runs with r->last_status set, or the
 * step fails. */
void run_read_status(update_run *r, const char *step, run_continuation next);

/* update_roll.c: decides from the hashes and heads, rolls, waits; then
 * r->after_roll, or run_fail. */
void roll_start(update_run *r);
/* The roll back's reload, when the failed roll had replaced workers. */
void roll_reload_again(update_run *r);
void roll_cancel(update_run *r);

/* update_report.c: reads the commit served, builds the result, ends the run. */
void report_finish(update_run *r);
/* Copies the pids of the master's workers (any state) into a new array. */
json_t *report_worker_pids(json_t *status);

#endif
