/* IPC between the master and a worker: newline-terminated text messages over
 * a libuv pipe ("ready", "drain", "stats {json}"). One message per line, at
 * most IPC_MAX_LINE bytes; a longer line closes the channel. */
#ifndef PAYMENTS_IPC_H
#define PAYMENTS_IPC_H

#include <stddef.h>
#include <uv.h>

#define IPC_MAX_LINE 65536

typedef struct ipc_channel ipc_channel;

/* line is NUL-terminated without its newline. line NULL: the peer closed or
 * the channel failed; no further calls follow. */
typedef void (*ipc_message_cb)(ipc_channel *ch, const char *line, void *data);

/* A channel with an initialized, unopened pipe. */
ipc_channel *ipc_create(uv_loop_t *loop, ipc_message_cb cb, void *data);
/* The pipe to hand to uv_spawn as UV_CREATE_PIPE (master side). */
uv_pipe_t *ipc_pipe(ipc_channel *ch);
/* Opens an inherited descriptor (worker side). Returns 0 or a libuv error. */
int ipc_open_fd(ipc_channel *ch, int fd);
/* Starts reading. Returns 0 or a libuv error. */
int ipc_start(ipc_channel *ch);
/* Queues one line (the newline is added). Returns 0 or -1. */
int ipc_send(ipc_channel *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Lets queued lines go out, then closes and frees; cb is not called again. */
void ipc_close(ipc_channel *ch);

#endif
