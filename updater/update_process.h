/* Child processes of an update (git, cmake, payments migrate): spawned with
 * uv_spawn in their own process group, their output captured (the last lines
 * are kept for the report), bounded by a timeout after which the whole group
 * is terminated. One completion callback, always called once, from the loop. */
#ifndef PAYMENTS_UPDATE_PROCESS_H
#define PAYMENTS_UPDATE_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define UPDATE_PROCESS_TAIL_LINES 40

typedef struct update_process_result {
    bool ok; /* exited with status 0 */
    int64_t exit_status;
    int term_signal;
    bool timed_out;
    const char *error;  /* why it did not succeed, one line; NULL when ok */
    const char *output; /* the last lines of stdout and stderr; never NULL */
} update_process_result;

/* The result is valid during the callback only. */
typedef void (*update_process_cb)(const update_process_result *result, void *data);

typedef struct update_process_options {
    const char *cwd;
    const char *const *argv;      /* argv[0] is searched in PATH */
    const char *const *extra_env; /* "NAME=value" overriding the inherited environment; may be NULL */
    uint64_t timeout_ms;
} update_process_options;

typedef struct update_process update_process;

/* Starts the process. Returns it (the callback follows), or NULL when it
 * could not be set up at all (the callback is then not called). A process
 * that cannot be executed still completes through the callback. */
update_process *update_process_start(uv_loop_t *loop, const update_process_options *options, update_process_cb cb,
                                     void *data);
/* Terminates the process group now (TERM, then KILL); the callback still runs. */
void update_process_cancel(update_process *p);

#endif
