/* Payment histories: POST /payments/histories records a payment the vendor
 * vouches for; PATCH /payments/histories/get and /:id read one back with its
 * password. Recording asks the vendor only after the source and vendor uid
 * are known to be new, refuses a payment of another order or amount, then
 * confirms it when it awaits approval (Toss) and stores it. */
#include "worker.h"

#include "api_body.h"
#include "db_row.h"
#include "history_access.h"
#include "history_json.h"
#include "history_store.h"
#include "log.h"
#include "payment_input.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

typedef struct history_request {
    http_exchange *ex;
    worker *app;
    json_t *body; /* the decrypted request: the input strings live in it */
    payment_vendor_input vendor;
    payment_source_input source;
    const char *webhook_url;
    const char *password;
    double price;
    char price_text[32];
    char id[40]; /* PATCH /:id */
    const vendor_store *store;
    char *password_hash;
    history_values values;
    history_new insert;
} history_request;

static history_request *request_new(http_exchange *ex, worker *w)
{
    history_request *r = calloc(1, sizeof *r);
    if (!r) {
        http_respond_error(ex, 500, "out of memory");
        return NULL;
    }
    r->ex = ex;
    r->app = w;
    app_error err = {0};
    r->body = api_body_read(&w->connection_key, http_exchange_request(ex), &err);
    if (!r->body) {
        api_respond_error(ex, &err);
        free(r);
        return NULL;
    }
    return r;
}

static void request_free(history_request *r)
{
    json_decref(r->body);
    free(r->password_hash);
    history_values_free(&r->values);
    free(r);
}

static void fail(history_request *r, const app_error *err)
{
    api_respond_error(r->ex, err);
    request_free(r);
}

/* Answers the history and ends the request. */
static void answer(history_request *r, int status, history_record *record)
{
    app_error err = {0};
    json_t *doc = history_json(record, &r->app->history_seal, &err);
    history_record_free(record);
    if (!doc) {
        fail(r, &err);
        return;
    }
    api_body_respond(r->ex, &r->app->connection_key, status, doc);
    json_decref(doc);
    request_free(r);
}

static void on_history(history_record *record, const app_error *err, void *data)
{
    history_request *r = data;
    if (err)
        fail(r, err);
    else
        answer(r, 200, record);
}

/* ---- POST /payments/histories ---- */

static void on_inserted(history_record *record, const app_error *err, void *data)
{
    history_request *r = data;
    if (err)
        fail(r, err);
    else
        answer(r, 201, record);
}

/* Refuses a vendor payment that is not the one this order paid. */
static bool payment_matches(const history_request *r, const vendor_payment *payment, app_error *err)
{
    if (strcasecmp(payment->order_id, r->source.id) != 0) {
        app_error_set(err, 422, "order id mismatch: the vendor's payment belongs to another order than source.id");
        return false;
    }
    if (fabs(payment->amount - r->price) > 1e-9 * fmax(1.0, fabs(r->price))) {
        app_error_set(err, 422, "amount mismatch: the vendor's payment is %.15g, not price %.15g", payment->amount,
                      r->price);
        return false;
    }
    if (payment->status == VENDOR_STATUS_FAILED) {
        app_error_set(err, 422, "the vendor's payment failed");
        return false;
    }
    return true;
}

/* Everything the INSERT needs, from the request and the vendor's answer. */
static bool prepare_insert(history_request *r, const vendor_payment *payment, app_error *err)
{
    worker *w = r->app;
    if (history_values_from_payment(&r->values, payment, &w->history_seal, &w->cancel_seal) < 0) {
        app_error_set(err, 500, "cannot seal the vendor's payment document");
        return false;
    }
    r->password_hash = password_hash(&w->password, r->password);
    if (!r->password_hash) {
        app_error_set(err, 500, "cannot hash the password");
        return false;
    }
    db_amount_text(r->price, r->price_text, sizeof r->price_text);
    r->insert = (history_new){
        .vendor = &r->vendor,
        .source = &r->source,
        .webhook_url = r->webhook_url,
        .password_hash = r->password_hash,
        .price = r->price_text,
        .values = &r->values,
    };
    return true;
}

