/* Supervisor: keeps the configured number of workers running. Every change
 * (a worker ready, a worker gone, a tick, a reload) ends in maintain(), which
 * compares what runs with what should run and takes at most one kind of step:
 * finish a stop, advance a roll, respawn, or trim. A roll replaces workers one
 * at a time and drains an old one only after its replacement reported ready,
 * so the number of ready workers never drops below the configured count. */
#include "master.h"

#include "log.h"
#include "process_stats.h"
#include "sd_notify.h"

#include <jansson.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TICK_MS 250
#define START_LIMIT_MS 30000 /* a worker not ready by then is killed */
#define YOUNG_MS 5000        /* dying younger than this counts as a crash loop */
#define MAX_BACKOFF_MS 30000
#define ROLL_MAX_FAILURES 3
#define FAST_STOP_LIMIT_MS 5000

static void maintain(master *m);

const char *supervisor_state_name(slot_state s)
{
    return s == SLOT_STARTING ? "starting" : s == SLOT_READY ? "ready" : s == SLOT_DRAINING ? "draining" : "exited";
}

static void slot_set_state(worker_slot *s, slot_state state)
{
    s->state = state;
    s->state_since_ms = uv_now(s->master->loop);
}

static bool slot_active(const worker_slot *s)
{
    return s->state == SLOT_STARTING || s->state == SLOT_READY;
}

int supervisor_active_count(const master *m)
{
    int n = 0;
    for (const worker_slot *s = m->slots; s; s = s->next)
        n += slot_active(s);
    return n;
}

static void slot_drain(worker_slot *s)
{
    if (!slot_active(s))
        return;
    slot_set_state(s, SLOT_DRAINING);
    log_info("worker %d (pid %d): draining", s->id, s->pid);
    if (!s->ipc || ipc_send_drain(s->ipc) < 0)
        kill(s->pid, SIGQUIT);
}

static void unlink_slot(master *m, worker_slot *gone)
{
    for (worker_slot **p = &m->slots; *p; p = &(*p)->next) {
        if (*p == gone) {
            *p = gone->next;
            break;
        }
    }
    for (worker_slot *s = m->slots; s; s = s->next)
        if (s->replaces == gone)
            s->replaces = NULL;
}

static void on_process_closed(uv_handle_t *handle)
{
    worker_slot *s = handle->data;
    master *m = s->master;
    unlink_slot(m, s);
    free(s->stats);
    free(s);
    maintain(m);
}

static void release_slot(worker_slot *s)
{
    if (s->ipc)
        ipc_close(s->ipc);
    s->ipc = NULL;
    uv_close((uv_handle_t *)&s->process, on_process_closed);
}

/* Backoff for a worker that died without being asked to. */
static void note_crash(master *m, worker_slot *s)
{
    uint64_t now = uv_now(m->loop);
    if (s->generation == m->generation && m->rolling && s->replaces) {
        m->roll_failures++;
    }
    m->crash_streak = now - s->started_ms >= YOUNG_MS ? 1 : m->crash_streak + 1;
    uint64_t delay = 0;
    if (m->crash_streak > 1) {
        int shift = m->crash_streak - 1 > 9 ? 9 : m->crash_streak - 1;
        delay = 100u << shift;
        if (delay > MAX_BACKOFF_MS)
            delay = MAX_BACKOFF_MS;
    }
    m->respawn_at_ms = now + delay;
    if (delay)
        log_warn("workers keep dying young: next start in %llu ms", (unsigned long long)delay);
}

