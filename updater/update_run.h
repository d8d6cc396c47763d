/* The update of one instance: fetch (git pull --ff-only), build only the
 * binaries that run, apply migrations, then roll — reload the workers when
 * only they (or the commit) changed, upgrade the master when its binary did —
 * and wait until the instance serves the new version. A failing step stops
 * the update; when the checkout had moved, it is put back and rebuilt, so the
 * binaries on disk match what keeps serving. Nothing here blocks the loop. */
#ifndef PAYMENTS_UPDATE_RUN_H
#define PAYMENTS_UPDATE_RUN_H

#include "updater.h"

#include <jansson.h>
#include <uv.h>

typedef struct update_run update_run;

/* step: "fetch", "build", "migrate", "roll", ...; message: one line for people. */
typedef void (*update_run_progress_cb)(const char *step, const char *message, void *data);
/* The instance's result, owned by the callee:
 *   {instance, ok, step, error, output: [last lines], action: none|reload|upgrade,
 *    commit: {hash, short_hash, branch, subject, committed_at}, previous_hash,
 *    failed_hash (the commit that failed, when the checkout had moved; else null),
 *    master: {pid_before, pid_after}, workers: {before: [pids], after: [pids]},
 *    rolled_back, updater_changed, warnings: [..], duration_ms} */
typedef void (*update_run_done_cb)(json_t *result, void *data);
/* The result of an update that did not run to its report (no link, already
 * updating, out of memory): {instance, ok: false, step, error, output: [],
 * action: "none"}. New reference, or NULL. */
json_t *update_report_failure(const char *instance, const char *step, const char *error);

/* Starts the update; done runs exactly once, later, from the loop. NULL when
 * it could not start (done is then not called). config must outlive it. */
update_run *update_run_start(uv_loop_t *loop, const updater_config *config, update_run_progress_cb progress,
                             update_run_done_cb done, void *data);
/* Stops what runs (child processes are terminated); done still runs, with an
 * error, and no roll back is attempted. */
void update_run_cancel(update_run *r);

#endif
