/* Payment histories: POST /payments/histories records a payment the vendor
 * vouches for; PATCH /payments/histories/get and /:id read one back with its
 * password. Recording asks the vendor only after the source and vendor uid
 * are known to be new, refuses a payment of another order or amount (and
 * cancels it at a vendor that expects so, as an operation), then
 * confirms it when it awaits approval and stores it. The confirm is
 * an operation committed before the call with the pending history's input,
 * so that a payment confirmed before a crash still becomes its history. */
#include "worker.h"

#include "api_lookup.h"
#include "db_row.h"
#include "history_access.h"
#include "history_store.h"
#include "log.h"
#include "operation.h"
#include "operation_mismatch.h"
#include "payment_input.h"
#include "sealed_json.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

typedef struct history_request {
    api_request api; /* first: the request is answered and freed through it */
    payment_vendor_input vendor;
    payment_source_input source;
    const char *webhook_url;
    const char *password;
    double price;
    char price_text[32];
    api_lookup lookup; /* PATCH .../get and .../:id */
    const vendor_store *store;
    char *password_hash;
    history_values values;
    history_new insert;
    operation op;      /* a confirm, once started */
    app_error refusal; /* answered after the operation is settled */
} history_request;

static void request_release(api_request *api)
{
    history_request *r = (history_request *)api;
    free(r->password_hash);
    history_values_free(&r->values);
    operation_clear(&r->op);
}

static history_request *request_new(http_exchange *ex, worker *w)
{
    _Static_assert(offsetof(history_request, api) == 0, "api_request must come first");
    return api_request_new(sizeof(history_request), ex, w, request_release);
}

static void on_history(history_record *record, const app_error *err, void *data)
{
    history_request *r = data;
    api_request_answer_history(&r->api, 200, record, err);
}

/* ---- POST /payments/histories ---- */

static void on_inserted(history_record *record, const app_error *err, void *data)
{
    history_request *r = data;
    api_request_answer_history(&r->api, 201, record, err);
}

/* Refuses a vendor payment that is not the one this order paid. */
static bool payment_matches(const history_request *r, const vendor_payment *payment, app_error *err)
{
    if (strcasecmp(payment->order_id, r->source.id) != 0) {
        app_error_set(err, 422, "order id mismatch: the vendor's payment belongs to another order than source.id");
        return false;
    }
    if (fabs(payment->amount - r->price) > 1e-9 * fmax(1.0, fabs(r->price))) {
        /* The vendor's amount is not shown: the uid may name another
         * customer's payment, and its amount is theirs. */
        app_error_set(err, 422, "amount mismatch: the vendor's payment does not match price");
        return false;
    }
    if (payment->status == VENDOR_STATUS_FAILED) {
        app_error_set(err, 422, "the vendor's payment failed");
        return false;
    }
    return true;
}

/* The vendor's answer, when it is this order's payment; else NULL after
 * failing the request. */
static vendor_payment *matching_payment(history_request *r, vendor_payment *payment, const app_error *err)
{
    if (err) {
        api_request_fail_vendor(&r->api, err);
        return NULL;
    }
    app_error refused = {0};
    if (!payment_matches(r, payment, &refused)) {
        vendor_payment_free(payment);
        api_request_fail(&r->api, &refused);
        return NULL;
    }
    return payment;
}

/* The record password's hash, once: the INSERT and a confirm's sealed
 * input both carry it. */
static bool hash_password(history_request *r, app_error *err)
{
    if (!r->password_hash)
        r->password_hash = password_hash(&r->api.app->password, r->password);
    if (!r->password_hash)
        app_error_set(err, 500, "cannot hash the password");
    return r->password_hash != NULL;
}

