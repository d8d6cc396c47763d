/* The roll: what changed decides it. The running images (/proc/<pid>/exe)
 * are compared with the binaries on disk, so a master that a previous update
 * rebuilt but could not upgrade is still upgraded now; when /proc cannot be
 * read, the hashes from before and after the build are compared instead.
 *   master binary changed          -> "upgrade" (new master, new workers)
 *   worker binary or commit moved  -> "reload"  (workers one at a time)
 *   nothing                        -> nothing to roll
 * Then the master's status is polled until the roll is complete: every
 * worker pid changed, all configured workers ready, and for an upgrade a new
 * master pid with the old master gone. */
#include "update_run_internal.h"

#include "log.h"
#include "update_control.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_MS 250
#define CONTROL_TIMEOUT_MS 5000

static void send_roll_command(update_run *r);

/* During the roll back a failing reload is a warning; otherwise the update failed. */
static void roll_failed(update_run *r, const char *message)
{
    r->roll_phase = ROLL_IDLE;
    if (r->rolling_back) {
        char warning[600];
        snprintf(warning, sizeof warning, "roll back: %s", message);
        json_array_append_new(r->warnings, json_string(warning));
        report_finish(r);
        return;
    }
    run_fail(r, "roll", message, NULL);
}

/* Differs: the running image against the disk, else before against after. */
static bool binary_changed(update_run *r, int disk, int running, const char *name)
{
    if (r->after[running].ok && r->after[disk].ok)
        return !update_hash_same(&r->after[running], &r->after[disk]);
    if (r->before[disk].ok && r->after[disk].ok)
        return !update_hash_same(&r->before[disk], &r->after[disk]);
    char warning[RUN_PATH_MAX + 64];
    snprintf(warning, sizeof warning, "cannot read the %s binary %s", name, r->after[disk].path);
    json_array_append_new(r->warnings, json_string(warning));
    return false;
}

static bool pid_listed(json_t *pids, int pid)
{
    size_t i;
    json_t *p;
    json_array_foreach(pids, i, p) if (json_integer_value(p) == pid) return true;
    return false;
}

/* Gone, or a zombie nobody has reaped yet. */
static bool process_gone(int pid)
{
    if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
        return true;
    char path[64], stat[256] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')');
    return paren && paren[1] == ' ' && paren[2] == 'Z';
}

/* Is the roll over? Writes why not into r->roll_wait_note. 1: done, 0: not
 * yet, -1: it failed (the note says why). */
static int roll_state(update_run *r, json_t *status)
{
    json_t *master = json_object_get(status, "master");
    int pid = (int)json_integer_value(json_object_get(master, "pid"));
    int configured = (int)json_integer_value(json_object_get(master, "workers_configured"));
    bool rolling = json_is_true(json_object_get(master, "rolling"));
    int ready = 0, old = 0, old_active = 0;
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(status, "workers"), i, w)
    {
        const char *state = json_string_value(json_object_get(w, "state"));
        bool is_ready = state && strcmp(state, "ready") == 0;
        bool is_old = pid_listed(r->roll_pids, (int)json_integer_value(json_object_get(w, "pid")));
        ready += is_ready && !is_old;
        old += is_old;
        old_active += is_old && state && (is_ready || strcmp(state, "starting") == 0);
    }
    bool upgrade = strcmp(r->action, "upgrade") == 0;
    /* The old master answers again with "upgrading" false: its successor died
     * before it was ready, and it took back the socket and pid file. */
    if (upgrade && pid == r->roll_master_pid && json_is_false(json_object_get(master, "upgrading"))) {
        snprintf(r->roll_wait_note, sizeof r->roll_wait_note,
                 "the new master did not come up; the old one (pid %d) keeps serving", pid);
        return -1;
    }
    if (!upgrade && !rolling && old_active > 0) {
        snprintf(r->roll_wait_note, sizeof r->roll_wait_note,
                 "the roll stopped with %d old worker(s) still serving (new workers failed to start)", old_active);
        return -1;
    }
    if (upgrade && pid == r->roll_master_pid) {
        snprintf(r->roll_wait_note, sizeof r->roll_wait_note, "the new master has not taken over from pid %d",
                 r->roll_master_pid);
        return 0;
    }
    if (rolling || ready < configured || old > 0) {
        snprintf(r->roll_wait_note, sizeof r->roll_wait_note, "%d of %d new workers ready, %d old one(s) left", ready,
                 configured, old);
        return 0;
    }
    if (upgrade && !process_gone(r->roll_master_pid)) {
        snprintf(r->roll_wait_note, sizeof r->roll_wait_note, "the old master (pid %d) has not exited",
                 r->roll_master_pid);
        return 0;
    }
    return 1;
}

static void poll_status(uv_timer_t *timer);

