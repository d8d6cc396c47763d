/* The end of an instance's update: what the instance serves now (the
 * master's own commit field when it has one, else the checkout's commit,
 * which a roll back made equal to what runs), and the result document the
 * master updater gathers. The run is freed here, after its timer closed. */
#include "update_run_internal.h"

#include "log.h"
#include "update_control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_TIMEOUT_MS 5000

json_t *report_worker_pids(json_t *status)
{
    json_t *pids = json_array();
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(status, "workers"), i, w)
        json_array_append_new(pids, json_integer(json_integer_value(json_object_get(w, "pid"))));
    return pids;
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

static void on_closed(uv_handle_t *handle)
{
    update_run *r = handle->data;
    json_t *master = json_object_get(r->last_status, "master");
    json_t *result = json_pack(
        "{s:s, s:b, s:s, s:s?, s:o, s:s, s:O?, s:s, s:{s:i, s:O?}, s:{s:O?, s:o}, s:b, s:b, s:O, s:I}", "instance",
        r->config->instance, "ok", !r->failed, "step", r->failed ? r->failed_step : "done", "error",
        r->failed ? r->error : NULL, "output", lines_array(r->failed_output), "action", r->action, "commit", r->commit,
        "previous_hash", r->old_head, "master", "pid_before", r->master_pid_before, "pid_after",
        json_object_get(master, "pid"), "workers", "before", r->workers_before, "after",
        report_worker_pids(r->last_status), "rolled_back", r->rolled_back, "updater_changed",
        !r->failed && r->updater_changed, "warnings", r->warnings, "duration_ms",
        (json_int_t)(uv_now(r->loop) - r->started_ms));
    if (!result)
        log_error("update: cannot build the result document");
    r->done(result, r->data);
    json_decref(r->workers_before);
    json_decref(r->roll_pids);
    json_decref(r->last_status);
    json_decref(r->warnings);
    json_decref(r->commit);
    free(r->failed_output);
    free(r);
}

static void end_run(update_run *r)
{
    uv_close((uv_handle_t *)&r->timer, on_closed);
}

static void after_branch(update_run *r, const update_process_result *result)
{
    if (result->ok && r->commit) {
        size_t n = strcspn(result->output, "\r\n");
        json_object_set_new(r->commit, "branch", json_stringn(result->output, n));
    }
    end_run(r);
}

/* git log lines: hash, short hash, committer date, subject. */
static void after_log(update_run *r, const update_process_result *result)
{
    json_t *lines = result->ok ? lines_array(result->output) : NULL;
    if (json_array_size(lines) >= 4) {
        r->commit = json_pack("{s:O, s:O, s:O, s:O, s:s}", "hash", json_array_get(lines, 0), "short_hash",
                              json_array_get(lines, 1), "committed_at", json_array_get(lines, 2), "subject",
                              json_array_get(lines, 3), "source", "checkout");
    }
    json_decref(lines);
    if (!r->commit) {
        json_array_append_new(r->warnings, json_string("cannot read the commit of the checkout"));
        end_run(r);
        return;
    }
    const char *const argv[] = {"git", "rev-parse", "--abbrev-ref", "HEAD", NULL};
    run_command(r, argv, after_branch);
}

static void on_final_status(json_t *answer, const char *error, void *data)
{
    update_run *r = data;
    (void)error;
    if (answer && json_is_object(json_object_get(answer, "master"))) {
        json_decref(r->last_status);
        r->last_status = json_incref(answer);
    }
    if (!r->failed)
        r->commit = commit_from_status(r->last_status);
    if (r->commit) {
        end_run(r);
        return;
    }
    /* When the roll back could not reset the checkout, the old commit still serves. */
    const char *ref = r->failed && !r->rolled_back && run_head_moved(r) ? r->old_head : "HEAD";
    const char *const argv[] = {"git", "log", "-1", "--format=%H%n%h%n%cI%n%s", ref, NULL};
    run_command(r, argv, after_log);
}

void report_finish(update_run *r)
{
    if (r->finishing)
        return;
    r->finishing = true;
    if (r->cancelled) {
        end_run(r);
        return;
    }
    if (update_control_request(r->loop, r->config->control_socket, "status", STATUS_TIMEOUT_MS, on_final_status, r) <
        0)
        on_final_status(NULL, "out of memory", r);
}
