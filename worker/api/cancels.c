/* Cancels: PUT /payments/histories/cancel refunds all or part of a recorded
 * payment through its vendor (to a bank account for a paid virtual account).
 * The cancel is an operation committed before the call (a 409 while an
 * earlier one is unsettled), sent with keys that make a repeat harmless;
 * what the vendor answered (the cancels, the refund, the first cancel's
 * time) is recorded in one transaction with the webhook record, the
 * notification and the operation's settlement. A refusal (e.g. more than
 * what remains) is a 422 and changes nothing; no answer (504/502) or a
 * failed write (503) leaves the operation to the reconciler. */
#include "worker.h"

#include "api_request.h"
#include "db_transaction.h"
#include "history_access.h"
#include "log.h"
#include "operation.h"
#include "payment_input.h"
#include "sealed_json.h"
#include "webhook_record.h"

#include <stddef.h>
#include <stdio.h>

typedef struct cancel_request {
    api_request api; /* first: the request is answered and freed through it */
    payment_source_input source;
    const char *password;
    const char *reason;
    double price;
    bool has_account;
    vendor_refund_account account;
    history_record *record; /* as stored before the cancel */
    webhook_record webhook; /* records the cancel, with its notification */
    operation op;
    app_error refusal; /* the vendor's, answered once the operation says so */
} cancel_request;

static void request_release(api_request *api)
{
    cancel_request *r = (cancel_request *)api;
    history_record_free(r->record);
    webhook_record_free(&r->webhook);
    operation_clear(&r->op);
}

static void on_applied(history_record *record, const app_error *err, void *data)
{
    cancel_request *r = data;
    if (err) {
        /* The vendor refunded; the operation stays pending and the
         * reconciler records it. */
        log_error("cancels: history %s was cancelled at the vendor but not recorded yet (%d %s); operation %s "
                  "is left to the reconciler",
                  r->record->id, err->status, err->message, r->op.id);
        app_error unavailable;
        if (db_transaction_outcome_unknown(err))
            app_error_set(&unavailable, 504,
                          "the cancel was made at the vendor; whether it is recorded yet is unknown (the database "
                          "connection closed during the commit): the reconciler settles it, do not repeat it");
        else
            app_error_set(&unavailable, 503,
                          "the cancel was made at the vendor but could not be recorded yet; it "
                          "will be recorded shortly, do not repeat it");
        api_request_fail(&r->api, &unavailable);
        return;
    }
    api_request_answer_history(&r->api, 200, record, NULL);
}

static void on_refusal_settled(const app_error *err, void *data)
{
    cancel_request *r = data;
    if (err)
        log_warn("cancels: cannot mark operation %s refused (%d %s); the reconciler will", r->op.id, err->status,
                 err->message);
    /* A refusal (a payment the vendor lost answers 422), or a cancel never sent. */
    api_request_fail_vendor(&r->api, &r->refusal);
}

static void on_cancelled(vendor_payment *payment, const app_error *err, void *data)
{
    cancel_request *r = data;
    if (err && (operation_refused(err) || operation_not_sent(err))) {
        r->refusal = *err;
        operation_settle_now(&r->op, "refused", err->message, on_refusal_settled, r);
        return;
    }
    if (err) {
        log_warn("cancels: no answer from the vendor for operation %s (%d %s); the reconciler settles it", r->op.id,
                 err->status, err->message);
        api_request_fail(&r->api, err);
        return;
    }
    if (operation_keep_answer(&r->op, payment) < 0)
        log_warn("cancels: cannot seal the vendor's answer of operation %s", r->op.id);
    webhook_record_also(&r->webhook, operation_settle_statement(&r->op, "succeeded", "cancelled at the vendor"));
    webhook_record_apply(&r->webhook, r->record->id, payment, on_applied, r);
    vendor_payment_free(payment);
}

static void on_operation(const char *id, const app_error *err, void *data)
{
    cancel_request *r = data;
    if (err) {
        app_error busy = *err;
        if (busy.status == 409) {
            api_request_retry_after_reconcile(&r->api);
            app_error_set(&busy, 409, "a previous cancel of this payment is not settled yet");
        }
        api_request_fail(&r->api, &busy);
        return;
    }
    snprintf(r->op.id, sizeof r->op.id, "%s", id);
    r->api.operation_id = r->op.id;
    worker *w = r->api.app;
    history_record *record = r->record;
    const vendor_adapter *adapter = vendor_find(record->vendor_code);
    const vendor_store *store = vendor_stores_find(w->stores, record->vendor_code, record->vendor_store_id);
    adapter->cancel(w->vendors, store, record->vendor_uid, r->price, r->reason, r->has_account ? &r->account : NULL,
                    &r->op.guard, on_cancelled, r);
}

