/* The vendor circuit breaker's states on a clock the test moves: it opens
 * after the configured run of failures and not before, a vendor's refusal
 * never counts, the cool-down lets exactly one trial call through, whose
 * outcome closes or reopens it, and each (vendor, store) has its own. */
#include "unit.h"
#include "vendor_circuit.h"

#include <string.h>

static const vendor_circuit_policy policy = {.failures = 5, .cooldown_ms = 30000};

static bool admit(vendor_circuit *c, uint64_t now)
{
    uint64_t retry_ms;
    return vendor_circuit_admit(c, &policy, now, &retry_ms);
}

/* Calls made at now, each failing (or not). */
static void calls(vendor_circuit *c, int count, bool failed, uint64_t now)
{
    for (int i = 0; i < count; i++) {
        CHECK(admit(c, now));
        vendor_circuit_record(c, &policy, failed, now, 1700000000000);
    }
}

UNIT_CASE(opens_after_the_run_of_failures, NULL)
{
    vendor_circuit *list = NULL;
    vendor_circuit *c = vendor_circuit_for(&list, "iamport", "store-a");
    CHECK(c && c->state == VENDOR_CIRCUIT_CLOSED);
    calls(c, 4, true, 1000);
    CHECK(c->state == VENDOR_CIRCUIT_CLOSED && c->failures == 4);
    calls(c, 1, true, 1000);
    CHECK(c->state == VENDOR_CIRCUIT_OPEN && c->failures == 5 && c->opened_at == 1000);
    uint64_t retry_ms = 0;
    CHECK(!vendor_circuit_admit(c, &policy, 11000, &retry_ms));
    CHECK(retry_ms == 20000);
    vendor_circuit_free_all(&list);
    CHECK(list == NULL);
}

/* A success between failures starts the count again. */
UNIT_CASE(success_resets_the_count, NULL)
{
    vendor_circuit *list = NULL;
    vendor_circuit *c = vendor_circuit_for(&list, "iamport", "");
    calls(c, 4, true, 0);
    calls(c, 1, false, 0);
    CHECK(c->failures == 0);
    calls(c, 4, true, 0);
    CHECK(c->state == VENDOR_CIRCUIT_CLOSED);
    vendor_circuit_free_all(&list);
}

/* After the cool-down one trial goes, the others wait for its outcome. */
UNIT_CASE(half_open_trial_closes, NULL)
{
    vendor_circuit *list = NULL;
    vendor_circuit *c = vendor_circuit_for(&list, "toss", "s");
    calls(c, 5, true, 0);
    CHECK(!admit(c, 29999));
    CHECK(admit(c, 30000));
    CHECK(c->state == VENDOR_CIRCUIT_HALF_OPEN);
    uint64_t retry_ms = 99;
    CHECK(!vendor_circuit_admit(c, &policy, 30001, &retry_ms));
    CHECK(retry_ms == 0);
    vendor_circuit_record(c, &policy, false, 30002, 0);
    CHECK(c->state == VENDOR_CIRCUIT_CLOSED && c->failures == 0);
    CHECK(admit(c, 30003));
    vendor_circuit_free_all(&list);
}

UNIT_CASE(half_open_trial_reopens, NULL)
{
    vendor_circuit *list = NULL;
    vendor_circuit *c = vendor_circuit_for(&list, "toss", "s");
    calls(c, 5, true, 0);
    CHECK(admit(c, 30000));
    vendor_circuit_record(c, &policy, true, 30500, 0);
    CHECK(c->state == VENDOR_CIRCUIT_OPEN && c->opened_at == 30500);
    CHECK(!admit(c, 60000));
    CHECK(admit(c, 60500));
    vendor_circuit_free_all(&list);
}

/* A call admitted before the circuit opened may fail late: it counts, but
 * the cool-down runs from the opening. */
UNIT_CASE(late_failure_keeps_the_cooldown, NULL)
{
    vendor_circuit *list = NULL;
    vendor_circuit *c = vendor_circuit_for(&list, "iamport", "s");
    calls(c, 5, true, 100);
    vendor_circuit_record(c, &policy, true, 5000, 0);
    CHECK(c->state == VENDOR_CIRCUIT_OPEN && c->opened_at == 100 && c->failures == 6);
    CHECK(admit(c, 30100));
    vendor_circuit_free_all(&list);
}

