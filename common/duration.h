/* duration: the one spelling of a length of time in our settings, an integer
 * with a unit (500ms, 10s, 5m, 2h, 1d; bare: seconds), shared by the webhook
 * retry schedule and the idempotency key TTL so that both read alike. */
#ifndef PAYMENTS_DURATION_H
#define PAYMENTS_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parses text[0..len), surrounding blanks ignored, into milliseconds.
 * Returns 0, or -1 when it is not a duration or is beyond max_ms. */
int duration_parse(const char *text, size_t len, uint64_t max_ms, uint64_t *out_ms);

#endif
