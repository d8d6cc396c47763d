/* shared_fetch: which vendor calls a burst of webhooks for one payment makes,
 * and that each waiter is answered exactly once. An adapter of this test
 * answers its fetches when the test says, so that the order of arrivals and
 * answers is exact (test_drain checks them on a closed vendor context). */
#include "shared_fetch.h"
#include "unit.h"
#include "vendor.h"

#include <stdlib.h>
#include <string.h>

/* ---- an adapter whose fetches wait for the test ---- */

#define MAX_CALLS 8

typedef struct scripted_call {
    char uid[64];
    vendor_payment_cb cb;
    void *data;
} scripted_call;

static scripted_call calls[MAX_CALLS];
static int call_count;

static void scripted_fetch(vendor_context *ctx, const vendor_store *store, const char *uid, vendor_payment_cb cb,
                           void *data)
{
    (void)ctx;
    (void)store;
    if (!CHECK(call_count < MAX_CALLS))
        return;
    scripted_call *call = &calls[call_count++];
    snprintf(call->uid, sizeof call->uid, "%s", uid);
    call->cb = cb;
    call->data = data;
}

static const vendor_adapter scripted = {.code = "scripted", .fetch = scripted_fetch};

/* Answers call n: with a payment whose refund is refunded, or with status. */
static void answer_call(int n, double refunded, int status)
{
    scripted_call call = calls[n];
    if (status) {
        app_error err;
        app_error_set(&err, status, "scripted failure");
        call.cb(NULL, &err, call.data);
        return;
    }
    vendor_payment *payment = calloc(1, sizeof *payment);
    if (!CHECK(payment != NULL))
        return;
    snprintf(payment->uid, sizeof payment->uid, "%s", call.uid);
    payment->refunded = refunded;
    call.cb(payment, NULL, call.data);
}

/* ---- waiters ---- */

typedef struct waiter {
    int calls;
    int status;
    double refunded;
} waiter;

static void on_answer(const vendor_payment *payment, const app_error *err, void *data)
{
    waiter *w = data;
    w->calls++;
    w->status = err ? err->status : 200;
    w->refunded = payment ? payment->refunded : -1;
}

static const vendor_store store_a = {"a", "http://127.0.0.1:9", "key", "secret", NULL};
static const vendor_store store_b = {"b", "http://127.0.0.1:9", "key", "secret", NULL};

UNIT_CASE(newcomers_wait_for_the_next_fetch, NULL)
{
    shared_fetch_table table = {0};
    call_count = 0;
    waiter first = {0}, second = {0}, third = {0}, other_uid = {0}, other_store = {0}, late = {0};
    shared_fetch_join(&table, NULL, &scripted, &store_a, "pay_1", on_answer, &first);
    CHECK(call_count == 1);
    /* The first call is out: these wait for one more, not for its answer. */
    shared_fetch_join(&table, NULL, &scripted, &store_a, "pay_1", on_answer, &second);
    shared_fetch_join(&table, NULL, &scripted, &store_a, "pay_1", on_answer, &third);
    CHECK(call_count == 1);
    /* Another payment, or the same uid in another store, is another fetch. */
    shared_fetch_join(&table, NULL, &scripted, &store_a, "pay_2", on_answer, &other_uid);
    shared_fetch_join(&table, NULL, &scripted, &store_b, "pay_1", on_answer, &other_store);
    CHECK(call_count == 3);

    answer_call(0, 100, 0);
    CHECK(first.calls == 1 && first.status == 200 && first.refunded == 100);
    CHECK(second.calls == 0 && third.calls == 0);
    CHECK(call_count == 4); /* the round of second and third went out */
    CHECK_STR(calls[3].uid, "pay_1");

    shared_fetch_join(&table, NULL, &scripted, &store_a, "pay_1", on_answer, &late);
    CHECK(call_count == 4);
    answer_call(3, 0, 404); /* a failure reaches every waiter of its round */
    CHECK(second.calls == 1 && second.status == 404);
    CHECK(third.calls == 1 && third.status == 404);
    CHECK(late.calls == 0 && call_count == 5);
    answer_call(4, 300, 0);
    CHECK(late.calls == 1 && late.refunded == 300);
    answer_call(1, 200, 0);
    answer_call(2, 0, 504);
    CHECK(other_uid.calls == 1 && other_uid.refunded == 200);
    CHECK(other_store.calls == 1 && other_store.status == 504);
    CHECK(first.calls == 1 && second.calls == 1 && third.calls == 1);
    CHECK(call_count == 5);
    CHECK(table.fetches == NULL);
}
