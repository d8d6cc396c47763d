/* subscription_alert: operators told at once when billing breaks, on
 * PAYMENT_ALERT_WEBHOOK_URL as a Slack-compatible incoming webhook
 * ({"text": ...}): when a subscription becomes past due, and when
 * PAYMENT_ALERT_FAILURE_RUN subscription charges in a row were refused,
 * whichever workers and instances made them. Each is an incident in
 * PostgreSQL (sql/0011_alerts.sql), opened and queued in the outbox by the
 * transaction recording the outcome that makes it: one alert per incident,
 * delivered even when that worker dies. Never card data nor a secret: ids,
 * the order's name, the vendor's refusal. */
#ifndef PAYMENTS_SUBSCRIPTION_ALERT_H
#define PAYMENTS_SUBSCRIPTION_ALERT_H

#include "config.h"
#include "db_transaction.h"

#include <stdbool.h>

#define SUBSCRIPTION_ALERT_PARAMS 6

/* What one recorded outcome may open, written before its transaction (the
 * statement decides whether anything opens); its statement's parameters
 * point into it, so it lives as long as the transaction. */
typedef struct subscription_alert {
    char run_threshold[16];
    char run_text[256];
    char past_due_text[768];
    char past_due_subject[40]; /* the failed period */
    const char *webhook_url;   /* the configuration's; NULL: the incident opens, nothing is queued */
    const char *params[SUBSCRIPTION_ALERT_PARAMS];
} subscription_alert;

/* Writes the texts of a refusal of period_id of subscription_id (its order
 * named name) for outcome (words, no card data). */
void subscription_alert_prepare(subscription_alert *alert, const cfg *config, const char *subscription_id,
                                const char *period_id, const char *name, const char *outcome);

/* The statement of a recorded refusal: one more in the run, opening its
 * incident when the run reaches the threshold, and the past due incident
 * when past_due. */
void subscription_alert_refused_statement(subscription_alert *alert, bool past_due, db_statement *out);

/* The statement of a recorded charge of subscription_id: the run is over
 * and its incidents close, so the next run alerts again. subscription_id
 * must stay valid until the statement ran. */
void subscription_alert_charged_statement(subscription_alert *alert, const char *subscription_id, db_statement *out);

#endif
