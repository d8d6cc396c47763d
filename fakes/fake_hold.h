/* fake_hold: answers that wait out their latency on a libuv timer, so that a
 * slow answer never blocks the loop nor the other requests. The fake keeps
 * them in one list, which lets a stopping fake send them all at once. */
#ifndef PAYMENTS_FAKE_HOLD_H
#define PAYMENTS_FAKE_HOLD_H

#include "fake_server.h"

/* Sends the answer to ex after delay_ms (status, content_type and body are
 * copied). Returns 0, or -1 when it cannot be held: the caller answers now. */
int fake_hold_answer(fake_server *fs, http_exchange *ex, uint64_t delay_ms, int status, const char *content_type,
                     const char *body, size_t len);
/* Sends every held answer now. */
void fake_hold_release_all(fake_server *fs);

#endif
