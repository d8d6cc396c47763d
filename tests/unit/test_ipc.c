/* The master-worker messages and the control socket's commands: every kind
 * and command parses, payloads are checked whole, unknown, malformed and
 * unexpected lines are refused and logged once per channel and kind, and the
 * senders' lines reach their handlers through a real socket pair. */
#include "control_command.h"
#include "harness.h"
#include "ipc.h"
#include "log.h"
#include "unit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- parsing ---- */

/* Each expectation names its line when it fails: a case checks many. */
static void expect_parsed(const char *line, ipc_kind expected_kind, const char *expected_payload)
{
    ipc_kind kind = IPC_KIND_COUNT;
    const char *payload = "unset";
    if (!CHECK(ipc_parse(line, &kind, &payload) == IPC_PARSED))
        fprintf(stderr, "  the line: \"%s\"\n", line);
    CHECK(kind == expected_kind);
    if (expected_payload)
        CHECK_STR(payload, expected_payload);
    else
        CHECK(payload == NULL);
}

static void expect_unknown(const char *line)
{
    ipc_kind kind = IPC_KIND_COUNT;
    const char *payload = NULL;
    if (!CHECK(ipc_parse(line, &kind, &payload) == IPC_UNKNOWN_KIND))
        fprintf(stderr, "  the line: \"%s\"\n", line);
}

static void expect_malformed(const char *line, ipc_kind expected_kind)
{
    ipc_kind kind = IPC_KIND_COUNT;
    const char *payload = NULL;
    if (!CHECK(ipc_parse(line, &kind, &payload) == IPC_MALFORMED))
        fprintf(stderr, "  the line: \"%s\"\n", line);
    CHECK(kind == expected_kind);
}

UNIT_CASE(every_kind, NULL)
{
    expect_parsed("ready", IPC_READY, NULL);
    expect_parsed("draining", IPC_DRAINING, NULL);
    expect_parsed("drain", IPC_DRAIN, NULL);
    expect_parsed("stats {\"rss\":1024,\"requests\":{\"total\":3}}", IPC_STATS,
                  "{\"rss\":1024,\"requests\":{\"total\":3}}");
    expect_parsed("cluster {\"master\":{\"pid\":1},\"workers\":[]}", IPC_CLUSTER,
                  "{\"master\":{\"pid\":1},\"workers\":[]}");
    expect_parsed("stats {}", IPC_STATS, "{}");
    const char *names[IPC_KIND_COUNT] = {"ready", "draining", "stats", "drain", "cluster"};
    for (int k = 0; k < IPC_KIND_COUNT; k++)
        CHECK_STR(ipc_kind_name((ipc_kind)k), names[k]);
    CHECK_STR(ipc_kind_name(IPC_KIND_COUNT), "unknown");
}

/* A kind is its whole first word: a prefix or an extension of a name is
 * another, unknown, kind. */
UNIT_CASE(unknown_kinds, NULL)
{
    expect_unknown("");
    expect_unknown("hello");
    expect_unknown("readyX");
    expect_unknown("Ready");
    expect_unknown(" ready");
    expect_unknown("drainingX");
    expect_unknown("dra");
    expect_unknown("statistics {}");
    expect_unknown("cluster_v2 {}");
}

UNIT_CASE(malformed_lines, NULL)
{
    expect_malformed("ready ", IPC_READY);
    expect_malformed("ready now", IPC_READY);
    expect_malformed("drain {}", IPC_DRAIN);
    expect_malformed("draining please", IPC_DRAINING);
    expect_malformed("stats", IPC_STATS);
    expect_malformed("stats ", IPC_STATS);
    expect_malformed("stats {", IPC_STATS);
    expect_malformed("stats {\"rss\":1} trailing", IPC_STATS);
    expect_malformed("stats [1,2]", IPC_STATS);
    expect_malformed("stats \"text\"", IPC_STATS);
    expect_malformed("cluster", IPC_CLUSTER);
    expect_malformed("cluster null", IPC_CLUSTER);
}

