/* charge_order: the vendor-side names of a charge, derived only from the
 * order and the refusals it had, so that whoever sends it (a request, its
 * retry, the reconciler after a crash) names the same order and the vendor
 * never pays it twice. */
#ifndef PAYMENTS_CHARGE_ORDER_H
#define PAYMENTS_CHARGE_ORDER_H

#include "operation_key.h"

/* "ch-" and 32 hex digits: within every vendor's order id (the strictest
 * take 6 to 64 of [A-Za-z0-9_-], or at most 40 bytes), and 128 bits, so
 * that two orders never share one. */
#define CHARGE_ORDER_ID_SIZE 36

/* The vendor order id of the order whose source is (schema, table, id),
 * after `refusals` refused charges of it. A resend of the same charge (the
 * reconciler after a crash, a request retried while the first is unknown)
 * counts the same refusals and names the same order, which the vendor pays
 * once; a retry after a refusal counts one more and names a new order,
 * since a vendor that keeps its answer per order id would otherwise
 * decline it again. Returns 0, or -1 when hashing fails. */
int charge_order_id(const char *schema, const char *table, const char *id, long refusals,
                    char out[CHARGE_ORDER_ID_SIZE]);

/* The Idempotency-Key of the charge of order_id: one key per order id, so
 * that a vendor keeping keys answers a resend with the first payment,
 * and a retry after a refusal, a new order id, carries a new key rather than
 * getting the kept refusal again. */
int charge_order_key(const char *order_id, char out[OPERATION_KEY_SIZE]);

#endif
