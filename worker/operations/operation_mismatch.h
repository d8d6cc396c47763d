/* operation_mismatch: a paid payment refused for another order or amount is
 * cancelled at a vendor that expects so (vendor_adapter's cancels_mismatch,
 * as the original server does), so that the customer is not left charged for an order that was
 * refused. The cancel is an operation like any other: committed first, sent
 * with the checksum of all that remains, settled by the answer, and left to
 * the reconciler when no answer came. */
#ifndef PAYMENTS_OPERATION_MISMATCH_H
#define PAYMENTS_OPERATION_MISMATCH_H

#include "payment_input.h"
#include "worker.h"

#include <stdbool.h>

/* Whether the refused payment is cancelled rather than left charged. */
bool operation_mismatch_applies(const vendor_payment *payment, const char *vendor_code);

/* answer is the 422 to give the caller: the refusal and what became of the
 * payment. Borrowed for the call. */
typedef void (*operation_mismatch_cb)(const app_error *answer, void *data);

/* Cancels what remains of payment (taken) of vendor (borrowed for the
 * call), refused with refusal; cb runs exactly once. */
void operation_mismatch_cancel(worker *w, const vendor_store *store, const payment_vendor_input *vendor,
                               vendor_payment *payment, const app_error *refusal, operation_mismatch_cb cb, void *data);

#endif
