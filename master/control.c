/* Control socket: a unix domain socket for local tools (`payments status`,
 * the updater, tests). A client sends one command line and gets one JSON
 * answer; the commands are listed in common/control_command.h. */
#include "master.h"

#include "control_command.h"
#include "log.h"

#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *format_time(time_t t, char *out, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

static json_t *parse_or_null(const char *text)
{
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    return doc ? doc : json_null();
}

static json_t *slot_json(const worker_slot *s)
{
    char when[32];
    json_t *stats = s->stats ? json_loads(s->stats, 0, NULL) : NULL;
    return json_pack("{s:i, s:i, s:s, s:i, s:s, s:o}", "id", s->id, "pid", s->pid, "state",
                     supervisor_state_name(s->state), "generation", (int)s->generation, "started_at",
                     format_time(s->started_at, when, sizeof when), "stats", stats ? stats : json_null());
}

char *control_status_json(const master *m)
{
    char when[32];
    json_t *workers = json_array();
    for (const worker_slot *s = m->slots; s; s = s->next)
        json_array_append_new(workers, slot_json(s));
    json_t *doc = json_pack("{s:{s:i, s:s, s:i, s:b, s:b, s:i, s:s, s:s, s:s, s:o, s:i}, s:o}", "master", "pid",
                            (int)getpid(), "started_at", format_time(m->started_at, when, sizeof when), "generation",
                            (int)m->generation, "rolling", m->rolling, "upgrading", m->successor != NULL,
                            "workers_configured", m->config.workers, "mode", cfg_mode_name(m->config.mode), "binary",
                            m->binary_path, "version", PAYMENTS_VERSION, "commit", parse_or_null(m->commit_json),
                            "operators_port", listener_port(m->admin_fd), "workers", workers);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

/* Sends and frees text; NULL, where memory ran out, says so instead. */
static void send_answer(ipc_channel *ch, char *text)
{
    ipc_send_line(ch, text ? text : "{\"error\":\"out of memory\"}");
    free(text);
}

static void answer_status(master *m, ipc_channel *ch)
{
    send_answer(ch, control_status_json(m));
}

static void answer_reload(master *m, ipc_channel *ch)
{
    master_reload(m);
    ipc_send_line(ch, "{\"ok\":true}");
}

static void answer_upgrade(master *m, ipc_channel *ch)
{
    char err[256];
    json_t *answer = upgrade_start(m, err, sizeof err) < 0
                         ? json_pack("{s:s}", "error", err)
                         : json_pack("{s:b, s:i}", "ok", 1, "pid", m->successor ? m->successor->pid : 0);
    send_answer(ch, answer ? json_dumps(answer, JSON_COMPACT) : NULL);
    json_decref(answer);
}

typedef void (*answer_fn)(master *m, ipc_channel *ch);

static const answer_fn answers[CONTROL_COMMAND_COUNT] = {
    [CONTROL_STATUS] = answer_status,
    [CONTROL_RELOAD] = answer_reload,
    [CONTROL_UPGRADE] = answer_upgrade,
};

/* One command per connection: answered, then the connection closes. */
static void on_command(ipc_channel *ch, const char *line, void *data)
{
    control_command command;
    if (line && control_command_parse(line, &command) == 0)
        answers[command](data, ch);
    else if (line)
        ipc_send_line(ch, CONTROL_UNKNOWN_ANSWER);
    ipc_close(ch);
}

static void on_connection(uv_stream_t *server, int status)
{
    master *m = server->data;
    if (status < 0)
        return;
    ipc_channel *ch = ipc_create(m->loop, "control client", on_command, m);
    if (!ch)
        return;
    if (uv_accept(server, (uv_stream_t *)ipc_pipe(ch)) < 0 || ipc_start(ch) < 0)
        ipc_close(ch);
}

static void free_pipe(uv_handle_t *handle)
{
    free(handle);
}

int control_open(master *m)
{
    const char *path = m->config.control_socket;
    uv_pipe_t *pipe = malloc(sizeof *pipe);
    int rc = !pipe ? UV_ENOMEM : path_make_parent(path) < 0 ? UV_EACCES : uv_pipe_init(m->loop, pipe, 0);
    if (rc < 0) {
        free(pipe);
        log_error("control socket %s: %s", path, uv_strerror(rc));
        return -1;
    }
    pipe->data = m;
    unlink(path); /* a stale socket of a master that died, or the one we take over */
    rc = uv_pipe_bind(pipe, path);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)pipe, 16, on_connection);
    if (rc < 0) {
        log_error("control socket %s: %s", path, uv_strerror(rc));
        uv_close((uv_handle_t *)pipe, free_pipe);
        return -1;
    }
    chmod(path, 0600);
    m->control = pipe;
    return 0;
}

void control_close(master *m)
{
    if (!m->control)
        return;
    /* libuv unlinks the socket's path as it closes it. */
    uv_close((uv_handle_t *)m->control, free_pipe);
    m->control = NULL;
}
