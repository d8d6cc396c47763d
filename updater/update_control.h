/* A request to the local master's control socket from the updater's loop:
 * connect, send one command line, read the answer until the master closes,
 * parse it as JSON. Bounded by a timeout; one callback, always called once. */
#ifndef PAYMENTS_UPDATE_CONTROL_H
#define PAYMENTS_UPDATE_CONTROL_H

#include "control_command.h"

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

/* answer is the parsed document (borrowed: valid during the callback), or
 * NULL with error saying why there is none. */
typedef void (*update_control_cb)(json_t *answer, const char *error, void *data);

/* Returns 0 (the callback follows), or -1 when nothing could be started
 * (the callback is then not called). */
int update_control_request(uv_loop_t *loop, const char *socket_path, control_command command, uint64_t timeout_ms,
                           update_control_cb cb, void *data);

#endif