static void on_poll_status(json_t *answer, const char *error, void *data)
{
    update_run *r = data;
    if (r->cancelled) {
        roll_failed(r, "cancelled");
        return;
    }
    int state = 0;
    if (answer && json_is_object(json_object_get(answer, "master"))) {
        json_decref(r->last_status);
        r->last_status = json_incref(answer);
        state = roll_state(r, answer);
    } else {
        /* during an upgrade the socket changes hands: keep asking */
        snprintf(r->roll_wait_note, sizeof r->roll_wait_note, "the master does not answer: %s",
                 error ? error : "no status");
    }
    if (state == 1) {
        r->roll_phase = ROLL_IDLE;
        run_progress(r, "roll", "%s complete", r->action);
        r->after_roll(r);
        return;
    }
    if (state < 0) {
        roll_failed(r, r->roll_wait_note);
        return;
    }
    if (uv_now(r->loop) >= r->roll_deadline_ms) {
        char message[400];
        snprintf(message, sizeof message, "the %s did not finish within %llu s: %s", r->action,
                 (unsigned long long)(r->config->roll_timeout_ms / 1000), r->roll_wait_note);
        roll_failed(r, message);
        return;
    }
    r->roll_phase = ROLL_WAITING;
    uv_timer_start(&r->timer, poll_status, POLL_MS, 0);
}

static void poll_status(uv_timer_t *timer)
{
    update_run *r = timer->data;
    r->roll_phase = ROLL_REQUEST;
    if (update_control_request(r->loop, r->config->control_socket, "status", CONTROL_TIMEOUT_MS, on_poll_status, r) < 0)
        roll_failed(r, "cannot ask the master for its status (out of memory)");
}

static bool unknown_command(json_t *answer)
{
    const char *error = json_string_value(json_object_get(answer, "error"));
    return error && strstr(error, "unknown command");
}

static void on_roll_answer(json_t *answer, const char *error, void *data)
{
    update_run *r = data;
    r->roll_phase = ROLL_IDLE;
    if (r->cancelled) {
        roll_failed(r, "cancelled");
        return;
    }
    if (answer && strcmp(r->action, "upgrade") == 0 && unknown_command(answer)) {
        json_array_append_new(r->warnings, json_string("the master binary changed but this master cannot upgrade "
                                                       "itself: workers were reloaded; restart the master to run "
                                                       "the new one"));
        r->action = "reload";
        send_roll_command(r);
        return;
    }
    const char *refusal = answer ? json_string_value(json_object_get(answer, "error")) : NULL;
    if (!answer || refusal) {
        char message[512];
        snprintf(message, sizeof message, "the master refused to %s: %s", r->action, refusal ? refusal : error);
        roll_failed(r, message);
        return;
    }
    r->roll_started = true;
    r->roll_deadline_ms = uv_now(r->loop) + r->config->roll_timeout_ms;
    r->roll_phase = ROLL_WAITING;
    uv_timer_start(&r->timer, poll_status, POLL_MS, 0);
}

/* Remembers who serves now, then asks the master to roll. */
static void send_roll_command(update_run *r)
{
    json_t *master = json_object_get(r->last_status, "master");
    r->roll_master_pid = (int)json_integer_value(json_object_get(master, "pid"));
    json_decref(r->roll_pids);
    r->roll_pids = report_worker_pids(r->last_status);
    run_progress(r, "roll", "%s: master pid %d, %zu worker(s) to replace", r->action, r->roll_master_pid,
                 json_array_size(r->roll_pids));
    r->roll_phase = ROLL_REQUEST;
    if (update_control_request(r->loop, r->config->control_socket, r->action, CONTROL_TIMEOUT_MS, on_roll_answer, r) <
        0)
        roll_failed(r, "cannot send the roll command (out of memory)");
}

void roll_start(update_run *r)
{
    bool master_changed = binary_changed(r, HASH_MASTER, HASH_RUNNING_MASTER, "master");
    bool worker_changed = binary_changed(r, HASH_WORKER, HASH_RUNNING_WORKER, "worker");
    r->updater_changed = r->after[HASH_SELF].ok && r->after[HASH_RUNNING_SELF].ok &&
                         !update_hash_same(&r->after[HASH_SELF], &r->after[HASH_RUNNING_SELF]);
    r->action = master_changed ? "upgrade" : worker_changed || run_head_moved(r) ? "reload" : "none";
    log_info("update: master binary %s, worker binary %s, commit %s, updater %s", master_changed ? "changed" : "same",
             worker_changed ? "changed" : "same", run_head_moved(r) ? "moved" : "same",
             r->updater_changed ? "changed" : "same");
    if (strcmp(r->action, "none") == 0) {
        run_progress(r, "roll", "nothing changed: no roll needed");
        r->after_roll(r);
        return;
    }
    send_roll_command(r);
}

static void after_status_for_reload(update_run *r)
{
    r->action = "reload";
    send_roll_command(r);
}

void roll_reload_again(update_run *r)
{
    run_progress(r, "rollback", "reloading the workers with the rebuilt old binaries");
    run_read_status(r, "roll", after_status_for_reload);
}

void roll_cancel(update_run *r)
{
    if (r->roll_phase != ROLL_WAITING)
        return; /* a control request in flight sees the cancel in its callback */
    uv_timer_stop(&r->timer);
    roll_failed(r, "cancelled");
}
