/* subscription_charge: one claimed period charged through charge_run
 * (worker/charges/), and its outcome recorded: charged, refused (dunning:
 * a retry later, or past due once the schedule is spent), or unknown (the
 * claim is left to expire; by then the reconciler has recorded the charge
 * or the period is taken again for the same order, never a second one). */
#ifndef PAYMENTS_SUBSCRIPTION_CHARGE_H
#define PAYMENTS_SUBSCRIPTION_CHARGE_H

#include "subscription_period_store.h"
#include "worker.h"

/* Takes period; now is the scheduler's clock (NULL: now()), copied; done
 * runs exactly once, after the outcome was recorded or left. */
void subscription_charge_start(worker *w, subscription_period *period, const char *now, void (*done)(void *data),
                               void *data);

#endif
