/* One instance's update, step by step: each step starts one asynchronous
 * operation (a child process, a control request, a hash) whose completion
 * starts the next, so the loop keeps serving the updater's links meanwhile.
 * The order matters: nothing is rolled before the build and the migrations
 * succeeded, and a failure once the checkout moved puts it back and rebuilds,
 * so a worker respawned later never runs code of a failed update. */
#include "update_run_internal.h"

#include "log.h"
#include "update_control.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATUS_TIMEOUT_MS 5000

static const char *const git_env[] = {"GIT_TERMINAL_PROMPT=0", "LC_ALL=C", NULL};

void run_progress(update_run *r, const char *step, const char *fmt, ...)
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

/* ---- running commands and asking the master ---- */

static void on_process_done(const update_process_result *result, void *data)
{
    update_run *r = data;
    r->process = NULL;
    process_continuation next = r->after_process;
    r->after_process = NULL;
    next(r, result);
}

void run_command(update_run *r, const char *const *argv, process_continuation next)
{
    update_process_options options = {.cwd = r->config->checkout,
                                      .argv = argv,
                                      .extra_env = git_env,
                                      .timeout_ms = r->config->command_timeout_ms};
    r->after_process = next;
    r->process = update_process_start(r->loop, &options, on_process_done, r);
    if (!r->process) {
        update_process_result failed = {.error = "cannot start a process (out of memory)", .output = ""};
        r->after_process = NULL;
        next(r, &failed);
    }
}

typedef struct status_request {
    update_run *run;
    const char *step;
    run_continuation next;
} status_request;

static void on_status(json_t *answer, const char *error, void *data)
{
    status_request *q = data;
    update_run *r = q->run;
    const char *step = q->step;
    run_continuation next = q->next;
    free(q);
    if (!answer || !json_is_object(json_object_get(answer, "master"))) {
        char message[512];
        snprintf(message, sizeof message, "the local master does not answer on %s: %s", r->config->control_socket,
                 error ? error : "no status document");
        run_fail(r, step, message, NULL);
        return;
    }
    json_decref(r->last_status);
    r->last_status = json_incref(answer);
    next(r);
}

void run_read_status(update_run *r, const char *step, run_continuation next)
{
    status_request *q = malloc(sizeof *q);
    if (q) {
        *q = (status_request){r, step, next};
        if (update_control_request(r->loop, r->config->control_socket, "status", STATUS_TIMEOUT_MS, on_status, q) == 0)
            return;
        free(q);
    }
    run_fail(r, step, "cannot ask the master for its status (out of memory)", NULL);
}

/* ---- failing and rolling back ---- */

bool run_head_moved(const update_run *r)
{
    return r->old_head[0] && r->new_head[0] && strcmp(r->old_head, r->new_head) != 0;
}

static void after_rollback_build(update_run *r, const update_process_result *result)
{
    if (!result->ok) {
        char warning[600];
        snprintf(warning, sizeof warning, "roll back: rebuilding %.12s failed: %s", r->old_head, result->error);
        json_array_append_new(r->warnings, json_string(warning));
        report_finish(r);
        return;
    }
    r->rolled_back = true;
    if (strcmp(r->failed_step, "roll") == 0 && r->roll_started && strcmp(r->action, "reload") == 0) {
        r->after_roll = report_finish;
        roll_reload_again(r);
        return;
    }
    report_finish(r);
}

/* cmake --build of the binaries that run, nothing else (tests, fakes). */
static void run_build(update_run *r, process_continuation next)
{
    char jobs[16];
    snprintf(jobs, sizeof jobs, "%d", r->config->build_jobs);
    const char *const argv[] = {"cmake", "--build", r->config->build_dir, "--parallel", jobs, "--target",
                                "payments-master", "payments-worker", "payments", "payments-updater", NULL};
    run_command(r, argv, next);
}

static void after_rollback_reset(update_run *r, const update_process_result *result)
{
    if (!result->ok) {
        char warning[600];
        snprintf(warning, sizeof warning, "roll back: git reset to %.12s failed: %s", r->old_head, result->error);
        json_array_append_new(r->warnings, json_string(warning));
        report_finish(r);
        return;
    }
    run_progress(r, "rollback", "checkout back at %.12s; rebuilding it", r->old_head);
    run_build(r, after_rollback_build);
}

