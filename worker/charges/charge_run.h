/* charge_run: one charge of a reservation's billing key for one order, as
 * POST /payments/charges and the subscriptions' scheduler make it, without
 * an HTTP request. The charge is an operation (worker/operations/):
 * committed before the vendor call with a key the vendor honours, settled
 * with its attempt after the answer, and settled by the reconciler when
 * the answer never came or could not be recorded. */
#ifndef PAYMENTS_CHARGE_RUN_H
#define PAYMENTS_CHARGE_RUN_H

#include "charge_order.h"
#include "history_store.h"
#include "operation_store.h"
#include "worker.h"

typedef struct charge_order {
    const char *reservation_id;               /* the reservation whose billing key is charged */
    const char *source_schema, *source_table; /* the order: the history's source */
    const char *source_id;                    /* a UUID */
    const char *name;                         /* the order's name, shown by the vendor */
    double price;
    const char *currency;
    const char *webhook_url; /* the history's; may be NULL */
    const char *store_id;    /* NULL: the reservation's store */
    const char *request_id;  /* for the log; may be NULL */
} charge_order;

/* What a charge left, borrowed for the callback only. */
typedef struct charge_outcome {
    const history_record *history; /* the recorded payment; NULL unless charged */
    /* The attempt (its id is the operation's): set when the vendor's answer
     * was recorded, paid or refused; NULL when the outcome is unknown. */
    const char *attempt_id;
    /* The committed operation, or NULL when none was committed (the order
     * was refused before any vendor call). */
    const char *operation_id;
    const char *order_id; /* the vendor order id, or NULL before it was derived */
} charge_outcome;

/* done runs exactly once, from the loop or before charge_run returns:
 * - err NULL: charged and recorded; outcome->history is the history, which
 *   POST /payments/histories would have made (the reservation's password
 *   hash is the history's).
 * - err 422 carrying the vendor's identity (err->vendor.code set), or 503
 *   with err->not_sent: refused, or never sent; attempt_id names the
 *   recorded attempt (none when never sent). The order may be charged again
 *   (a new key is derived, see charge_order_key).
 * - err 404, 409, 422 without a vendor identity, with operation_id NULL:
 *   refused before any call (no such reservation, the order already has a
 *   history or a charge of it is still pending, the store has no
 *   credentials, the vendor cannot charge a billing key).
 * - any other err with operation_id set: the outcome is unknown now. The
 *   operation stays pending and the reconciler sends the charge again with
 *   the same order id and key (never a second payment), then records the
 *   history or the refusal. A caller learns the later outcome from the
 *   database: the history of the order's source appears
 *   (history_store_find_by_source), or the attempt row of operation_id in
 *   payment_charge_attempts gets result 'refused'; until then a new
 *   charge_run of the same order answers 409. */
typedef void (*charge_done_cb)(const charge_outcome *outcome, const app_error *err, void *data);

void charge_run(worker *w, const charge_order *order, charge_done_cb done, void *data);

/* The reconciler's part (operation_decide): sends the pending charge row
 * again with its order id and key and records what the vendor answers;
 * done runs once after the row was settled or released. Takes row. */
void charge_reconcile(worker *w, operation_claimed *row, void (*done)(void *data), void *data);

#endif