/* Everything the INSERT needs, from the request and the vendor's answer. */
static bool prepare_insert(history_request *r, const vendor_payment *payment, app_error *err)
{
    worker *w = r->api.app;
    if (history_values_from_payment(&r->values, payment, &w->history_seal, &w->cancel_seal) < 0) {
        app_error_set(err, 500, "cannot seal the vendor's payment document");
        return false;
    }
    if (!hash_password(r, err))
        return false;
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

static void on_confirm_inserted(history_record *record, const app_error *err, void *data)
{
    history_request *r = data;
    if (err && err->status >= 500) {
        log_error("histories: payment %s was confirmed at the vendor but not recorded yet (%d %s); operation %s "
                  "is left to the reconciler",
                  r->vendor.uid, err->status, err->message, r->op.id);
        app_error unavailable;
        if (db_transaction_outcome_unknown(err))
            app_error_set(&unavailable, 504,
                          "the payment was confirmed at the vendor; whether it is recorded yet is unknown (the "
                          "database connection closed during the commit): the reconciler settles it");
        else
            app_error_set(&unavailable, 503,
                          "the payment was confirmed at the vendor but could not be recorded yet; "
                          "it will be recorded shortly");
        api_request_fail(&r->api, &unavailable);
        return;
    }
    api_request_answer_history(&r->api, 201, record, err);
}

/* Stores the payment as the vendor answered it, with the confirm's
 * settlement in the same transaction when there was one. */
static void record_payment(history_request *r, vendor_payment *payment)
{
    app_error refused = {0};
    bool ready = prepare_insert(r, payment, &refused);
    if (ready && r->op.id[0]) {
        if (operation_keep_answer(&r->op, payment) < 0)
            log_warn("histories: cannot seal the vendor's answer of operation %s", r->op.id);
        r->insert.also = operation_settle_statement(&r->op, "succeeded", "confirmed at the vendor");
    }
    vendor_payment_free(payment);
    if (!ready) {
        api_request_fail(&r->api, &refused);
        return;
    }
    history_store_insert(r->api.app->db, &r->insert, r->op.id[0] ? on_confirm_inserted : on_inserted, r);
}

static void on_refusal_settled(const app_error *err, void *data)
{
    history_request *r = data;
    if (err)
        log_warn("histories: cannot settle operation %s (%d %s); the reconciler will", r->op.id, err->status,
                 err->message);
    api_request_fail_vendor(&r->api, &r->refusal);
}

/* The vendor's payment after the confirm: checked once more, then stored. */
static void on_approved(vendor_payment *payment, const app_error *err, void *data)
{
    history_request *r = data;
    if (err && (operation_refused(err) || operation_not_sent(err))) {
        r->refusal = *err;
        operation_settle_now(&r->op, "refused", err->message, on_refusal_settled, r);
        return;
    }
    if (err)
        log_warn("histories: no answer from the vendor for operation %s (%d %s); the reconciler settles it", r->op.id,
                 err->status, err->message);
    if ((payment = matching_payment(r, payment, err)))
        record_payment(r, payment);
}

static void on_confirm_created(const char *id, const app_error *err, void *data)
{
    history_request *r = data;
    if (err) {
        api_request_fail(&r->api, err);
        return;
    }
    snprintf(r->op.id, sizeof r->op.id, "%s", id);
    r->api.operation_id = r->op.id;
    const vendor_adapter *adapter = vendor_find(r->vendor.code);
    adapter->approve(r->api.app->vendors, r->store, r->vendor.uid, r->source.id, r->price, &r->op.guard, on_approved,
                     r);
}

/* What the reconciler needs to create the history of a payment confirmed
 * before a crash, sealed (it holds the password hash). */
static char *sealed_pending_history(history_request *r)
{
    json_t *doc = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:s?, s:s, s:s}", "vendor", "code", r->vendor.code,
                            "store_id", r->vendor.store_id, "uid", r->vendor.uid, "source", "schema", r->source.schema,
                            "table", r->source.table, "id", r->source.id, "webhook_url", r->webhook_url,
                            "password_hash", r->password_hash, "price", r->price_text);
    char *sealed = doc ? sealed_json_seal(&r->api.app->history_seal, doc) : NULL;
    json_decref(doc);
    return sealed;
}

