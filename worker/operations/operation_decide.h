/* operation_decide: the reconciler's work on one claimed operation. It asks
 * the vendor about the payment and records what the vendor says: a cancel
 * made is recorded on its history (and notified once), a confirm made
 * becomes its history, a mismatch cancel not made is sent again with the
 * same checksum; an operation the vendor did not perform is refused, and
 * one the vendor cannot be asked about is left for a later claim. A charge
 * is charge_run's to settle (worker/charges/charge_run.h). */
#ifndef PAYMENTS_OPERATION_DECIDE_H
#define PAYMENTS_OPERATION_DECIDE_H

#include "operation_store.h"
#include "worker.h"

/* Attempts after which an operation no one could settle becomes "unknown"
 * (logged as an error for an operator). */
#define OPERATION_DECIDE_MAX_ATTEMPTS 20

/* Takes row; done runs exactly once, after the outcome is stored. */
void operation_decide(worker *w, operation_claimed *row, void (*done)(void *data), void *data);

#endif
