/* A circuit breaker per vendor and store: after a run of calls that the
 * vendor did not answer (or answered 5xx) it stops calling for a cool-down,
 * so that a dead gateway fails fast instead of holding every request for
 * its timeout; then one trial call decides whether it is back. Time is given
 * by the caller (the loop's clock), which lets a test drive it. */
#ifndef PAYMENTS_VENDOR_CIRCUIT_H
#define PAYMENTS_VENDOR_CIRCUIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum vendor_circuit_state {
    VENDOR_CIRCUIT_CLOSED,    /* calls go through */
    VENDOR_CIRCUIT_OPEN,      /* calls fail at once until the cool-down ends */
    VENDOR_CIRCUIT_HALF_OPEN, /* one trial call is out; the others fail at once */
} vendor_circuit_state;

typedef struct vendor_circuit_policy {
    unsigned failures;    /* consecutive failures that open it; 0: never opens */
    uint64_t cooldown_ms; /* open this long before a trial call */
} vendor_circuit_policy;

typedef struct vendor_circuit {
    char vendor[32];
    char store_id[128];
    vendor_circuit_state state;
    unsigned failures;      /* consecutive, since the last success */
    uint64_t opened_at;     /* the caller's clock, ms; meaningful unless closed */
    int64_t opened_at_wall; /* unix ms of the same moment, for operators */
    struct vendor_circuit *next;
} vendor_circuit;

/* The circuit of (vendor, store_id) in *list, created closed on first use;
 * NULL when out of memory (the call then goes unguarded). */
vendor_circuit *vendor_circuit_for(vendor_circuit **list, const char *vendor, const char *store_id);
void vendor_circuit_free_all(vendor_circuit **list);

/* May a call go now? True lets it through (when the cool-down just ended, as
 * the trial call); false refuses it, with *retry_after_ms until the next
 * trial may go (0 while a trial call is out). */
bool vendor_circuit_admit(vendor_circuit *circuit, const vendor_circuit_policy *policy, uint64_t now,
                          uint64_t *retry_after_ms);
/* Would a call to (vendor, store_id) be refused now because its circuit is
 * open and cooling down? Changes nothing; a circuit never called is closed,
 * and a half-open one counts as available (its trial call decides). */
bool vendor_circuit_is_open(const vendor_circuit *list, const vendor_circuit_policy *policy, const char *vendor,
                            const char *store_id, uint64_t now);
/* The outcome of an admitted call: failed when the vendor did not answer, or
 * answered 5xx (a refusal is an answer: the vendor is alive). now_wall is
 * unix ms, kept for operators when the circuit opens. */
void vendor_circuit_record(vendor_circuit *circuit, const vendor_circuit_policy *policy, bool failed, uint64_t now,
                           int64_t now_wall);

const char *vendor_circuit_state_name(vendor_circuit_state state);
/* [{vendor, store_id, state, consecutive_failures, opened_at}] (opened_at an
 * ISO time, null while closed), or NULL when out of memory. */
json_t *vendor_circuit_list_json(const vendor_circuit *list);

#endif