static void on_worker_exit(uv_process_t *process, int64_t status, int term_signal)
{
    worker_slot *s = process->data;
    master *m = s->master;
    bool expected = s->state == SLOT_DRAINING || m->stopping != STOP_NONE;
    if (term_signal)
        log_write(expected ? LOG_INFO : LOG_ERROR, "worker %d (pid %d) killed by signal %d (%s)%s", s->id, s->pid,
                  term_signal, strsignal(term_signal), expected ? "" : ": replacing it");
    else
        log_write(expected && status == 0 ? LOG_INFO : LOG_ERROR, "worker %d (pid %d) exited with status %lld%s", s->id,
                  s->pid, (long long)status, expected ? "" : ": replacing it");
    if (!expected) {
        note_crash(m, s);
        if (m->metrics)
            atomic_fetch_add(&m->metrics->worker_restarts, 1);
    }
    if (m->metrics)
        metrics_region_release(m->metrics, s->pid);
    slot_set_state(s, SLOT_EXITED);
    release_slot(s);
}

static bool all_ready(const master *m)
{
    int ready = 0;
    for (const worker_slot *s = m->slots; s; s = s->next) {
        if (s->state == SLOT_STARTING)
            return false;
        ready += s->state == SLOT_READY;
    }
    return ready >= m->config.workers;
}

/* Once per master: every worker is up (systemd, or the master we replace). */
static void announce_when_ready(master *m)
{
    if (m->announced_ready || m->stopping != STOP_NONE || !all_ready(m))
        return;
    m->announced_ready = true;
    log_info("all %d workers ready", m->config.workers);
    upgrade_announce_ready(m);
}

static void on_worker_ready(worker_slot *s)
{
    if (s->state != SLOT_STARTING)
        return;
    slot_set_state(s, SLOT_READY);
    log_info("worker %d (pid %d) ready", s->id, s->pid);
    if (s->replaces) {
        slot_drain(s->replaces);
        s->replaces = NULL;
        s->master->roll_failures = 0;
    }
    maintain(s->master);
}

static void on_ready_message(const char *payload, void *slot)
{
    (void)payload;
    on_worker_ready(slot);
}

/* A worker draining on its own (QUIT, a lost master): its exit is then
 * expected, not a crash, and the next tick starts its replacement. */
static void on_draining_message(const char *payload, void *slot)
{
    (void)payload;
    worker_slot *s = slot;
    if (s->state != SLOT_DRAINING)
        slot_set_state(s, SLOT_DRAINING);
}

static void on_stats_message(const char *payload, void *slot)
{
    worker_slot *s = slot;
    ipc_keep_payload(&s->stats, payload);
}

/* What a worker says (common/ipc.h). */
static const ipc_handler worker_messages[IPC_KIND_COUNT] = {
    [IPC_READY] = on_ready_message,
    [IPC_DRAINING] = on_draining_message,
    [IPC_STATS] = on_stats_message,
};

static void on_worker_message(ipc_channel *ch, const char *line, void *data)
{
    worker_slot *s = data;
    if (line) {
        ipc_dispatch(ch, line, worker_messages, s);
        return;
    }
    ipc_close(ch);
    s->ipc = NULL;
}

