/* fake_latency: how long a fake holds a vendor answer before sending it, as a
 * vendor slow on the network would: a standing delay from --latency, and a
 * rule a test sets at run time for the routes whose path contains a text
 * (and of one method, to hold a POST apart from the GET of the same path). */
#ifndef PAYMENTS_FAKE_LATENCY_H
#define PAYMENTS_FAKE_LATENCY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Ten minutes: longer than any client waits, short enough to stay a test. */
#define FAKE_LATENCY_MAX_MS 600000u

/* A delay: none (both 0), fixed (median == p99), or log-normal with that
 * median and 99th percentile. */
typedef struct fake_delay {
    uint64_t median_ms;
    uint64_t p99_ms;
} fake_delay;

typedef struct fake_latency {
    fake_delay standing; /* --latency: every vendor answer */
    fake_delay rule;     /* set at run time; none: the standing delay applies */
    char *match;         /* the rule's routes: paths containing it; NULL: all */
    char method[8];      /* the rule's method; "": any */
    uint64_t random_state;
} fake_latency;

void fake_latency_init(fake_latency *latency, fake_delay standing);
void fake_latency_free(fake_latency *latency);
/* Replaces the rule (a delay of none clears it; match NULL or "": every
 * vendor route; method NULL or "": any, else at most 7 characters).
 * Returns 0, or -1 when out of memory (the rule is then unchanged). */
int fake_latency_set_rule(fake_latency *latency, fake_delay rule, const char *match, const char *method);
/* How long to hold the answer to a request of method for path, drawn anew
 * for each answer; 0 for the fake's own routes (/fake/, /internal/), which
 * are no vendor's API. */
uint64_t fake_latency_pick(fake_latency *latency, const char *method, const char *path);
/* {"rule": null | {ms, p99, match, method?}, "standing": null | {ms, p99}}: a new
 * reference, or NULL when out of memory. */
json_t *fake_latency_describe(const fake_latency *latency);

#endif
