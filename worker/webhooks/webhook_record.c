/* webhook_record: the observer of history_store_apply. It compares the
 * history as locked before the update with the history after it, and only
 * when a receiver would see a difference seals both (as IPaymentHistory,
 * the contract's shape, through history_json) into the record's INSERT.
 * The outbox is woken only after COMMIT, so it never claims too early. */
#include "webhook_record.h"

#include "history_json.h"
#include "log.h"
#include "sealed_json.h"
#include "webhook_outbox.h"

#include <stdlib.h>
#include <string.h>

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_state(const history_record *a, const history_record *b)
{
    return same_text(a->paid_at, b->paid_at) && same_text(a->refund, b->refund) &&
           same_text(a->cancelled_at, b->cancelled_at) && same_text(a->cancels, b->cancels);
}

/* The history as the contract shows it, sealed; NULL with err set. */
static char *sealed_history(const webhook_record *record, const history_record *history, app_error *err)
{
    json_t *doc = history_json(history, &record->app->history_seal, err);
    char *sealed = doc ? sealed_json_seal(&record->app->history_seal, doc) : NULL;
    json_decref(doc);
    if (doc && !sealed)
        app_error_set(err, 500, "cannot seal the webhook record");
    return sealed;
}

static int observe(const history_record *previous, const history_record *current, db_statement *extra, app_error *err,
                   void *data)
{
    webhook_record *record = data;
    if (same_state(previous, current))
        return 0;
    free(record->previous);
    free(record->current);
    record->previous = sealed_history(record, previous, err);
    record->current = record->previous ? sealed_history(record, current, err) : NULL;
    if (!record->current)
        return -1;
    webhook_new in = {
        .history_id = current->id,
        .origin = record->origin,
        .event = record->event,
        .previous = record->previous,
        .current = record->current,
        .request_id = record->request.text,
    };
    webhook_store_insert_statement(&in, record->params, extra);
    return 0;
}

static int read_queued(PGresult *res, app_error *err, void *data)
{
    (void)err;
    webhook_record *record = data;
    record->queued = PQntuples(res) > 0;
    return 0;
}

int webhook_record_init(webhook_record *record, worker *w, const char *origin, const json_t *event)
{
    memset(record, 0, sizeof *record);
    record->app = w;
    record->origin = origin;
    record->observer = (history_observer){observe, read_queued, record, NULL};
    request_id_capture(&record->request);
    if (!event)
        return 0;
    record->event = sealed_json_seal(&w->history_seal, event);
    return record->event ? 0 : -1;
}

static void on_applied(history_record *history, const app_error *err, void *data)
{
    webhook_record *record = data;
    if (!err && record->queued)
        webhook_outbox_kick(record->app->outbox);
    record->cb(history, err, record->data);
}

void webhook_record_apply(webhook_record *record, const char *id, const vendor_payment *payment, history_record_cb cb,
                          void *data)
{
    worker *w = record->app;
    record->cb = cb;
    record->data = data;
    if (history_values_from_payment(&record->values, payment, &w->history_seal, &w->cancel_seal) < 0) {
        app_error err;
        app_error_set(&err, 500, "cannot seal the vendor's payment document");
        cb(NULL, &err, data);
        return;
    }
    history_store_apply(w->db, id, &record->values, &record->observer, on_applied, record);
}

void webhook_record_also(webhook_record *record, const db_statement *also)
{
    record->observer.also = also;
}

void webhook_record_free(webhook_record *record)
{
    free(record->event);
    free(record->previous);
    free(record->current);
    record->event = record->previous = record->current = NULL;
    history_values_free(&record->values);
}
