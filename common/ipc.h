/* IPC between a master and its workers, and between an old master and the
 * new one during an upgrade: newline-terminated text lines over a libuv pipe.
 * The channel (ipc.c) frames lines, for the control socket's commands too
 * (control_command.h); the messages (ipc_message.c) are listed below. */
#ifndef PAYMENTS_IPC_H
#define PAYMENTS_IPC_H

#include <stddef.h>
#include <uv.h>

/* Every message that crosses, one line each: its kind's name, then for the
 * kinds that carry one, a space and a payload (a JSON object, compact).
 *
 *   kind       line                  sent by -> to
 *   READY      "ready"               worker -> master: serving, may replace an old worker
 *                                    new master -> old master (upgrade): all workers ready
 *   DRAINING   "draining"            worker -> master: stopped accepting, on its own or asked
 *   STATS      "stats {...}"         worker -> master, every second: its performance figures
 *   DRAIN      "drain"               master -> worker: finish in-flight work, then exit
 *   CLUSTER    "cluster {...}"       master -> worker, every second: the figures of the
 *                                    master and all workers, for /monitors/performance
 *
 * A receiver lists the kinds it takes in a table of handlers (ipc_dispatch);
 * what it does not take, or cannot parse, it ignores and logs once per
 * channel and kind: a newer peer talking to an older one must not flood the
 * log with a line per second. */
typedef enum ipc_kind { IPC_READY, IPC_DRAINING, IPC_STATS, IPC_DRAIN, IPC_CLUSTER, IPC_KIND_COUNT } ipc_kind;

#define IPC_MAX_LINE 65536

typedef struct ipc_channel ipc_channel;

/* ---- the channel (ipc.c) ---- */

/* line is NUL-terminated without its newline. line NULL: the peer closed or
 * the channel failed; no further calls follow. */
typedef void (*ipc_message_cb)(ipc_channel *ch, const char *line, void *data);

/* A channel with an initialized, unopened pipe. peer names the other side in
 * the log ("worker 3", "master"); it is copied. */
ipc_channel *ipc_create(uv_loop_t *loop, const char *peer, ipc_message_cb cb, void *data);
/* The pipe to hand to uv_spawn as UV_CREATE_PIPE (master side). */
uv_pipe_t *ipc_pipe(ipc_channel *ch);
/* Opens an inherited descriptor (worker side). Returns 0 or a libuv error. */
int ipc_open_fd(ipc_channel *ch, int fd);
/* Starts reading. Returns 0 or a libuv error. */
int ipc_start(ipc_channel *ch);
/* Queues one line as is (the newline is added): for the control socket's
 * answers; messages go through the senders below. Returns 0 or -1. */
int ipc_send_line(ipc_channel *ch, const char *text);
/* Lets queued lines go out, then closes and frees; cb is not called again. */
void ipc_close(ipc_channel *ch);
/* Logs "ipc (peer): message" the first time key is seen on this channel,
 * never again; key is below 32. */
void ipc_log_once(ipc_channel *ch, unsigned key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- the messages (ipc_message.c) ---- */

typedef enum ipc_parse_result {
    IPC_PARSED,
    IPC_UNKNOWN_KIND, /* the first word names no kind: "readyX", "", "hello" */
    IPC_MALFORMED     /* a known kind with a payload it must not have, or without the one it needs */
} ipc_parse_result;

/* Splits one received line. On IPC_PARSED, *kind is set and *payload points
 * into line (NULL for kinds without one). On IPC_MALFORMED only *kind is
 * meaningful: it names the kind that was malformed. */
ipc_parse_result ipc_parse(const char *line, ipc_kind *kind, const char **payload);
/* The kind's name as it stands on the wire. */
const char *ipc_kind_name(ipc_kind kind);

/* Acts on one message; payload is NULL for kinds without one, and valid
 * during the call only. */
typedef void (*ipc_handler)(const char *payload, void *data);

/* For a channel's message callback: parses line and calls handlers[kind]
 * with data. A line that does not parse, or whose kind has no handler (a
 * master's message arriving at a master), is logged once per channel and
 * kind (ipc_log_once) and otherwise ignored. Returns 0 when a handler ran. */
int ipc_dispatch(ipc_channel *ch, const char *line, const ipc_handler handlers[IPC_KIND_COUNT], void *data);

/* For the kinds whose receiver keeps the latest document (STATS, CLUSTER):
 * replaces *kept with a copy of payload. Without memory the previous one
 * stays, a second older, and -1 is returned; 0 otherwise. */
int ipc_keep_payload(char **kept, const char *payload);

/* One sender per kind. json is a JSON object; a line break in it would end
 * the line early, so such a payload is refused. Each returns 0 or -1. */
int ipc_send_ready(ipc_channel *ch);
int ipc_send_draining(ipc_channel *ch);
int ipc_send_stats(ipc_channel *ch, const char *json);
int ipc_send_drain(ipc_channel *ch);
int ipc_send_cluster(ipc_channel *ch, const char *json);

#endif
