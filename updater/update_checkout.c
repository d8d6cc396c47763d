/* The steps of an update that run a command: git in the checkout (its head,
 * the pull, the reset of a roll back), cmake (configure, build) and the new
 * `payments migrate`. Each command is one child process at a time, which
 * update_run_cancel can stop; its error and last lines of output become the
 * step's. */
#include "update_run_internal.h"

#include "build_cache.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *const git_env[] = {"GIT_TERMINAL_PROMPT=0", "LC_ALL=C", NULL};

static void on_process_done(const update_process_result *result, void *data)
{
    update_run *r = data;
    r->process = NULL;
    update_run_process_cb next = r->after_process;
    r->after_process = NULL;
    next(r, result);
}

static void spawn(update_run *r, const update_process_options *options, update_run_process_cb next)
{
    r->after_process = next;
    r->process = update_process_start(r->loop, options, on_process_done, r);
    if (!r->process) {
        update_process_result failed = {.error = "cannot start a process (out of memory)", .output = ""};
        r->after_process = NULL;
        next(r, &failed);
    }
}

void update_checkout_command(update_run *r, const char *const *argv, update_run_process_cb next)
{
    update_process_options options = {
        .cwd = r->config->checkout, .argv = argv, .extra_env = git_env, .timeout_ms = r->config->command_timeout_ms};
    spawn(r, &options, next);
}

/* The command was the step's operation. */
static void end_step(update_run *r, const update_process_result *result)
{
    update_run_step_done(r, result->ok ? NULL : result->error, result->output);
}

bool update_checkout_moved(const update_run *r)
{
    const update_run_checkout *c = &r->checkout;
    return c->old_head[0] && c->new_head[0] && strcmp(c->old_head, c->new_head) != 0;
}

/* ---- pull ---- */

void update_checkout_read_head(update_run *r)
{
    static const char *const argv[] = {"git", "rev-parse", "HEAD", NULL};
    update_checkout_command(r, argv, end_step);
}

/* The first line of a command's output, into out. */
static void first_line(const char *output, char *out, size_t len)
{
    size_t n = strcspn(output, "\r\n");
    snprintf(out, len, "%.*s", (int)n, output);
}

void update_checkout_remember_old_head(update_run *r, const char *output)
{
    first_line(output, r->checkout.old_head, sizeof r->checkout.old_head);
}

void update_checkout_pull(update_run *r)
{
    static const char *const argv[] = {"git", "pull", "--ff-only", NULL};
    update_run_progress(r, "fetch", "git pull --ff-only in %s", r->config->checkout);
    update_checkout_command(r, argv, end_step);
}

void update_checkout_remember_new_head(update_run *r, const char *output)
{
    update_run_checkout *c = &r->checkout;
    first_line(output, c->new_head, sizeof c->new_head);
    if (strcmp(c->old_head, c->new_head) == 0)
        update_run_progress(r, "fetch", "already at %.12s", c->new_head);
    else
        update_run_progress(r, "fetch", "moved from %.12s to %.12s", c->old_head, c->new_head);
}

/* ---- build ---- */

/* A folder not configured yet, or configured with another build type than
 * PAYMENT_UPDATE_BUILD_TYPE, is configured (again) before the build, so
 * that the setting is never silently ignored. */
bool update_checkout_needs_configure(const update_run *r)
{
    return !build_cache_has_type(r->config->build_dir, r->config->build_type);
}

void update_checkout_configure(update_run *r)
{
    char type[64];
    snprintf(type, sizeof type, "-DCMAKE_BUILD_TYPE=%s", r->config->build_type);
    const char *const argv[] = {"cmake", "-S", r->config->checkout, "-B", r->config->build_dir, type, NULL};
    update_run_progress(r, "build", "configuring %s", r->config->build_dir);
    update_checkout_command(r, argv, end_step);
}

/* cmake --build of the binaries that run, nothing else (tests, fakes). */
static void build(update_run *r)
{
    char jobs[16];
    snprintf(jobs, sizeof jobs, "%d", r->config->build_jobs);
    const char *const argv[] = {"cmake",    "--build",         r->config->build_dir, "--parallel", jobs,
                                "--target", "payments-master", "payments-worker",    "payments",   "payments-updater",
                                NULL};
    update_checkout_command(r, argv, end_step);
}

void update_checkout_build(update_run *r)
{
    update_run_progress(r, "build", "building in %s", r->config->build_dir);
    build(r);
}

/* ---- migrate ---- */

/* The freshly built `payments migrate` with the checkout's sql/. */
void update_checkout_migrate(update_run *r)
{
    char payments[UPDATE_RUN_PATH_MAX], sql_dir[UPDATE_RUN_PATH_MAX + 8];
    snprintf(payments, sizeof payments, "%s/bin/payments", r->config->build_dir);
    snprintf(sql_dir, sizeof sql_dir, "PAYMENT_SQL_DIR=%s/sql", r->config->checkout);
    const char *const argv[] = {payments, "migrate", NULL};
    const char *const env[] = {sql_dir, "LC_ALL=C", NULL};
    update_process_options options = {
        .cwd = NULL, .argv = argv, .extra_env = env, .timeout_ms = r->config->command_timeout_ms};
    update_run_progress(r, "migrate", "applying migrations");
    spawn(r, &options, end_step);
}

void update_checkout_migrated(update_run *r, const char *output)
{
    (void)output;
    update_run_progress(r, "migrate", "migrations applied");
}

/* ---- roll back ---- */

void update_checkout_reset(update_run *r)
{
    const char *const argv[] = {"git", "reset", "--keep", r->checkout.old_head, NULL};
    update_run_progress(r, "rollback", "putting the checkout back at %.12s", r->checkout.old_head);
    update_checkout_command(r, argv, end_step);
}

void update_checkout_rebuild(update_run *r)
{
    update_run_progress(r, "rollback", "checkout back at %.12s; rebuilding it", r->checkout.old_head);
    build(r);
}

void update_checkout_rebuilt(update_run *r, const char *output)
{
    (void)output;
    r->outcome.rolled_back = true;
}