/* Commits the confirm as a pending operation, then asks the vendor. */
static void start_confirm(history_request *r)
{
    app_error err = {0};
    r->op.app = r->api.app;
    db_amount_text(r->price, r->price_text, sizeof r->price_text);
    snprintf(r->op.amount, sizeof r->op.amount, "%s", r->price_text);
    snprintf(r->op.refund_before, sizeof r->op.refund_before, "0");
    if (!hash_password(r, &err) || !(r->op.input = sealed_pending_history(r)) ||
        operation_key_confirm(r->vendor.uid, r->source.id, r->op.amount, r->op.key) < 0) {
        if (!err.status)
            app_error_set(&err, 500, "cannot prepare the confirm");
        api_request_fail(&r->api, &err);
        return;
    }
    r->op.guard = (vendor_guard){.idempotency_key = r->op.key};
    operation_new in = {
        .kind = "confirm",
        .vendor_code = r->vendor.code,
        .vendor_store_id = r->vendor.store_id,
        .vendor_uid = r->vendor.uid,
        .amount = r->op.amount,
        .reason = "",
        .refund_before = r->op.refund_before,
        .input = r->op.input,
        .idempotency_key = r->op.key,
    };
    operation_store_create(r->api.app->db, &in, on_confirm_created, r);
}

static void on_mismatch_answered(const app_error *answer, void *data)
{
    history_request *r = data;
    api_request_fail(&r->api, answer);
}

/* The payment is checked before any confirmation, so that we never confirm
 * (take the money of) a payment we are about to refuse. */
static void on_fetched(vendor_payment *payment, const app_error *err, void *data)
{
    history_request *r = data;
    if (err) {
        api_request_fail_vendor(&r->api, err);
        return;
    }
    if (!payment_matches(r, payment, &r->refusal)) {
        if (operation_mismatch_applies(payment, r->vendor.code)) {
            operation_mismatch_cancel(r->api.app, r->store, &r->vendor, payment, &r->refusal, on_mismatch_answered, r);
            return;
        }
        vendor_payment_free(payment);
        api_request_fail(&r->api, &r->refusal);
        return;
    }
    if (!payment->awaits_approval) {
        record_payment(r, payment);
        return;
    }
    vendor_payment_free(payment);
    start_confirm(r);
}

static void on_checked_new(const app_error *err, void *data)
{
    history_request *r = data;
    if (err) {
        api_request_fail(&r->api, err);
        return;
    }
    const vendor_adapter *adapter = vendor_find(r->vendor.code);
    adapter->fetch(r->api.app->vendors, r->store, r->vendor.uid, on_fetched, r);
}

/* Once the caller's Idempotency-Key, if any, is held. */
static void start_create(api_request *api)
{
    history_request *r = (history_request *)api;
    history_store_check_new(r->api.app->db, &r->source, &r->vendor, on_checked_new, r);
}

static bool read_create_input(api_request *api, const api_input *in)
{
    history_request *r = (history_request *)api;
    webhook_destination_policy destinations = webhook_destination_policy_of(&api->app->config);
    return payment_input_vendor(in, &r->vendor) && payment_input_source(in, &r->source) &&
           api_input_number(in, "price", 0, PAYMENT_PRICE_MAX, &r->price) && payment_input_password(in, &r->password) &&
           payment_input_webhook_url(in, &destinations, &r->webhook_url) &&
           (r->store = payment_input_store(api->app->stores, &r->vendor, in->err));
}

void histories_create(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    history_request *r = request_new(ex, context);
    if (r && api_request_input(&r->api, read_create_input))
        idempotency_begin(&r->api, &r->source, r->password, start_create);
}

/* ---- PATCH /payments/histories/get and /payments/histories/:id ---- */

void histories_get(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    history_request *r = request_new(ex, context);
    if (r && api_lookup_read(&r->api, NULL, &r->lookup))
        history_access_by_source(r->api.app, r->api.ex, &r->lookup.source, r->lookup.password, on_history, r);
}

void histories_at(http_exchange *ex, const http_route_params *params, void *context)
{
    const char *id = api_lookup_path_id(ex, params);
    history_request *r = id ? request_new(ex, context) : NULL;
    if (r && api_lookup_read(&r->api, id, &r->lookup))
        history_access_by_id(r->api.app, r->api.ex, r->lookup.id, r->lookup.password, on_history, r);
}
