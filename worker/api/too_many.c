/* too_many: Retry-After and the 429's message agree on the seconds. */
#include "too_many.h"

#include "attempt_limit.h"

#include <inttypes.h>
#include <stdio.h>

void too_many_prepare(http_exchange *ex, uint64_t wait_ms, const char *message, app_error *err)
{
    uint64_t seconds = attempt_limit_seconds(wait_ms);
    char header[24];
    snprintf(header, sizeof header, "%" PRIu64, seconds);
    http_exchange_add_header(ex, "Retry-After", header);
    app_error_set(err, 429, "%s; retry in %" PRIu64 " s", message, seconds);
}

void too_many_respond(http_exchange *ex, uint64_t wait_ms, const char *message)
{
    app_error err;
    too_many_prepare(ex, wait_ms, message, &err);
    http_respond_error(ex, err.status, err.message);
}