/* A vendor that does not know the uid refuses the payment: 422, as any
 * other refusal (our 404 means a history of ours is unknown). */
static void vendor_failed(history_request *r, const app_error *err)
{
    app_error refused = *err;
    if (err->status == 404)
        refused.status = 422;
    fail(r, &refused);
}

/* The vendor's payment after any confirmation: checked once more, then
 * stored with its cancels. */
static void on_approved(vendor_payment *payment, const app_error *err, void *data)
{
    history_request *r = data;
    if (err) {
        vendor_failed(r, err);
        return;
    }
    app_error refused = {0};
    bool ready = payment_matches(r, payment, &refused) && prepare_insert(r, payment, &refused);
    vendor_payment_free(payment);
    if (!ready) {
        fail(r, &refused);
        return;
    }
    history_store_insert(r->app->db, &r->insert, on_inserted, r);
}

/* The payment is checked before any confirmation, so that we never confirm
 * (take the money of) a payment we are about to refuse. */
static void on_fetched(vendor_payment *payment, const app_error *err, void *data)
{
    history_request *r = data;
    if (err) {
        vendor_failed(r, err);
        return;
    }
    app_error refused = {0};
    if (!payment_matches(r, payment, &refused)) {
        vendor_payment_free(payment);
        fail(r, &refused);
        return;
    }
    if (!payment->awaits_approval) {
        on_approved(payment, NULL, r);
        return;
    }
    vendor_payment_free(payment);
    const vendor_adapter *adapter = vendor_find(r->vendor.code);
    adapter->approve(r->app->vendors, r->store, r->vendor.uid, r->source.id, r->price, on_approved, r);
}

static void on_checked_new(const app_error *err, void *data)
{
    history_request *r = data;
    if (err) {
        fail(r, err);
        return;
    }
    const vendor_adapter *adapter = vendor_find(r->vendor.code);
    adapter->fetch(r->app->vendors, r->store, r->vendor.uid, on_fetched, r);
}

static bool read_create_input(history_request *r, app_error *err)
{
    api_input in;
    api_input_init(&in, r->body, err);
    return payment_input_vendor(&in, &r->vendor) && payment_input_source(&in, &r->source) &&
           api_input_number(&in, "price", 0, PAYMENT_PRICE_MAX, &r->price) &&
           payment_input_password(&in, &r->password) && api_input_url(&in, "webhook_url", &r->webhook_url);
}

void histories_create(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    history_request *r = request_new(ex, context);
    if (!r)
        return;
    app_error err = {0};
    if (!read_create_input(r, &err) || !(r->store = payment_input_store(r->app->stores, &r->vendor, &err))) {
        fail(r, &err);
        return;
    }
    history_store_check_new(r->app->db, &r->source, &r->vendor, on_checked_new, r);
}

/* ---- PATCH /payments/histories/get ---- */

void histories_get(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    history_request *r = request_new(ex, context);
    if (!r)
        return;
    app_error err = {0};
    api_input in;
    api_input_init(&in, r->body, &err);
    if (!payment_input_source_fields(&in, &r->source) || !payment_input_password(&in, &r->password)) {
        fail(r, &err);
        return;
    }
    history_access_by_source(r->app, &r->source, r->password, on_history, r);
}

/* ---- PATCH /payments/histories/:id ---- */

void histories_at(http_exchange *ex, const http_route_params *params, void *context)
{
    const char *id = http_route_param(params, "id");
    if (!id || !api_input_is_uuid(id)) {
        http_respond_error(ex, 400, "id must be a UUID");
        return;
    }
    history_request *r = request_new(ex, context);
    if (!r)
        return;
    app_error err = {0};
    api_input in;
    api_input_init(&in, r->body, &err);
    if (!payment_input_password(&in, &r->password)) {
        fail(r, &err);
        return;
    }
    snprintf(r->id, sizeof r->id, "%s", id);
    history_access_by_id(r->app, r->id, r->password, on_history, r);
}