void run_fail(update_run *r, const char *step, const char *error, const char *output)
{
    if (!r->failed) {
        r->failed = true;
        snprintf(r->failed_step, sizeof r->failed_step, "%s", step);
        snprintf(r->error, sizeof r->error, "%s", r->cancelled ? "cancelled" : error);
        r->failed_output = output && *output ? strdup(output) : NULL;
        log_error("update failed at %s: %s", step, r->error);
    }
    if (r->cancelled || r->rolling_back || !run_head_moved(r)) {
        report_finish(r);
        return;
    }
    r->rolling_back = true;
    run_progress(r, "rollback", "putting the checkout back at %.12s", r->old_head);
    const char *const argv[] = {"git", "reset", "--keep", r->old_head, NULL};
    run_command(r, argv, after_rollback_reset);
}

/* ---- the steps ---- */

/* The path a process executes (without " (deleted)"), or "" when unknown. */
static void executable_of(int pid, char *out, size_t len)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", pid);
    ssize_t n = pid > 0 ? readlink(link, out, len - 1) : -1;
    out[n > 0 ? n : 0] = '\0';
    static const char deleted[] = " (deleted)";
    size_t l = strlen(out);
    if (l > sizeof deleted - 1 && strcmp(out + l - (sizeof deleted - 1), deleted) == 0)
        out[l - (sizeof deleted - 1)] = '\0';
}

static int first_worker_pid(json_t *status)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(status, "workers"), i, w)
    {
        const char *state = json_string_value(json_object_get(w, "state"));
        if (state && strcmp(state, "ready") == 0)
            return (int)json_integer_value(json_object_get(w, "pid"));
    }
    return 0;
}

static void after_roll(update_run *r)
{
    run_progress(r, "done", "update finished: %s", r->action);
    report_finish(r);
}

static void after_hash_after(const update_hash_entry *entries, size_t count, void *data)
{
    update_run *r = data;
    memcpy(r->after, entries, count * sizeof *entries);
    if (r->cancelled) {
        run_fail(r, "roll", "cancelled", NULL);
        return;
    }
    r->after_roll = after_roll;
    roll_start(r);
}

static void hash_after(update_run *r)
{
    char running_master[64], running_worker[64];
    snprintf(running_master, sizeof running_master, "/proc/%d/exe", r->master_pid_before);
    int worker = first_worker_pid(r->last_status);
    snprintf(running_worker, sizeof running_worker, "/proc/%d/exe", worker);
    const char *paths[HASH_COUNT] = {r->master_binary, r->worker_binary, r->config->self_path,
                                     running_master, worker ? running_worker : "", "/proc/self/exe"};
    if (update_hash_files(r->loop, paths, HASH_COUNT, after_hash_after, r) < 0)
        run_fail(r, "roll", "cannot hash the binaries (out of memory)", NULL);
}

static void after_status_for_hash(update_run *r)
{
    hash_after(r);
}

static void after_migrate(update_run *r, const update_process_result *result)
{
    if (!result->ok) {
        run_fail(r, "migrate", result->error, result->output);
        return;
    }
    run_progress(r, "migrate", "migrations applied");
    /* The master may have replaced a worker during the build: hash what runs now. */
    run_read_status(r, "roll", after_status_for_hash);
}

static void migrate(update_run *r)
{
    char payments[RUN_PATH_MAX], sql_dir[RUN_PATH_MAX + 8];
    snprintf(payments, sizeof payments, "%s/bin/payments", r->config->build_dir);
    snprintf(sql_dir, sizeof sql_dir, "PAYMENT_SQL_DIR=%s/sql", r->config->checkout);
    run_progress(r, "migrate", "applying migrations");
    const char *const argv[] = {payments, "migrate", NULL};
    const char *const env[] = {sql_dir, "LC_ALL=C", NULL};
    update_process_options options = {
        .cwd = NULL, .argv = argv, .extra_env = env, .timeout_ms = r->config->command_timeout_ms};
    r->after_process = after_migrate;
    r->process = update_process_start(r->loop, &options, on_process_done, r);
    if (!r->process)
        run_fail(r, "migrate", "cannot start payments migrate (out of memory)", NULL);
}

static void after_build(update_run *r, const update_process_result *result)
{
    if (!result->ok) {
        run_fail(r, "build", result->error, result->output);
        return;
    }
    migrate(r);
}

static void build(update_run *r)
{
    run_progress(r, "build", "building in %s", r->config->build_dir);
    run_build(r, after_build);
}

static void after_configure(update_run *r, const update_process_result *result)
{
    if (!result->ok) {
        run_fail(r, "build", result->error, result->output);
        return;
    }
    build(r);
}