/* Each vendor and store has its own circuit; 0 failures never opens. */
UNIT_CASE(per_vendor_and_store, NULL)
{
    vendor_circuit *list = NULL;
    vendor_circuit *a = vendor_circuit_for(&list, "iamport", "a");
    vendor_circuit *b = vendor_circuit_for(&list, "iamport", "b");
    vendor_circuit *t = vendor_circuit_for(&list, "toss", "a");
    CHECK(a && b && t && a != b && a != t && b != t);
    CHECK(vendor_circuit_for(&list, "iamport", "a") == a);
    calls(a, 5, true, 0);
    CHECK(a->state == VENDOR_CIRCUIT_OPEN && b->state == VENDOR_CIRCUIT_CLOSED && t->state == VENDOR_CIRCUIT_CLOSED);
    vendor_circuit_policy never = {.failures = 0, .cooldown_ms = 1};
    for (int i = 0; i < 100; i++)
        vendor_circuit_record(b, &never, true, 0, 0);
    CHECK(b->state == VENDOR_CIRCUIT_CLOSED);
    vendor_circuit_free_all(&list);
}

/* What operators read: an open circuit's state, failures and opening time. */
UNIT_CASE(operators_view, NULL)
{
    vendor_circuit *list = NULL;
    vendor_circuit *c = vendor_circuit_for(&list, "iamport", "a");
    for (int i = 0; i < 5; i++) {
        CHECK(admit(c, 0));
        vendor_circuit_record(c, &policy, true, 0, 1700000000123);
    }
    json_t *view = vendor_circuit_list_json(list);
    CHECK(json_array_size(view) == 1);
    json_t *entry = json_array_get(view, 0);
    CHECK(strcmp(json_string_value(json_object_get(entry, "vendor")), "iamport") == 0);
    CHECK(strcmp(json_string_value(json_object_get(entry, "store_id")), "a") == 0);
    CHECK(strcmp(json_string_value(json_object_get(entry, "state")), "open") == 0);
    CHECK(json_integer_value(json_object_get(entry, "consecutive_failures")) == 5);
    CHECK(strcmp(json_string_value(json_object_get(entry, "opened_at")), "2023-11-14T22:13:20.123Z") == 0);
    json_decref(view);
    vendor_circuit_free_all(&list);
}

/* The question resolve asks: open only while cooling down, never for a
 * circuit not yet called, a half-open one or another store; asking changes
 * nothing, so it cannot start the trial call that a real call must make. */
UNIT_CASE(is_open_asks_without_changing, NULL)
{
    vendor_circuit *list = NULL;
    CHECK(!vendor_circuit_is_open(list, &policy, "toss", "s", 0));
    CHECK(list == NULL);
    vendor_circuit *c = vendor_circuit_for(&list, "toss", "s");
    calls(c, 4, true, 0);
    CHECK(!vendor_circuit_is_open(list, &policy, "toss", "s", 0));
    calls(c, 1, true, 0);
    CHECK(vendor_circuit_is_open(list, &policy, "toss", "s", 29999));
    CHECK(!vendor_circuit_is_open(list, &policy, "toss", "other", 29999));
    CHECK(!vendor_circuit_is_open(list, &policy, "iamport", "s", 29999));
    CHECK(!vendor_circuit_is_open(list, &policy, "toss", "s", 30000));
    CHECK(c->state == VENDOR_CIRCUIT_OPEN);
    CHECK(admit(c, 30000));
    CHECK(c->state == VENDOR_CIRCUIT_HALF_OPEN);
    CHECK(!vendor_circuit_is_open(list, &policy, "toss", "s", 30001));
    vendor_circuit_record(c, &policy, true, 30002, 0);
    CHECK(vendor_circuit_is_open(list, &policy, "toss", "s", 30003));
    /* A NULL store id is the store "" as vendor_circuit_for keys it. */
    vendor_circuit *unnamed = vendor_circuit_for(&list, "toss", NULL);
    calls(unnamed, 5, true, 0);
    CHECK(vendor_circuit_is_open(list, &policy, "toss", NULL, 1));
    CHECK(vendor_circuit_is_open(list, &policy, "toss", "", 1));
    vendor_circuit_free_all(&list);
}
