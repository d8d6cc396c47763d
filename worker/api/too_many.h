/* too_many: the one answer of every limit (guessing, request rate): 429
 * with a Retry-After in whole seconds, so a client knows when to return. */
#ifndef PAYMENTS_TOO_MANY_H
#define PAYMENTS_TOO_MANY_H

#include "error.h"
#include "http_server.h"

#include <stdint.h>

/* Adds Retry-After (wait_ms rounded up to seconds) to ex and sets err to
 * the 429 with message, naming the wait. */
void too_many_prepare(http_exchange *ex, uint64_t wait_ms, const char *message, app_error *err);
/* The same, answered at once. */
void too_many_respond(http_exchange *ex, uint64_t wait_ms, const char *message);

#endif