UNIT_CASE(control_commands, NULL)
{
    control_command command = CONTROL_COMMAND_COUNT;
    const char *names[CONTROL_COMMAND_COUNT] = {"status", "reload", "upgrade"};
    for (int c = 0; c < CONTROL_COMMAND_COUNT; c++) {
        CHECK_STR(control_command_name((control_command)c), names[c]);
        CHECK(control_command_parse(names[c], &command) == 0 && command == (control_command)c);
    }
    CHECK_STR(control_command_name(CONTROL_COMMAND_COUNT), "unknown");
    const char *refused[] = {"", "stat", "statusX", "status ", " status", "Status", "reload now", "frobnicate"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        CHECK(control_command_parse(refused[i], &command) == -1);
    CHECK_STR(CONTROL_UNKNOWN_ANSWER, "{\"error\":\"unknown command\"}");
}

/* ---- through a socket pair ---- */

#define MAX_RECEIVED 16

typedef struct receiver {
    const ipc_handler *handlers;
    int lines;      /* every line the channel delivered */
    size_t handled; /* those a handler took */
    ipc_kind kinds[MAX_RECEIVED];
    char *payloads[MAX_RECEIVED];
} receiver;

static void record(receiver *r, ipc_kind kind, const char *payload)
{
    if (r->handled == MAX_RECEIVED)
        return;
    r->kinds[r->handled] = kind;
    r->payloads[r->handled] = payload ? strdup(payload) : NULL;
    r->handled++;
}

static void record_ready(const char *payload, void *r)
{
    record(r, IPC_READY, payload);
}

static void record_draining(const char *payload, void *r)
{
    record(r, IPC_DRAINING, payload);
}

static void record_stats(const char *payload, void *r)
{
    record(r, IPC_STATS, payload);
}

static void record_drain(const char *payload, void *r)
{
    record(r, IPC_DRAIN, payload);
}

static void record_cluster(const char *payload, void *r)
{
    record(r, IPC_CLUSTER, payload);
}

static const ipc_handler every_kind[IPC_KIND_COUNT] = {
    [IPC_READY] = record_ready, [IPC_DRAINING] = record_draining, [IPC_STATS] = record_stats,
    [IPC_DRAIN] = record_drain, [IPC_CLUSTER] = record_cluster,
};

/* As the old master takes from the new one during an upgrade. */
static const ipc_handler only_ready[IPC_KIND_COUNT] = {[IPC_READY] = record_ready};

static void on_line(ipc_channel *ch, const char *line, void *data)
{
    receiver *r = data;
    if (!line)
        return;
    r->lines++;
    size_t handled = r->handled;
    int rc = ipc_dispatch(ch, line, r->handlers, r);
    CHECK(rc == (r->handled > handled ? 0 : -1));
}

/* The loop and the log file the channels' cases share: a refused line is
 * logged, and the cases count what the log says. */
static uv_loop_t loop;
static char log_path[] = "/tmp/test_ipc_log_XXXXXX";

static bool channels_set_up(void)
{
    int fd = mkstemp(log_path);
    if (!CHECK(fd >= 0))
        return false;
    close(fd);
    if (CHECK(log_open("test", log_path) == 0) && CHECK(uv_loop_init(&loop) == 0))
        return true;
    log_close();
    unlink(log_path);
    return false;
}

static void channels_tear_down(void)
{
    CHECK(uv_loop_close(&loop) == 0);
    log_close();
    unlink(log_path);
}

static const unit_fixture channels = {"channels", channels_set_up, channels_tear_down};

/* Runs the loop until the receiver has seen lines lines, at most 5 s, so a
 * lost line fails a check instead of hanging the test. */
static void receive_lines(receiver *r, int lines)
{
    CHECK(harness_run_until_count(&loop, &r->lines, lines, 5000));
}

/* Closes both channels and lets the loop finish closing them. */
static void close_pair(ipc_channel *sender, ipc_channel *receiving)
{
    ipc_close(receiving);
    ipc_close(sender);
    uv_run(&loop, UV_RUN_DEFAULT);
}

/* A channel that only sends, and one named peer_name that hands what it
 * receives to r, over a socket pair; false when they could not be made. */
static bool open_pair(receiver *r, const char *peer_name, ipc_channel **sender, ipc_channel **receiving)
{
    int fds[2];
    if (!CHECK(uv_socketpair(SOCK_STREAM, 0, fds, 0, 0) == 0))
        return false;
    *sender = ipc_create(&loop, "test receiver", NULL, NULL);
    *receiving = ipc_create(&loop, peer_name, on_line, r);
    if (!CHECK(*sender && *receiving)) {
        close_pair(*sender, *receiving);
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    return CHECK(ipc_open_fd(*sender, fds[0]) == 0 && ipc_open_fd(*receiving, fds[1]) == 0) &&
           CHECK(ipc_start(*receiving) == 0);
}

static size_t count_in_file(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[512];
    size_t n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

UNIT_CASE(senders_round_trip, &channels)
{
    receiver r = {.handlers = every_kind};
    ipc_channel *sender, *receiving;
    if (!open_pair(&r, "test sender", &sender, &receiving))
        return;
    CHECK(ipc_send_ready(sender) == 0);
    CHECK(ipc_send_draining(sender) == 0);
    CHECK(ipc_send_stats(sender, "{\"rss\":1}") == 0);
    CHECK(ipc_send_drain(sender) == 0);
    CHECK(ipc_send_cluster(sender, "{\"workers\":[]}") == 0);
    /* Refused before anything is written: each would break the framing. */
    CHECK(ipc_send_stats(sender, "{\"a\":\n1}") == -1);
    CHECK(ipc_send_cluster(sender, NULL) == -1);
    receive_lines(&r, 5);
    ipc_kind sent[] = {IPC_READY, IPC_DRAINING, IPC_STATS, IPC_DRAIN, IPC_CLUSTER};
    CHECK(r.handled == 5);
    for (size_t i = 0; i < r.handled && i < 5; i++)
        CHECK(r.kinds[i] == sent[i]);
    CHECK(r.handled == 5 && !r.payloads[0] && !r.payloads[1] && !r.payloads[3]);
    CHECK_STR(r.payloads[2], "{\"rss\":1}");
    CHECK_STR(r.payloads[4], "{\"workers\":[]}");
    for (size_t i = 0; i < r.handled; i++)
        free(r.payloads[i]);
    close_pair(sender, receiving);
}

/* Unknown kinds once per channel, each known kind once per channel, however
 * often they come and whatever is wrong with them. */
UNIT_CASE(logged_once, &channels)
{
    receiver r = {.handlers = only_ready};
    ipc_channel *sender, *receiving;
    if (!open_pair(&r, "noisy peer", &sender, &receiving))
        return;
    const char *lines[] = {"hello", "hello",     "goodbye {}", "stats", "stats [1]",  "ready now",
                           "ready", "ready now", "drain",      "drain", "cluster {}", "cluster {}"};
    int count = (int)(sizeof lines / sizeof lines[0]);
    for (int i = 0; i < count; i++)
        CHECK(ipc_send_line(sender, lines[i]) == 0);
    receive_lines(&r, count);
    CHECK(r.lines == count && r.handled == 1 && r.kinds[0] == IPC_READY && !r.payloads[0]);
    close_pair(sender, receiving);
    CHECK(count_in_file(log_path, "ipc (noisy peer): ") == 5);
    CHECK(count_in_file(log_path, "unknown kind \"hello\"") == 1);
    CHECK(count_in_file(log_path, "malformed \"stats\"") == 1);
    CHECK(count_in_file(log_path, "malformed \"ready\"") == 1);
    CHECK(count_in_file(log_path, "unexpected \"drain\"") == 1);
    CHECK(count_in_file(log_path, "unexpected \"cluster\"") == 1);
    CHECK(count_in_file(log_path, "goodbye") == 0);
}
