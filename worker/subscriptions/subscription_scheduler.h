/* subscription_scheduler: every worker's loop over due subscriptions. Each
 * PAYMENT_SCHEDULER_INTERVAL it opens the periods now due (a row per
 * subscription and due instant), claims the periods due for an attempt in
 * PostgreSQL (FOR UPDATE SKIP LOCKED, a claim with an expiry) and charges
 * each (subscription_charge.h). Exactly one worker of every instance
 * sharing the database charges a period; a claim its worker did not live
 * to finish expires, and the next one charges the same order again, which
 * the vendor and the charge's operation make harmless. */
#ifndef PAYMENTS_SUBSCRIPTION_SCHEDULER_H
#define PAYMENTS_SUBSCRIPTION_SCHEDULER_H

#include "worker.h"

typedef struct subscription_scheduler subscription_scheduler;

/* Starts the timer; NULL when it cannot start (logged). w must outlive it. */
subscription_scheduler *subscription_scheduler_create(worker *w);

/* Stops claiming, waits for the charges in flight, frees the scheduler and
 * runs done. The pool and the vendor context must stay open until then. */
void subscription_scheduler_close(subscription_scheduler *scheduler, void (*done)(void *data), void *data);

#endif
