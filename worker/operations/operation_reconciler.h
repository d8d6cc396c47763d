/* operation_reconciler: every worker's loop over operations left pending
 * (a crash, a timeout, a failed write between a vendor's answer and our
 * record). Every PAYMENT_RECONCILE_INTERVAL_MS it claims the operations
 * pending longer than PAYMENT_RECONCILE_AFTER_MS, with a lease so that two
 * workers never settle one, and settles each by what the vendor says
 * (operation_decide.h). Nothing depends on the vendor sending a webhook. */
#ifndef PAYMENTS_OPERATION_RECONCILER_H
#define PAYMENTS_OPERATION_RECONCILER_H

#include "worker.h"

typedef struct operation_reconciler operation_reconciler;

/* Starts claiming at once; NULL when it cannot start (logged). w must
 * outlive the reconciler. */
operation_reconciler *operation_reconciler_create(worker *w);

/* Looks for operations to settle now. reconciler may be NULL. */
void operation_reconciler_kick(operation_reconciler *reconciler);

/* Stops claiming, waits for the settlements in flight, frees the reconciler
 * and runs done. The pool and the vendor context must stay open until then. */
void operation_reconciler_close(operation_reconciler *reconciler, void (*done)(void *data), void *data);

#endif
