/* shared_fetch: vendor webhooks name a payment, and each one would make us
 * ask the vendor about it; a burst of webhooks for one payment (a vendor's
 * retries, or someone replaying one to spend our vendor quota) shares the
 * fetches instead. Per worker, by adapter, store and uid: at most one fetch
 * in flight and one waiting to start after it. A caller never gets an answer
 * the vendor may have given before the caller arrived (its event could be
 * newer than that answer): it joins the fetch waiting to start, or starts
 * one. So N concurrent webhooks cost two vendor calls, not N. */
#ifndef PAYMENTS_SHARED_FETCH_H
#define PAYMENTS_SHARED_FETCH_H

#include "vendors/vendor.h"

/* payment is borrowed for the callback (NULL exactly when err is set). */
typedef void (*shared_fetch_cb)(const vendor_payment *payment, const app_error *err, void *data);

typedef struct shared_fetch shared_fetch;

/* The fetches of one worker; zeroed to start. A fetch leaves it when its
 * vendor call answers, so it is empty once no webhook is in flight. */
typedef struct shared_fetch_table {
    shared_fetch *fetches;
} shared_fetch_table;

/* cb runs exactly once, with the payment as the vendor answered it to a
 * call sent after this one (or at once with a 500 when out of memory).
 * store must outlive the call (the worker's stores do). */
void shared_fetch_join(shared_fetch_table *table, vendor_context *vendors, const vendor_adapter *adapter,
                       const vendor_store *store, const char *uid, shared_fetch_cb cb, void *data);

#endif
