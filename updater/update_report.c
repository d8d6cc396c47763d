/* The last step of an update, whatever happened before: what the instance
 * serves now (the master's own commit field when it has one, else the
 * checkout's commit, which a roll back made equal to what runs), and the
 * result document the master updater gathers. Nothing here fails the update:
 * what cannot be read is left out or becomes a warning. */
#include "update_run_internal.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

static void on_final_status(json_t *answer, const char *error, void *data);
static void after_log(update_run *r, const update_process_result *result);
static void after_branch(update_run *r, const update_process_result *result);

void update_report_start(update_run *r)
{
    if (r->cancelled) {
        update_run_end(r);
        return;
    }
    if (update_run_ask_master(r, CONTROL_STATUS, on_final_status) < 0)
        on_final_status(NULL, "out of memory", r);
}

/* The master's commit document, in the names of our result. */
static json_t *commit_from_status(json_t *status)
{
    json_t *c = json_object_get(json_object_get(status, "master"), "commit");
    const char *hash = json_string_value(json_object_get(c, "hash"));
    if (!hash || !*hash)
        return NULL;
    json_t *when = json_object_get(c, "committed_at");
    if (!when)
        when = json_object_get(c, "commited_at"); /* the contract's spelling */
    json_t *short_hash = json_object_get(c, "short_hash");
    if (!short_hash)
        short_hash = json_object_get(c, "shortHash");
    return json_pack("{s:s, s:O?, s:O?, s:O?, s:O?, s:s}", "hash", hash, "short_hash", short_hash, "branch",
                     json_object_get(c, "branch"), "subject", json_object_get(c, "subject"), "committed_at", when,
                     "source", "master");
}

static void on_final_status(json_t *answer, const char *error, void *data)
{
    update_run *r = data;
    (void)error;
    update_run_keep_status(r, answer);
    update_run_outcome *o = &r->outcome;
    if (!o->failed)
        o->commit = commit_from_status(r->last_status);
    if (o->commit) {
        update_run_end(r);
        return;
    }
    /* When the roll back could not reset the checkout, the old commit still serves. */
    const char *ref = o->failed && !o->rolled_back && update_checkout_moved(r) ? r->checkout.old_head : "HEAD";
    const char *const argv[] = {"git", "log", "-1", "--format=%H%n%h%n%cI%n%s", ref, NULL};
    update_checkout_command(r, argv, after_log);
}

static json_t *lines_array(const char *text)
{
    json_t *lines = json_array();
    while (text && *text) {
        size_t n = strcspn(text, "\n");
        json_array_append_new(lines, json_stringn(text, n));
        text += n + (text[n] == '\n');
    }
    return lines;
}

/* git log lines: hash, short hash, committer date, subject. */
static void after_log(update_run *r, const update_process_result *result)
{
    json_t *lines = result->ok ? lines_array(result->output) : NULL;
    if (json_array_size(lines) >= 4) {
        r->outcome.commit = json_pack("{s:O, s:O, s:O, s:O, s:s}", "hash", json_array_get(lines, 0), "short_hash",
                                      json_array_get(lines, 1), "committed_at", json_array_get(lines, 2), "subject",
                                      json_array_get(lines, 3), "source", "checkout");
    }
    json_decref(lines);
    if (!r->outcome.commit) {
        update_run_warn(r, "cannot read the commit of the checkout");
        update_run_end(r);
        return;
    }
    static const char *const argv[] = {"git", "rev-parse", "--abbrev-ref", "HEAD", NULL};
    update_checkout_command(r, argv, after_branch);
}

static void after_branch(update_run *r, const update_process_result *result)
{
    if (result->ok) {
        size_t n = strcspn(result->output, "\r\n");
        json_object_set_new(r->outcome.commit, "branch", json_stringn(result->output, n));
    }
    update_run_end(r);
}

/* ---- the result ---- */

json_t *update_report_worker_pids(json_t *status)
{
    json_t *pids = json_array();
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(status, "workers"), i, w)
        json_array_append_new(pids, json_integer(json_integer_value(json_object_get(w, "pid"))));
    return pids;
}

json_t *update_report_failure(const char *instance, const char *step, const char *error)
{
    return json_pack("{s:s, s:b, s:s, s:s, s:[], s:s}", "instance", instance, "ok", 0, "step", step, "error", error,
                     "output", "action", update_roll_action_name(UPDATE_ROLL_ACTION_NONE));
}

/* See update_run_done_cb in update_run.h for the fields. */
json_t *update_report_result(update_run *r)
{
    const update_run_outcome *o = &r->outcome;
    json_t *master = json_object_get(r->last_status, "master");
    /* The commit that failed, so that an operator knows what the next
     * update would try again (the checkout is put back behind its remote). */
    const char *failed_hash = o->failed && update_checkout_moved(r) ? r->checkout.new_head : NULL;
    return json_pack("{s:s, s:b, s:s, s:s?, s:o, s:s, s:O?, s:s, s:s?, s:{s:i, s:O?}, s:{s:O?, s:o}, s:b, s:b, s:O, "
                     "s:I}",
                     "instance", r->config->instance, "ok", !o->failed, "step", o->failed ? o->step : "done", "error",
                     o->failed ? o->error : NULL, "output", lines_array(o->output), "action",
                     update_roll_action_name(r->roll.action), "commit", o->commit, "previous_hash",
                     r->checkout.old_head, "failed_hash", failed_hash, "master", "pid_before", r->serving.master_pid,
                     "pid_after", json_object_get(master, "pid"), "workers", "before", r->serving.worker_pids, "after",
                     update_report_worker_pids(r->last_status), "rolled_back", o->rolled_back, "updater_changed",
                     !o->failed && o->updater_changed, "warnings", o->warnings, "duration_ms",
                     (json_int_t)(uv_now(r->loop) - r->started_ms));
}
