/* The state of one instance's update and what its files share. update_run.c
 * holds the step tables and the driver that walks them; the steps live in
 * update_checkout.c (git, cmake, migrate), update_binaries.c (what serves,
 * and the hashes of its binaries), update_roll.c (reload or upgrade) and
 * update_report.c (the result). Every step starts one operation and ends it
 * with update_run_step_done, which is the only way forward or to a failure. */
#ifndef PAYMENTS_UPDATE_RUN_INTERNAL_H
#define PAYMENTS_UPDATE_RUN_INTERNAL_H

#include "update_control.h"
#include "update_hash.h"
#include "update_process.h"
#include "update_run.h"

#include <stdbool.h>
#include <stdint.h>

#define UPDATE_RUN_PATH_MAX 4096

/* One row of a step table. */
typedef struct update_step {
    const char *name;                                /* what a failure reports: fetch, build, migrate, roll */
    bool (*wanted)(const update_run *r);             /* NULL, or false to skip the step */
    void (*start)(update_run *r);                    /* starts the operation; it ends in update_run_step_done */
    void (*done)(update_run *r, const char *output); /* NULL, or records what the operation produced */
    const char *undoing;                             /* roll back only: "roll back: <undoing> <old head> failed: ..." */
} update_step;

/* The checkout's commit before and after the pull (update_checkout.c). */
typedef struct update_run_checkout {
    char old_head[64];
    char new_head[64];
} update_run_checkout;

/* What served when the update began (update_binaries.c): the report's
 * "before", and the files whose hashes tell what the build changed. */
typedef struct update_run_serving {
    int master_pid;
    json_t *worker_pids;
    char master_binary[UPDATE_RUN_PATH_MAX];
    char worker_binary[UPDATE_RUN_PATH_MAX];
} update_run_serving;

/* Indexes of the hashed binaries: the first three on disk (before and after
 * the build), the last three the images running (after it only). */
enum {
    UPDATE_BINARY_MASTER,
    UPDATE_BINARY_WORKER,
    UPDATE_BINARY_SELF,
    UPDATE_BINARY_RUNNING_MASTER,
    UPDATE_BINARY_RUNNING_WORKER,
    UPDATE_BINARY_RUNNING_SELF,
    UPDATE_BINARY_COUNT
};

typedef struct update_run_hashes {
    update_hash_entry before[UPDATE_BINARY_COUNT];
    update_hash_entry after[UPDATE_BINARY_COUNT];
} update_run_hashes;

/* What the roll does. Its name is the report's "action"; reload and upgrade
 * are also the control commands that do them. */
typedef enum update_roll_action {
    UPDATE_ROLL_ACTION_NONE,
    UPDATE_ROLL_ACTION_RELOAD,
    UPDATE_ROLL_ACTION_UPGRADE,
} update_roll_action;

typedef enum update_roll_phase { UPDATE_ROLL_IDLE, UPDATE_ROLL_REQUEST, UPDATE_ROLL_WAITING } update_roll_phase;

/* The roll (update_roll.c). The timer is the run's only handle: update_run.c
 * opens it at the start and closes it at the end. */
typedef struct update_run_roll {
    update_roll_action action;
    update_roll_phase phase;
    bool started;   /* the master accepted the command: workers may have been replaced */
    int master_pid; /* who served when the command went out */
    json_t *worker_pids;
    uint64_t deadline_ms;
    char wait_note[256]; /* why the roll is not done yet, for the timeout message */
    uv_timer_t timer;    /* polls the master's status */
} update_run_roll;

/* How the update ended, for the report. */
typedef struct update_run_outcome {
    bool failed;
    bool rolled_back;     /* the checkout was put back and rebuilt */
    bool updater_changed; /* the updater's own binary was rebuilt */
    char step[32];        /* the step that failed */
    char error[1024];
    char *output; /* last lines of the failing command, or NULL */
    json_t *warnings;
    json_t *commit; /* what is served at the end */
} update_run_outcome;

typedef void (*update_run_process_cb)(update_run *r, const update_process_result *result);

struct update_run {
    uv_loop_t *loop;
    const updater_config *config;
    update_run_progress_cb progress;
    update_run_done_cb done;
    void *data;
    uint64_t started_ms;

    const update_step *steps; /* the table running: the update, or its roll back */
    size_t step;              /* the row running */
    update_process *process;  /* the child running now, or NULL */
    update_run_process_cb after_process;
    bool cancelled;
    json_t *last_status; /* the master's latest status document */

    update_run_checkout checkout;
    update_run_serving serving;
    update_run_hashes hashes;
    update_run_roll roll;
    update_run_outcome outcome;
};

/* update_run.c: the driver. error NULL: the step succeeded, output is what
 * its command printed (or NULL); otherwise the update (or its roll back) fails. */
void update_run_step_done(update_run *r, const char *error, const char *output);
void update_run_progress(update_run *r, const char *step, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void update_run_warn(update_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One command to the local master's control socket; returns 0 or -1 (cb is
 * then not called). */
int update_run_ask_master(update_run *r, control_command command, update_control_cb cb);
/* Keeps answer as the latest status when it is one; false when it is not. */
bool update_run_keep_status(update_run *r, json_t *answer);
/* Step: reads the master's status into last_status. */
void update_run_read_status(update_run *r);
/* The report's last act: closes the timer, then hands the result over and frees the run. */
void update_run_end(update_run *r);

/* update_checkout.c: the steps that run git, cmake and `payments migrate`. */
void update_checkout_command(update_run *r, const char *const *argv, update_run_process_cb next);
bool update_checkout_moved(const update_run *r);
void update_checkout_read_head(update_run *r);
void update_checkout_remember_old_head(update_run *r, const char *output);
void update_checkout_remember_new_head(update_run *r, const char *output);
void update_checkout_pull(update_run *r);
bool update_checkout_needs_configure(const update_run *r);
void update_checkout_configure(update_run *r);
void update_checkout_build(update_run *r);
void update_checkout_migrate(update_run *r);
void update_checkout_migrated(update_run *r, const char *output);
void update_checkout_reset(update_run *r);
void update_checkout_rebuild(update_run *r);
void update_checkout_rebuilt(update_run *r, const char *output);

/* update_binaries.c */
void update_binaries_remember_serving(update_run *r, const char *output);
void update_binaries_hash_before(update_run *r);
void update_binaries_hash_after(update_run *r);

/* update_roll.c: decides from the hashes and heads, rolls and waits. */
void update_roll_start(update_run *r);
/* "none", "reload" or "upgrade": the report's and the log's word for it. */
const char *update_roll_action_name(update_roll_action action);
/* The roll back's reload, wanted when the failed roll had replaced workers:
 * a status read, then the reload. */
bool update_roll_replaced_workers(const update_run *r);
void update_roll_prepare_reload(update_run *r);
void update_roll_reload(update_run *r);
void update_roll_cancel(update_run *r);

/* update_report.c: reads the commit served; then update_run_end. */
void update_report_start(update_run *r);
json_t *update_report_result(update_run *r);
/* Copies the pids of the master's workers (any state) into a new array. */
json_t *update_report_worker_pids(json_t *status);

#endif
