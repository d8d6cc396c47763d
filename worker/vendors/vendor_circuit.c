/* The circuit breaker's states. Only the vendor's silence or its own
 * failures count: a refusal (4xx) proves the vendor alive and closes the
 * circuit like any answer. A failure that arrives while the circuit is
 * already open (a call admitted before it opened) counts but does not move
 * the cool-down. */
#include "vendor_circuit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static vendor_circuit *circuit_find(const vendor_circuit *list, const char *vendor, const char *store)
{
    for (const vendor_circuit *c = list; c; c = c->next)
        if (strcmp(c->vendor, vendor) == 0 && strcmp(c->store_id, store) == 0)
            return (vendor_circuit *)c;
    return NULL;
}

vendor_circuit *vendor_circuit_for(vendor_circuit **list, const char *vendor, const char *store_id)
{
    const char *store = store_id ? store_id : "";
    vendor_circuit *c = circuit_find(*list, vendor, store);
    if (c)
        return c;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    snprintf(c->vendor, sizeof c->vendor, "%s", vendor);
    snprintf(c->store_id, sizeof c->store_id, "%s", store);
    c->state = VENDOR_CIRCUIT_CLOSED;
    c->next = *list;
    *list = c;
    return c;
}

void vendor_circuit_free_all(vendor_circuit **list)
{
    while (*list) {
        vendor_circuit *next = (*list)->next;
        free(*list);
        *list = next;
    }
}

bool vendor_circuit_admit(vendor_circuit *circuit, const vendor_circuit_policy *policy, uint64_t now,
                          uint64_t *retry_after_ms)
{
    *retry_after_ms = 0;
    if (circuit->state == VENDOR_CIRCUIT_CLOSED)
        return true;
    if (circuit->state == VENDOR_CIRCUIT_HALF_OPEN)
        return false;
    uint64_t reopens = circuit->opened_at + policy->cooldown_ms;
    if (now < reopens) {
        *retry_after_ms = reopens - now;
        return false;
    }
    circuit->state = VENDOR_CIRCUIT_HALF_OPEN;
    return true;
}

/* Read-only: asking must not start a trial call, which only a call about to
 * be sent may do. Once the cool-down has run out the next call goes through
 * as the trial, so the circuit no longer counts as open. */
bool vendor_circuit_is_open(const vendor_circuit *list, const vendor_circuit_policy *policy, const char *vendor,
                            const char *store_id, uint64_t now)
{
    const vendor_circuit *c = circuit_find(list, vendor, store_id ? store_id : "");
    return c && c->state == VENDOR_CIRCUIT_OPEN && now < c->opened_at + policy->cooldown_ms;
}

static void circuit_open(vendor_circuit *circuit, uint64_t now, int64_t now_wall)
{
    circuit->state = VENDOR_CIRCUIT_OPEN;
    circuit->opened_at = now;
    circuit->opened_at_wall = now_wall;
}

void vendor_circuit_record(vendor_circuit *circuit, const vendor_circuit_policy *policy, bool failed, uint64_t now,
                           int64_t now_wall)
{
    if (!failed) {
        circuit->state = VENDOR_CIRCUIT_CLOSED;
        circuit->failures = 0;
        return;
    }
    if (circuit->failures < UINT32_MAX)
        circuit->failures++;
    if (circuit->state == VENDOR_CIRCUIT_HALF_OPEN)
        circuit_open(circuit, now, now_wall); /* the trial failed: another cool-down */
    else if (circuit->state == VENDOR_CIRCUIT_CLOSED && policy->failures && circuit->failures >= policy->failures)
        circuit_open(circuit, now, now_wall);
}

const char *vendor_circuit_state_name(vendor_circuit_state state)
{
    switch (state) {
    case VENDOR_CIRCUIT_OPEN:
        return "open";
    case VENDOR_CIRCUIT_HALF_OPEN:
        return "half-open";
    case VENDOR_CIRCUIT_CLOSED:
        break;
    }
    return "closed";
}

static json_t *opened_at_json(const vendor_circuit *circuit)
{
    if (circuit->state == VENDOR_CIRCUIT_CLOSED)
        return json_null();
    time_t seconds = (time_t)(circuit->opened_at_wall / 1000);
    struct tm tm;
    char text[40];
    if (!gmtime_r(&seconds, &tm))
        return json_null();
    size_t n = strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(text + n, sizeof text - n, ".%03dZ", (int)(circuit->opened_at_wall % 1000));
    return json_string(text);
}

json_t *vendor_circuit_list_json(const vendor_circuit *list)
{
    json_t *out = json_array();
    for (const vendor_circuit *c = list; out && c; c = c->next) {
        json_t *entry = json_pack("{s:s, s:s, s:s, s:I, s:o}", "vendor", c->vendor, "store_id", c->store_id, "state",
                                  vendor_circuit_state_name(c->state), "consecutive_failures", (json_int_t)c->failures,
                                  "opened_at", opened_at_json(c));
        if (!entry || json_array_append_new(out, entry) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}
