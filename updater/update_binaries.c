/* Which binaries serve, and their content hashes. Before the pull the
 * master's status names its pid, its workers and its binary; the worker's
 * comes from /proc. Their files are hashed before the build; after it the
 * same files are hashed again beside the images running (/proc/<pid>/exe),
 * from which update_roll.c decides what to roll. */
#include "update_run_internal.h"

#include "path.h"

#include <stdio.h>
#include <string.h>

static int first_ready_worker(json_t *status)
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

void update_binaries_remember_serving(update_run *r, const char *output)
{
    (void)output;
    update_run_serving *s = &r->serving;
    json_t *master = json_object_get(r->last_status, "master");
    s->master_pid = (int)json_integer_value(json_object_get(master, "pid"));
    s->worker_pids = update_report_worker_pids(r->last_status);
    const char *binary = json_string_value(json_object_get(master, "binary"));
    if (binary && *binary)
        snprintf(s->master_binary, sizeof s->master_binary, "%s", binary);
    else
        path_executable(s->master_pid, s->master_binary, sizeof s->master_binary);
    if (!s->master_binary[0])
        snprintf(s->master_binary, sizeof s->master_binary, "%s/bin/payments-master", r->config->build_dir);
    path_executable(first_ready_worker(r->last_status), s->worker_binary, sizeof s->worker_binary);
    if (!s->worker_binary[0])
        snprintf(s->worker_binary, sizeof s->worker_binary, "%s/bin/payments-worker", r->config->build_dir);
}

static void on_hashed(update_hash_entry *into, const update_hash_entry *entries, size_t count, update_run *r)
{
    memcpy(into, entries, count * sizeof *entries);
    update_run_step_done(r, NULL, NULL);
}

static void on_hashed_before(const update_hash_entry *entries, size_t count, void *data)
{
    update_run *r = data;
    on_hashed(r->hashes.before, entries, count, r);
}

static void on_hashed_after(const update_hash_entry *entries, size_t count, void *data)
{
    update_run *r = data;
    on_hashed(r->hashes.after, entries, count, r);
}

static void hash(update_run *r, const char *const *paths, size_t count, update_hash_cb cb)
{
    if (update_hash_files(r->loop, paths, count, cb, r) < 0)
        update_run_step_done(r, "cannot hash the binaries (out of memory)", NULL);
}

void update_binaries_hash_before(update_run *r)
{
    const char *paths[] = {r->serving.master_binary, r->serving.worker_binary, r->config->self_path};
    hash(r, paths, sizeof paths / sizeof paths[0], on_hashed_before);
}

/* The master's pid is the one from before: an upgrade replaces it only later. */
void update_binaries_hash_after(update_run *r)
{
    char running_master[64], running_worker[64];
    snprintf(running_master, sizeof running_master, "/proc/%d/exe", r->serving.master_pid);
    int worker = first_ready_worker(r->last_status);
    snprintf(running_worker, sizeof running_worker, "/proc/%d/exe", worker);
    const char *paths[UPDATE_BINARY_COUNT] = {r->serving.master_binary,     r->serving.worker_binary,
                                              r->config->self_path,         running_master,
                                              worker ? running_worker : "", "/proc/self/exe"};
    hash(r, paths, UPDATE_BINARY_COUNT, on_hashed_after);
}