static void on_spawn_failed_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static worker_slot *slot_spawn(master *m, worker_slot *replaces)
{
    worker_slot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->master = m;
    s->id = ++m->next_slot_id;
    s->generation = m->generation;
    s->replaces = replaces;
    s->started_at = time(NULL);
    s->started_ms = uv_now(m->loop);
    s->state = SLOT_STARTING;
    s->state_since_ms = s->started_ms;
    s->process.data = s;
    char peer[32];
    snprintf(peer, sizeof peer, "worker %d", s->id);
    s->ipc = ipc_create(m->loop, peer, on_worker_message, s);
    if (!s->ipc) {
        free(s);
        return NULL;
    }
    uv_stdio_container_t stdio[7] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = STDOUT_FILENO},
        {.flags = UV_INHERIT_FD, .data.fd = STDERR_FILENO},
        {.flags = UV_INHERIT_FD, .data.fd = m->listen_fd},
        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)ipc_pipe(s->ipc)},
        {.flags = UV_INHERIT_FD, .data.fd = m->admin_fd},
        {.flags = m->metrics_fd >= 0 ? UV_INHERIT_FD : UV_IGNORE, .data.fd = m->metrics_fd},
    };
    char *args[] = {m->config.worker_path, NULL};
    uv_process_options_t options = {
        .exit_cb = on_worker_exit, .file = m->config.worker_path, .args = args, .stdio_count = 7, .stdio = stdio};
    if (privilege_spawn_options(&m->privilege, &options) < 0) {
        log_error("cannot start worker %s: out of memory", m->config.worker_path);
        ipc_close(s->ipc); /* the process handle was never initialized */
        free(s);
        return NULL;
    }
    int rc = uv_spawn(m->loop, &s->process, &options);
    privilege_spawn_done(&options);
    if (rc < 0) {
        log_error("cannot start worker %s%s%s: %s", m->config.worker_path, m->privilege.drop ? " as user " : "",
                  m->privilege.drop ? m->privilege.user.name : "", uv_strerror(rc));
        ipc_close(s->ipc);
        uv_close((uv_handle_t *)&s->process, on_spawn_failed_closed);
        return NULL;
    }
    s->pid = s->process.pid;
    if (ipc_start(s->ipc) < 0)
        log_error("worker %d: cannot read its IPC channel", s->id);
    s->next = m->slots;
    m->slots = s;
    log_info("worker %d started (pid %d, generation %u)%s", s->id, s->pid, s->generation,
             replaces ? " to replace an old one" : "");
    return s;
}

/* Kills workers that overstay: not ready in time, or draining too long. */
static void kill_stuck(master *m)
{
    uint64_t now = uv_now(m->loop);
    for (worker_slot *s = m->slots; s; s = s->next) {
        uint64_t age = now - s->state_since_ms;
        bool stuck = (s->state == SLOT_STARTING && age > START_LIMIT_MS) ||
                     (s->state == SLOT_DRAINING && age > m->config.drain_timeout_ms + 5000) ||
                     (m->stopping == STOP_FAST && s->state != SLOT_EXITED && age > FAST_STOP_LIMIT_MS);
        if (stuck) {
            log_error("worker %d (pid %d) stuck %s for %llu ms: killing it", s->id, s->pid,
                      supervisor_state_name(s->state), (unsigned long long)age);
            kill(s->pid, SIGKILL);
            s->state_since_ms = now; /* one kill per period */
        }
    }
}

static void finish_stop(master *m)
{
    log_info("all workers gone, master exiting");
    uv_close((uv_handle_t *)&m->tick, NULL);
    control_close(m);
    for (size_t i = 0; i < sizeof m->signals / sizeof m->signals[0]; i++)
        uv_close((uv_handle_t *)&m->signals[i], NULL);
    pidfile_remove(m->config.pid_file);
}

static void keep_count(master *m);

/* One roll step: if no replacement is starting, start one for the next old
 * worker; when none is left serving, and every drained one has exited (its
 * requests, vendor calls and database work finished), the roll is over.
 * Returns true while rolling. */
static bool roll_step(master *m)
{
    worker_slot *old = NULL;
    bool old_draining = false;
    for (worker_slot *s = m->slots; s; s = s->next) {
        if (s->state == SLOT_STARTING && s->generation == m->generation)
            return true; /* wait for it */
        if (slot_active(s) && s->generation != m->generation)
            old = s;
        old_draining |= s->state == SLOT_DRAINING && s->generation != m->generation;
    }
    if (!old && old_draining) {
        keep_count(m); /* a new worker that dies meanwhile is still replaced */
        return true;
    }
    if (!old) {
        m->rolling = false;
        log_info("roll complete: %d workers of generation %u", supervisor_active_count(m), m->generation);
        sd_notify_send("READY=1");
        return false;
    }
    if (m->roll_failures >= ROLL_MAX_FAILURES) {
        m->rolling = false;
        log_error("roll aborted: %d new workers in a row failed to start; old workers keep serving", m->roll_failures);
        sd_notify_send("READY=1"); /* the reload is over, if not as asked */
        return false;
    }
    if (uv_now(m->loop) >= m->respawn_at_ms && !slot_spawn(m, old))
        m->roll_failures++;
    return true;
}

