/* One instance's update as a table of steps, run top to bottom. Each step
 * starts one asynchronous operation (a child process, a control request, a
 * hash) and the driver starts the next when it ends, so the loop keeps
 * serving the updater's links meanwhile. Nothing is rolled before the build
 * and the migrations succeeded; a failure once the checkout moved switches to
 * the roll back table, so a worker respawned later never runs code of a
 * failed update. The updater re-executing itself when it was rebuilt happens
 * after the report, in its role (updater_master.c, updater_slave.c). */
#include "update_run_internal.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTROL_TIMEOUT_MS 5000

static void announce_finished(update_run *r, const char *output);

/* The update. The first column is what a failure reports. */
static const update_step update_steps[] = {
    /* pull: remember what serves, then bring the checkout to the new commit */
    {.name = "fetch", .start = update_run_read_status, .done = update_binaries_remember_serving},
    {.name = "fetch", .start = update_checkout_read_head, .done = update_checkout_remember_old_head},
    {.name = "fetch", .start = update_binaries_hash_before},
    {.name = "fetch", .start = update_checkout_pull},
    {.name = "fetch", .start = update_checkout_read_head, .done = update_checkout_remember_new_head},
    /* build only the binaries that run; configure first when never configured */
    {.name = "build", .wanted = update_checkout_needs_configure, .start = update_checkout_configure},
    {.name = "build", .start = update_checkout_build},
    /* migrate */
    {.name = "migrate", .start = update_checkout_migrate, .done = update_checkout_migrated},
    /* hash what runs now (the master may have replaced a worker during the
     * build) and what is on disk */
    {.name = "roll", .start = update_run_read_status},
    {.name = "roll", .start = update_binaries_hash_after},
    /* roll: reload or upgrade, and wait until the instance serves it */
    {.name = "roll", .start = update_roll_start, .done = announce_finished},
    /* report: what is served, and the result */
    {.name = "report", .start = update_report_start},
};

/* After a failure once the checkout moved: put it back at the commit that
 * serves and rebuild it, then undo a reload that had begun. A failure here is
 * a warning of the report, which follows in any case. */
static const update_step roll_back_steps[] = {
    {.name = "rollback", .start = update_checkout_reset, .undoing = "git reset to"},
    {.name = "rollback", .start = update_checkout_rebuild, .done = update_checkout_rebuilt, .undoing = "rebuilding"},
    {.name = "rollback", .wanted = update_roll_replaced_workers, .start = update_roll_prepare_reload},
    {.name = "rollback", .wanted = update_roll_replaced_workers, .start = update_roll_reload},
    {.name = "report", .start = update_report_start},
};

/* ---- the driver ---- */

static void start_step(update_run *r)
{
    while (r->steps[r->step].wanted && !r->steps[r->step].wanted(r))
        r->step++;
    r->steps[r->step].start(r);
}

/* Both tables end with the report. */
static void skip_to_report(update_run *r)
{
    while (r->steps[r->step].start != update_report_start)
        r->step++;
    start_step(r);
}

static void record_failure(update_run *r, const char *step, const char *error, const char *output)
{
    update_run_outcome *o = &r->outcome;
    o->failed = true;
    snprintf(o->step, sizeof o->step, "%s", step);
    snprintf(o->error, sizeof o->error, "%s", r->cancelled ? "cancelled" : error);
    o->output = output && *output ? strdup(output) : NULL;
    log_error("update failed at %s: %s", step, o->error);
}

/* The one failure path. */
static void fail(update_run *r, const char *error, const char *output)
{
    const update_step *step = &r->steps[r->step];
    if (r->steps == roll_back_steps) {
        if (!error)
            error = "cancelled";
        if (step->undoing)
            update_run_warn(r, "roll back: %s %.12s failed: %s", step->undoing, r->checkout.old_head, error);
        else
            update_run_warn(r, "roll back: %s", error);
        skip_to_report(r);
        return;
    }
    record_failure(r, step->name, error, output);
    if (r->cancelled || !update_checkout_moved(r)) {
        skip_to_report(r);
        return;
    }
    r->steps = roll_back_steps;
    r->step = 0;
    start_step(r);
}

