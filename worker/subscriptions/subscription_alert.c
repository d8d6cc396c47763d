/* subscription_alert: each alert is one POST, counted as the worker's work
 * so a drain lets it finish. The run of refusals is counted by each
 * worker's scheduler: a worker sees the charges it makes, and every worker
 * charges. */
#include "subscription_alert.h"

#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALERT_TIMEOUT_MS 10000

static void on_sent(const http_client_response *res, void *data)
{
    worker *w = data;
    if (res->error || res->status < 200 || res->status > 299)
        log_warn("subscriptions: the alert was not accepted (%ld %s)", res->status, res->error ? res->error : "");
    worker_work_end(w);
}

static void send_alert(worker *w, const char *text)
{
    if (!w->config.alert_webhook_url)
        return;
    json_t *doc = json_pack("{s:s}", "text", text);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!body) {
        log_error("subscriptions: out of memory; an alert is lost");
        return;
    }
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    http_client_request request = {
        "POST", w->config.alert_webhook_url, headers, body, strlen(body), ALERT_TIMEOUT_MS, NULL, NULL};
    worker_work_begin(w);
    if (http_client_send(w->client, &request, on_sent, w) < 0) {
        log_warn("subscriptions: cannot send an alert");
        worker_work_end(w);
    }
    free(body);
}

void subscription_alert_past_due(worker *w, const char *subscription_id, const char *name, const char *outcome)
{
    char text[768];
    snprintf(text, sizeof text,
             "Subscription %s (%.200s) is past due: its last charge was refused after every retry (%.300s). "
             "It charges nothing until it is resumed.",
             subscription_id, name, outcome);
    send_alert(w, text);
}

void subscription_alert_refused(worker *w, subscription_alert_run *run)
{
    unsigned threshold = w->config.alert_failure_run;
    if (threshold == 0 || run->alerted || ++run->refusals < threshold)
        return;
    run->alerted = true;
    char text[256];
    snprintf(text, sizeof text,
             "Subscription charges are failing: %u in a row were refused, across subscriptions. "
             "No further alert until a charge succeeds.",
             run->refusals);
    send_alert(w, text);
}

void subscription_alert_charged(subscription_alert_run *run)
{
    *run = (subscription_alert_run){0};
}