/* The refund account, sealed for the operation's row; NULL without one. */
static char *sealed_account(cancel_request *r)
{
    if (!r->has_account)
        return NULL;
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "bank", r->account.bank, "account", r->account.account, "holder",
                            r->account.holder, "mobile", r->account.mobile);
    char *sealed = doc ? sealed_json_seal(&r->api.app->history_seal, doc) : NULL;
    json_decref(doc);
    return sealed;
}

/* Commits the cancel as a pending operation before the vendor hears of it. */
static void start_operation(cancel_request *r)
{
    history_record *record = r->record;
    r->op.input = sealed_account(r);
    if (operation_prepare_cancel(&r->op, r->api.app, record->id, record->price, record->refund, r->price) < 0 ||
        (r->has_account && !r->op.input)) {
        app_error err;
        app_error_set(&err, 500, "cannot prepare the cancel");
        api_request_fail(&r->api, &err);
        return;
    }
    operation_new in = {
        .kind = "cancel",
        .vendor_code = record->vendor_code,
        .vendor_store_id = record->vendor_store_id,
        .vendor_uid = record->vendor_uid,
        .history_id = record->id,
        .amount = r->op.amount,
        .reason = r->reason,
        .refund_before = r->op.refund_before,
        .input = r->op.input,
        .idempotency_key = r->op.key,
    };
    operation_store_create(r->api.app->db, &in, on_operation, r);
}

static void on_history(history_record *record, const app_error *err, void *data)
{
    cancel_request *r = data;
    if (err) {
        api_request_fail(&r->api, err);
        return;
    }
    r->record = record;
    worker *w = r->api.app;
    const vendor_adapter *adapter = vendor_find(record->vendor_code);
    const vendor_store *store = vendor_stores_find(w->stores, record->vendor_code, record->vendor_store_id);
    if (!adapter || !store) {
        app_error missing;
        app_error_set(&missing, 422, "no %s credentials on this server for the history's store", record->vendor_code);
        api_request_fail(&r->api, &missing);
        return;
    }
    start_operation(r);
}

/* Once the caller's Idempotency-Key, if any, is held. */
static void start_cancel(api_request *api)
{
    cancel_request *r = (cancel_request *)api;
    history_access_by_source(r->api.app, r->api.ex, &r->source, r->password, on_history, r);
}

static bool read_account(const api_input *in, cancel_request *r)
{
    api_input account;
    if (!api_input_optional_object(in, "account", &account, &r->has_account))
        return false;
    return !r->has_account || (api_input_string(&account, "bank", PAYMENT_NAME_MAX, &r->account.bank) &&
                               api_input_string(&account, "account", PAYMENT_NAME_MAX, &r->account.account) &&
                               api_input_string(&account, "holder", PAYMENT_NAME_MAX, &r->account.holder) &&
                               api_input_string(&account, "mobile", PAYMENT_NAME_MAX, &r->account.mobile));
}

static bool read_input(api_request *api, const api_input *in)
{
    cancel_request *r = (cancel_request *)api;
    if (!payment_input_source(in, &r->source) || !payment_input_password(in, &r->password) ||
        !api_input_number(in, "price", 0, PAYMENT_PRICE_MAX, &r->price) ||
        !api_input_string(in, "reason", PAYMENT_TEXT_MAX, &r->reason) || !read_account(in, r))
        return false;
    /* Vendors read an amount of 0 as "everything": never send one. */
    if (r->price <= 0) {
        app_error_set(in->err, 400, "price must be greater than 0");
        return false;
    }
    return true;
}

void cancels_create(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    _Static_assert(offsetof(cancel_request, api) == 0, "api_request must come first");
    cancel_request *r = api_request_new(sizeof(cancel_request), ex, context, request_release);
    if (!r)
        return;
    if (webhook_record_init(&r->webhook, r->api.app, "cancel", NULL) < 0) {
        app_error err;
        app_error_set(&err, 500, "out of memory");
        api_request_fail(&r->api, &err);
        return;
    }
    if (api_request_input(&r->api, read_input))
        idempotency_begin(&r->api, &r->source, r->password, start_cancel);
}
