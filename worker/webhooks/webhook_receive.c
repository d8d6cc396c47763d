/* Vendor webhooks: POST /payments/webhooks/<the adapter's webhook name>.
 * The adapter reads which payment the webhook names (vendor_adapter's
 * webhook_uid); a webhook only says "look at payment X": its body is never
 * trusted. We find
 * the history of X, ask the vendor about X with the history's store
 * credentials, and record what the vendor answers, with the webhook record
 * and its notification, in one transaction. A payment we do not know gets
 * 404, so that the vendor tries again after we recorded it. Concurrent
 * webhooks for one payment share their vendor fetches (shared_fetch.h). */
#include "worker.h"

#include "form_urlencoded.h"
#include "history_store.h"
#include "log.h"
#include "webhook_record.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct webhook_receipt {
    http_exchange *ex;
    worker *app;
    json_t *event; /* the body as received; the uid lives in it */
    const vendor_adapter *vendor;
    history_record *history;
    webhook_record record;
} webhook_receipt;

/* ---- the receipt ---- */

/* A receipt is work in flight until it is freed: a draining worker records
 * the vendor's change before it exits. */
static void receipt_free(webhook_receipt *r)
{
    worker *w = r->app;
    json_decref(r->event);
    history_record_free(r->history);
    webhook_record_free(&r->record);
    free(r);
    worker_work_end(w);
}

/* The vendors read any 2xx as "received"; the contract's is 201, no body,
 * unless the vendor wants its own word back (and sends again without it). */
static void acknowledge(http_exchange *ex, const vendor_adapter *vendor)
{
    if (vendor->webhook_reply)
        http_respond(ex, 200, "text/plain; charset=utf-8", vendor->webhook_reply, strlen(vendor->webhook_reply));
    else
        http_respond(ex, 201, "application/json; charset=utf-8", "", 0);
}

static void finish(webhook_receipt *r, const app_error *err)
{
    if (err)
        http_respond_error(r->ex, err->status ? err->status : 500, err->message);
    else
        acknowledge(r->ex, r->vendor);
    receipt_free(r);
}

static void on_applied(history_record *record, const app_error *err, void *data)
{
    webhook_receipt *r = data;
    history_record_free(record);
    if (err)
        log_error("webhooks: %s payment of history %s not recorded (%d %s)", r->vendor->code, r->history->id,
                  err->status, err->message);
    finish(r, err);
}

/* The vendor's answer must be about this history's payment and order. */
static bool answer_matches(const webhook_receipt *r, const vendor_payment *payment, app_error *err)
{
    if (strcmp(payment->uid, r->history->vendor_uid) == 0 && strcasecmp(payment->order_id, r->history->source_id) == 0)
        return true;
    log_error("webhooks: %s answered about another payment or order than history %s", r->vendor->code, r->history->id);
    app_error_set(err, 502, "the vendor's payment does not match the recorded history");
    return false;
}

static void on_fetched(const vendor_payment *payment, const app_error *err, void *data)
{
    webhook_receipt *r = data;
    if (err) {
        finish(r, err);
        return;
    }
    app_error refused = {0};
    if (answer_matches(r, payment, &refused))
        webhook_record_apply(&r->record, r->history->id, payment, on_applied, r);
    else
        finish(r, &refused);
}

static void on_history(history_record *history, const app_error *err, void *data)
{
    webhook_receipt *r = data;
    if (err) {
        finish(r, err); /* 404 for a payment not recorded (yet): the vendor retries */
        return;
    }
    r->history = history;
    const vendor_adapter *adapter = vendor_find(history->vendor_code);
    const vendor_store *store = vendor_stores_find(r->app->stores, history->vendor_code, history->vendor_store_id);
    if (!adapter || !store) {
        log_error("webhooks: no %s credentials for the store of history %s", history->vendor_code, history->id);
        app_error missing;
        app_error_set(&missing, 500, "no credentials on this server for the payment's store");
        finish(r, &missing);
        return;
    }
    shared_fetch_join(&r->app->shared_fetches, r->app->vendors, adapter, store, history->vendor_uid, on_fetched, r);
}

/* A form's fields as an object of strings: what webhook_uid reads. */
static json_t *read_form_event(const http_request *request, app_error *err)
{
    const char *problem = NULL;
    json_t *event = form_urlencoded_parse(request->body ? request->body : "", request->body_len, &problem);
    if (!event)
        app_error_set(err, 400, "the webhook body must be a form: %s", problem);
    return event;
}

static json_t *read_event(const http_request *request, const vendor_adapter *vendor, app_error *err)
{
    if (vendor->webhook_form)
        return read_form_event(request, err);
    json_error_t parse_error;
    json_t *event =
        request->body_len ? json_loadb(request->body, request->body_len, JSON_REJECT_DUPLICATES, &parse_error) : NULL;
    if (!json_is_object(event)) {
        json_decref(event);
        app_error_set(err, 400, "the webhook body must be a JSON object");
        return NULL;
    }
    return event;
}

void webhooks_receive(http_exchange *ex, worker *w, const vendor_adapter *vendor)
{
    app_error err = {0};
    json_t *event = read_event(http_exchange_request(ex), vendor, &err);
    const char *uid = NULL;
    if (!event || !vendor->webhook_uid(event, &uid, &err) || !uid) {
        json_decref(event);
        if (err.status)
            http_respond_error(ex, err.status, err.message);
        else
            acknowledge(ex, vendor); /* an event we do not record */
        return;
    }
    webhook_receipt *r = calloc(1, sizeof *r);
    if (!r) {
        json_decref(event);
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    r->ex = ex;
    r->app = w;
    r->event = event;
    r->vendor = vendor;
    worker_work_begin(w);
    if (webhook_record_init(&r->record, w, "vendor", event) < 0) {
        app_error_set(&err, 500, "cannot seal the vendor's event");
        finish(r, &err);
        return;
    }
    history_store_find_by_vendor(w->db, vendor->code, uid, on_history, r);
}