/* Outside a roll: respawn missing workers, drain surplus ones. */
static void keep_count(master *m)
{
    int active = supervisor_active_count(m);
    for (; active < m->config.workers && uv_now(m->loop) >= m->respawn_at_ms; active++) {
        if (!slot_spawn(m, NULL)) {
            m->respawn_at_ms = uv_now(m->loop) + 1000;
            break;
        }
    }
    for (worker_slot *s = m->slots; s && active > m->config.workers; s = s->next) {
        if (slot_active(s)) {
            slot_drain(s);
            active--;
        }
    }
}

static void maintain(master *m)
{
    kill_stuck(m);
    if (m->stopping != STOP_NONE) {
        if (!m->slots && !uv_is_closing((uv_handle_t *)&m->tick))
            finish_stop(m);
        return;
    }
    if (m->rolling && roll_step(m))
        return;
    keep_count(m);
    announce_when_ready(m);
}

static json_t *process_entry(int pid, json_t *performance)
{
    json_t *entry = json_is_object(performance) ? performance : json_object();
    json_object_set_new(entry, "pid", json_integer(pid));
    return entry;
}

/* Every second each worker gets the whole instance's figures, so any of them
 * can answer /monitors/performance for the master and all workers. */
static void broadcast_cluster(master *m)
{
    json_t *workers = json_array();
    for (const worker_slot *s = m->slots; s; s = s->next)
        if (s->stats)
            json_array_append_new(workers, process_entry(s->pid, json_loads(s->stats, 0, NULL)));
    json_t *doc = json_pack("{s:o, s:o}", "master", process_entry(getpid(), process_performance()), "workers", workers);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    for (worker_slot *s = m->slots; s && text; s = s->next)
        if (s->state == SLOT_READY && s->ipc)
            ipc_send_cluster(s->ipc, text);
    free(text);
}

void supervisor_publish_figures(master *m)
{
    if (!m->metrics)
        return;
    uint64_t cpu_us, rss_bytes;
    metrics_process_sample(&cpu_us, &rss_bytes);
    atomic_store_explicit(&m->metrics->master_cpu_us, cpu_us, memory_order_relaxed);
    atomic_store_explicit(&m->metrics->master_rss_bytes, rss_bytes, memory_order_relaxed);
}

static void on_tick(uv_timer_t *timer)
{
    master *m = timer->data;
    upgrade_check(m);
    maintain(m);
    if (++m->ticks % (1000 / TICK_MS) == 0 && m->stopping == STOP_NONE) {
        broadcast_cluster(m);
        supervisor_publish_figures(m);
    }
}

int supervisor_start(master *m)
{
    if (uv_timer_start(&m->tick, on_tick, TICK_MS, TICK_MS) < 0)
        return -1;
    maintain(m);
    return supervisor_active_count(m) > 0 ? 0 : -1;
}

void supervisor_roll(master *m)
{
    if (m->stopping != STOP_NONE)
        return;
    m->generation++;
    m->rolling = true;
    m->roll_failures = 0;
    log_info("rolling workers to generation %u", m->generation);
    maintain(m);
}

void supervisor_stop(master *m, stop_mode mode)
{
    if (m->stopping >= mode)
        return;
    log_info("%s stop", mode == STOP_FAST ? "fast" : "graceful");
    if (!m->handed_over)
        sd_notify_send("STOPPING=1");
    m->stopping = mode;
    m->rolling = false;
    listener_close(&m->listen_fd);
    listener_close(&m->admin_fd);
    for (worker_slot *s = m->slots; s; s = s->next) {
        if (mode == STOP_FAST) {
            s->state_since_ms = uv_now(m->loop);
            kill(s->pid, SIGTERM);
        } else {
            slot_drain(s);
        }
    }
    maintain(m);
}
