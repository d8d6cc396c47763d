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

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define POLL_MS 250

static void send_roll_command(update_run *r);

/* The roll is over; error NULL when it completed. */
static void roll_end(update_run *r, const char *error)
{
    r->roll.phase = UPDATE_ROLL_IDLE;
    update_run_step_done(r, error, NULL);
}

/* ---- deciding ---- */

/* The words the report, the log and the progress lines have always used. */
static const char *const action_names[] = {
    [UPDATE_ROLL_ACTION_NONE] = "none",
    [UPDATE_ROLL_ACTION_RELOAD] = "reload",
    [UPDATE_ROLL_ACTION_UPGRADE] = "upgrade",
};

const char *update_roll_action_name(update_roll_action action)
{
    return action_names[action];
}

/* Differs: the running image against the disk, else before against after. */
static bool binary_changed(update_run *r, int disk, int running, const char *name)
{
    const update_run_hashes *h = &r->hashes;
    if (h->after[running].ok && h->after[disk].ok)
        return !update_hash_same(&h->after[running], &h->after[disk]);
    if (h->before[disk].ok && h->after[disk].ok)
        return !update_hash_same(&h->before[disk], &h->after[disk]);
    update_run_warn(r, "cannot read the %s binary %s", name, h->after[disk].path);
    return false;
}

void update_roll_start(update_run *r)
{
    const update_run_hashes *h = &r->hashes;
    bool master_changed = binary_changed(r, UPDATE_BINARY_MASTER, UPDATE_BINARY_RUNNING_MASTER, "master");
    bool worker_changed = binary_changed(r, UPDATE_BINARY_WORKER, UPDATE_BINARY_RUNNING_WORKER, "worker");
    bool moved = update_checkout_moved(r);
    const update_hash_entry *self = &h->after[UPDATE_BINARY_SELF], *running = &h->after[UPDATE_BINARY_RUNNING_SELF];
    r->outcome.updater_changed = self->ok && running->ok && !update_hash_same(self, running);
    r->roll.action = master_changed            ? UPDATE_ROLL_ACTION_UPGRADE
                     : worker_changed || moved ? UPDATE_ROLL_ACTION_RELOAD
                                               : UPDATE_ROLL_ACTION_NONE;
    log_info("update: master binary %s, worker binary %s, commit %s, updater %s", master_changed ? "changed" : "same",
             worker_changed ? "changed" : "same", moved ? "moved" : "same",
             r->outcome.updater_changed ? "changed" : "same");
    if (r->roll.action == UPDATE_ROLL_ACTION_NONE) {
        update_run_progress(r, "roll", "nothing changed: no roll needed");
        roll_end(r, NULL);
        return;
    }
    send_roll_command(r);
}

/* ---- waiting ---- */

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

/* Is the roll over? Writes why not into the wait note. 1: done, 0: not
 * yet, -1: it failed (the note says why). */
static int roll_state(update_run_roll *roll, json_t *status)
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
        bool is_old = pid_listed(roll->worker_pids, (int)json_integer_value(json_object_get(w, "pid")));
        ready += is_ready && !is_old;
        old += is_old;
        old_active += is_old && state && (is_ready || strcmp(state, "starting") == 0);
    }
    bool upgrade = roll->action == UPDATE_ROLL_ACTION_UPGRADE;
    /* The old master answers again with "upgrading" false: its successor died
     * before it was ready, and it took back the socket and pid file. */
    if (upgrade && pid == roll->master_pid && json_is_false(json_object_get(master, "upgrading"))) {
        snprintf(roll->wait_note, sizeof roll->wait_note,
                 "the new master did not come up; the old one (pid %d) keeps serving", pid);
        return -1;
    }
    if (!upgrade && !rolling && old_active > 0) {
        snprintf(roll->wait_note, sizeof roll->wait_note,
                 "the roll stopped with %d old worker(s) still serving (new workers failed to start)", old_active);
        return -1;
    }
    if (upgrade && pid == roll->master_pid) {
        snprintf(roll->wait_note, sizeof roll->wait_note, "the new master has not taken over from pid %d",
                 roll->master_pid);
        return 0;
    }
    if (rolling || ready < configured || old > 0) {
        snprintf(roll->wait_note, sizeof roll->wait_note, "%d of %d new workers ready, %d old one(s) left", ready,
                 configured, old);
        return 0;
    }
    if (upgrade && !process_gone(roll->master_pid)) {
        snprintf(roll->wait_note, sizeof roll->wait_note, "the old master (pid %d) has not exited", roll->master_pid);
        return 0;
    }
    return 1;
}

static void poll_status(uv_timer_t *timer);

