/* subscription_alert: the incidents' SQL. The run is one row, so the row
 * lock of "refusals + 1" orders every outcome of every worker; an incident
 * opens with ON CONFLICT DO NOTHING on the index of open incidents, so
 * outcomes racing to open one open it once, and only the one that opened it
 * queues its alert. */
#include "subscription_alert.h"

#include <stdio.h>

/* clang-format off */
static const char refused_sql[] =
    "WITH run AS (UPDATE payment_alert_refusal_run SET refusals = refusals + 1 RETURNING refusals),"
    " opened AS (INSERT INTO payment_alert_incidents (kind, subject, text, webhook_url)"
    "  SELECT 'refusal_run', '', $1::text, $2::text FROM run WHERE $3::integer > 0 AND run.refusals >= $3::integer"
    "  UNION ALL SELECT 'past_due', $4::text, $5::text, $2::text WHERE $6::boolean"
    "  ON CONFLICT (kind, subject) WHERE closed_at IS NULL DO NOTHING"
    "  RETURNING id, webhook_url),"
    " webhook AS (INSERT INTO payment_webhooks (alert_id, origin)"
    "  SELECT id, 'alert' FROM opened WHERE webhook_url IS NOT NULL RETURNING id)"
    " INSERT INTO payment_webhook_deliveries (webhook_id) SELECT id FROM webhook";

/* A success ends the run; the incidents it closes are the run's and the
 * subscription's past due ones (resumed, it charged again). */
static const char charged_sql[] =
    "WITH run AS (UPDATE payment_alert_refusal_run SET refusals = 0 WHERE refusals > 0)"
    " UPDATE payment_alert_incidents SET closed_at = now() WHERE closed_at IS NULL"
    "  AND (kind = 'refusal_run' OR (kind = 'past_due' AND subject IN"
    "   (SELECT id::text FROM payment_subscription_periods WHERE subscription_id = $1::uuid)))";
/* clang-format on */

void subscription_alert_prepare(subscription_alert *alert, const cfg *config, const char *subscription_id,
                                const char *period_id, const char *name, const char *outcome)
{
    *alert = (subscription_alert){.webhook_url = config->alert_webhook_url};
    snprintf(alert->run_threshold, sizeof alert->run_threshold, "%u", config->alert_failure_run);
    snprintf(alert->run_text, sizeof alert->run_text,
             "Subscription charges are failing: %u in a row were refused, across subscriptions. "
             "No further alert until a charge succeeds.",
             config->alert_failure_run);
    snprintf(alert->past_due_text, sizeof alert->past_due_text,
             "Subscription %s (%.200s) is past due: its last charge was refused after every retry (%.300s). "
             "It charges nothing until it is resumed.",
             subscription_id, name, outcome);
    snprintf(alert->past_due_subject, sizeof alert->past_due_subject, "%s", period_id);
}

void subscription_alert_refused_statement(subscription_alert *alert, bool past_due, db_statement *out)
{
    alert->params[0] = alert->run_text;
    alert->params[1] = alert->webhook_url;
    alert->params[2] = alert->run_threshold;
    alert->params[3] = alert->past_due_subject;
    alert->params[4] = alert->past_due_text;
    alert->params[5] = past_due ? "t" : "f";
    *out = (db_statement){refused_sql, SUBSCRIPTION_ALERT_PARAMS, alert->params, NULL};
}

void subscription_alert_charged_statement(subscription_alert *alert, const char *subscription_id, db_statement *out)
{
    alert->params[0] = subscription_id;
    *out = (db_statement){charged_sql, 1, alert->params, NULL};
}