void update_run_step_done(update_run *r, const char *error, const char *output)
{
    if (error || r->cancelled) {
        fail(r, error, output);
        return;
    }
    const update_step *step = &r->steps[r->step];
    if (step->done)
        step->done(r, output);
    r->step++;
    start_step(r);
}

static void announce_finished(update_run *r, const char *output)
{
    (void)output;
    update_run_progress(r, "done", "update finished: %s", update_roll_action_name(r->roll.action));
}

/* ---- what the steps share ---- */

void update_run_progress(update_run *r, const char *step, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    log_info("update: %s", message);
    if (r->progress)
        r->progress(step, message, r->data);
}

void update_run_warn(update_run *r, const char *fmt, ...)
{
    char warning[UPDATE_RUN_PATH_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(warning, sizeof warning, fmt, ap);
    va_end(ap);
    json_array_append_new(r->outcome.warnings, json_string(warning));
}

int update_run_ask_master(update_run *r, control_command command, update_control_cb cb)
{
    return update_control_request(r->loop, r->config->control_socket, command, CONTROL_TIMEOUT_MS, cb, r);
}

bool update_run_keep_status(update_run *r, json_t *answer)
{
    if (!answer || !json_is_object(json_object_get(answer, "master")))
        return false;
    json_decref(r->last_status);
    r->last_status = json_incref(answer);
    return true;
}

static void on_status(json_t *answer, const char *error, void *data)
{
    update_run *r = data;
    if (update_run_keep_status(r, answer)) {
        update_run_step_done(r, NULL, NULL);
        return;
    }
    char message[512];
    snprintf(message, sizeof message, "the local master does not answer on %s: %s", r->config->control_socket,
             error ? error : "no status document");
    update_run_step_done(r, message, NULL);
}

void update_run_read_status(update_run *r)
{
    if (update_run_ask_master(r, CONTROL_STATUS, on_status) < 0)
        update_run_step_done(r, "cannot ask the master for its status (out of memory)", NULL);
}

/* ---- start, cancel, end ---- */

update_run *update_run_start(uv_loop_t *loop, const updater_config *config, update_run_progress_cb progress,
                             update_run_done_cb done, void *data)
{
    update_run *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->outcome.warnings = json_array();
    if (!r->outcome.warnings || uv_timer_init(loop, &r->roll.timer) < 0) {
        json_decref(r->outcome.warnings);
        free(r);
        return NULL;
    }
    r->loop = loop;
    r->config = config;
    r->progress = progress;
    r->done = done;
    r->data = data;
    r->roll.timer.data = r;
    r->roll.action = UPDATE_ROLL_ACTION_NONE;
    r->started_ms = uv_now(loop);
    r->steps = update_steps;
    update_run_progress(r, "start", "updating %s", config->instance);
    start_step(r);
    return r;
}

void update_run_cancel(update_run *r)
{
    if (r->cancelled)
        return;
    r->cancelled = true;
    if (r->process)
        update_process_cancel(r->process);
    update_roll_cancel(r);
}

static void on_closed(uv_handle_t *handle)
{
    update_run *r = handle->data;
    json_t *result = update_report_result(r);
    if (!result)
        log_error("update: cannot build the result document");
    r->done(result, r->data);
    json_decref(r->serving.worker_pids);
    json_decref(r->roll.worker_pids);
    json_decref(r->last_status);
    json_decref(r->outcome.warnings);
    json_decref(r->outcome.commit);
    free(r->outcome.output);
    free(r);
}

void update_run_end(update_run *r)
{
    uv_close((uv_handle_t *)&r->roll.timer, on_closed);
}
