/* subscription_alert: operators told at once when billing breaks, on
 * PAYMENT_ALERT_WEBHOOK_URL as a Slack-compatible incoming webhook
 * ({"text": ...}): when a subscription becomes past due (once: the change
 * of state happens once), and when PAYMENT_ALERT_FAILURE_RUN charges in a
 * row were refused across subscriptions (once per run, until a charge
 * succeeds). Never card data nor a secret: ids, the order's name, the
 * vendor's refusal. */
#ifndef PAYMENTS_SUBSCRIPTION_ALERT_H
#define PAYMENTS_SUBSCRIPTION_ALERT_H

#include "worker.h"

/* The run of refused charges one scheduler has seen, and whether it was
 * alerted. */
typedef struct subscription_alert_run {
    unsigned refusals;
    bool alerted;
} subscription_alert_run;

void subscription_alert_past_due(worker *w, const char *subscription_id, const char *name, const char *outcome);
/* A charge was refused: counts toward the run, alerting when it reaches the
 * threshold. */
void subscription_alert_refused(worker *w, subscription_alert_run *run);
/* A charge succeeded: the run is over. */
void subscription_alert_charged(subscription_alert_run *run);

#endif