static void on_poll_status(json_t *answer, const char *error, void *data)
{
    update_run *r = data;
    update_run_roll *roll = &r->roll;
    if (r->cancelled) {
        roll_end(r, "cancelled");
        return;
    }
    int state = 0;
    if (update_run_keep_status(r, answer))
        state = roll_state(roll, answer);
    else /* during an upgrade the socket changes hands: keep asking */
        snprintf(roll->wait_note, sizeof roll->wait_note, "the master does not answer: %s",
                 error ? error : "no status");
    if (state == 1) {
        update_run_progress(r, "roll", "%s complete", update_roll_action_name(roll->action));
        roll_end(r, NULL);
        return;
    }
    if (state < 0) {
        roll_end(r, roll->wait_note);
        return;
    }
    if (uv_now(r->loop) >= roll->deadline_ms) {
        char message[400];
        snprintf(message, sizeof message, "the %s did not finish within %llu s: %s",
                 update_roll_action_name(roll->action), (unsigned long long)(r->config->roll_timeout_ms / 1000),
                 roll->wait_note);
        roll_end(r, message);
        return;
    }
    roll->phase = UPDATE_ROLL_WAITING;
    uv_timer_start(&roll->timer, poll_status, POLL_MS, 0);
}

static void poll_status(uv_timer_t *timer)
{
    update_run *r = timer->data;
    r->roll.phase = UPDATE_ROLL_REQUEST;
    if (update_run_ask_master(r, CONTROL_STATUS, on_poll_status) < 0)
        roll_end(r, "cannot ask the master for its status (out of memory)");
}

/* ---- asking the master ---- */

static bool unknown_command(json_t *answer)
{
    const char *error = json_string_value(json_object_get(answer, "error"));
    return error && strstr(error, CONTROL_UNKNOWN_COMMAND);
}

static void on_roll_answer(json_t *answer, const char *error, void *data)
{
    update_run *r = data;
    update_run_roll *roll = &r->roll;
    roll->phase = UPDATE_ROLL_IDLE;
    if (r->cancelled) {
        roll_end(r, "cancelled");
        return;
    }
    if (answer && roll->action == UPDATE_ROLL_ACTION_UPGRADE && unknown_command(answer)) {
        update_run_warn(r, "the master binary changed but this master cannot upgrade itself: workers were reloaded; "
                           "restart the master to run the new one");
        roll->action = UPDATE_ROLL_ACTION_RELOAD;
        send_roll_command(r);
        return;
    }
    const char *refusal = answer ? json_string_value(json_object_get(answer, "error")) : NULL;
    if (!answer || refusal) {
        char message[512];
        snprintf(message, sizeof message, "the master refused to %s: %s", update_roll_action_name(roll->action),
                 refusal ? refusal : error);
        roll_end(r, message);
        return;
    }
    roll->started = true;
    roll->deadline_ms = uv_now(r->loop) + r->config->roll_timeout_ms;
    roll->phase = UPDATE_ROLL_WAITING;
    uv_timer_start(&roll->timer, poll_status, POLL_MS, 0);
}

/* Remembers who serves now (from the latest status), then asks the master to roll. */
static void send_roll_command(update_run *r)
{
    update_run_roll *roll = &r->roll;
    json_t *master = json_object_get(r->last_status, "master");
    roll->master_pid = (int)json_integer_value(json_object_get(master, "pid"));
    json_decref(roll->worker_pids);
    roll->worker_pids = update_report_worker_pids(r->last_status);
    update_run_progress(r, "roll", "%s: master pid %d, %zu worker(s) to replace", update_roll_action_name(roll->action),
                        roll->master_pid, json_array_size(roll->worker_pids));
    roll->phase = UPDATE_ROLL_REQUEST;
    control_command command = roll->action == UPDATE_ROLL_ACTION_UPGRADE ? CONTROL_UPGRADE : CONTROL_RELOAD;
    if (update_run_ask_master(r, command, on_roll_answer) < 0)
        roll_end(r, "cannot send the roll command (out of memory)");
}

/* ---- the roll back's reload, and cancelling ---- */

bool update_roll_replaced_workers(const update_run *r)
{
    return strcmp(r->outcome.step, "roll") == 0 && r->roll.started && r->roll.action == UPDATE_ROLL_ACTION_RELOAD;
}

/* The roll back's reload needs who serves now: its own status read. */
void update_roll_prepare_reload(update_run *r)
{
    update_run_progress(r, "rollback", "reloading the workers with the rebuilt old binaries");
    update_run_read_status(r);
}

void update_roll_reload(update_run *r)
{
    r->roll.action = UPDATE_ROLL_ACTION_RELOAD;
    send_roll_command(r);
}

void update_roll_cancel(update_run *r)
{
    if (r->roll.phase != UPDATE_ROLL_WAITING)
        return; /* a control request in flight sees the cancel in its callback */
    uv_timer_stop(&r->roll.timer);
    roll_end(r, "cancelled");
}
