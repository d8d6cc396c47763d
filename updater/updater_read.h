/* The read buffer of every stream of the updater (links, the control socket,
 * child processes' pipes). Each read callback consumes its bytes before it
 * returns, and the loop runs one callback at a time, so one buffer serves all. */
#ifndef PAYMENTS_UPDATER_READ_H
#define PAYMENTS_UPDATER_READ_H

#include <uv.h>

/* A uv_alloc_cb handing out the shared buffer. */
void updater_read_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);

#endif