static void configure_if_needed(update_run *r)
{
    char cache[RUN_PATH_MAX + 32], type[64];
    snprintf(cache, sizeof cache, "%s/CMakeCache.txt", r->config->build_dir);
    struct stat st;
    if (stat(cache, &st) == 0) {
        build(r);
        return;
    }
    run_progress(r, "build", "configuring %s", r->config->build_dir);
    snprintf(type, sizeof type, "-DCMAKE_BUILD_TYPE=%s", r->config->build_type);
    const char *const argv[] = {"cmake", "-S", r->config->checkout, "-B", r->config->build_dir, type, NULL};
    run_command(r, argv, after_configure);
}

/* The first line of a command's output, trimmed, into out. */
static void first_line(const char *output, char *out, size_t len)
{
    size_t n = strcspn(output, "\r\n");
    snprintf(out, len, "%.*s", (int)n, output);
}

static void after_head_after(update_run *r, const update_process_result *result)
{
    if (!result->ok) {
        run_fail(r, "fetch", result->error, result->output);
        return;
    }
    first_line(result->output, r->new_head, sizeof r->new_head);
    if (strcmp(r->old_head, r->new_head) == 0)
        run_progress(r, "fetch", "already at %.12s", r->new_head);
    else
        run_progress(r, "fetch", "moved from %.12s to %.12s", r->old_head, r->new_head);
    configure_if_needed(r);
}

static void after_pull(update_run *r, const update_process_result *result)
{
    if (!result->ok) {
        run_fail(r, "fetch", result->error, result->output);
        return;
    }
    const char *const argv[] = {"git", "rev-parse", "HEAD", NULL};
    run_command(r, argv, after_head_after);
}

static void after_hash_before(const update_hash_entry *entries, size_t count, void *data)
{
    update_run *r = data;
    memcpy(r->before, entries, count * sizeof *entries);
    if (r->cancelled) {
        run_fail(r, "fetch", "cancelled", NULL);
        return;
    }
    run_progress(r, "fetch", "git pull --ff-only in %s", r->config->checkout);
    const char *const argv[] = {"git", "pull", "--ff-only", NULL};
    run_command(r, argv, after_pull);
}

static void after_head_before(update_run *r, const update_process_result *result)
{
    if (!result->ok) {
        run_fail(r, "fetch", result->error, result->output);
        return;
    }
    first_line(result->output, r->old_head, sizeof r->old_head);
    const char *paths[3] = {r->master_binary, r->worker_binary, r->config->self_path};
    if (update_hash_files(r->loop, paths, 3, after_hash_before, r) < 0)
        run_fail(r, "fetch", "cannot hash the binaries (out of memory)", NULL);
}

static void after_status_before(update_run *r)
{
    json_t *master = json_object_get(r->last_status, "master");
    r->master_pid_before = (int)json_integer_value(json_object_get(master, "pid"));
    r->workers_before = report_worker_pids(r->last_status);
    const char *binary = json_string_value(json_object_get(master, "binary"));
    if (binary && *binary)
        snprintf(r->master_binary, sizeof r->master_binary, "%s", binary);
    else
        executable_of(r->master_pid_before, r->master_binary, sizeof r->master_binary);
    if (!r->master_binary[0])
        snprintf(r->master_binary, sizeof r->master_binary, "%s/bin/payments-master", r->config->build_dir);
    executable_of(first_worker_pid(r->last_status), r->worker_binary, sizeof r->worker_binary);
    if (!r->worker_binary[0])
        snprintf(r->worker_binary, sizeof r->worker_binary, "%s/bin/payments-worker", r->config->build_dir);
    const char *const argv[] = {"git", "rev-parse", "HEAD", NULL};
    run_command(r, argv, after_head_before);
}

update_run *update_run_start(uv_loop_t *loop, const updater_config *config, update_run_progress_cb progress,
                             update_run_done_cb done, void *data)
{
    update_run *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->warnings = json_array();
    if (!r->warnings || uv_timer_init(loop, &r->timer) < 0) {
        json_decref(r->warnings);
        free(r);
        return NULL;
    }
    r->loop = loop;
    r->config = config;
    r->progress = progress;
    r->done = done;
    r->data = data;
    r->timer.data = r;
    r->action = "none";
    r->started_ms = uv_now(loop);
    run_progress(r, "start", "updating %s", config->instance);
    run_read_status(r, "fetch", after_status_before);
    return r;
}

void update_run_cancel(update_run *r)
{
    if (r->cancelled)
        return;
    r->cancelled = true;
    if (r->process)
        update_process_cancel(r->process);
    roll_cancel(r);
}
