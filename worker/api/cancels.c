/* Cancels: PUT /payments/histories/cancel refunds all or part of a recorded
 * payment through its vendor (to a bank account for a paid virtual account),
 * then records what the vendor answered: the cancels, the refund and the
 * first cancel's time, in one transaction, with the webhook record and the
 * notification of the change (the vendor's own webhook about this cancel
 * then finds nothing new). A vendor refusal (e.g. more than what remains) is
 * a 422 and changes nothing. */
#include "worker.h"

#include "api_request.h"
#include "history_access.h"
#include "log.h"
#include "payment_input.h"
#include "webhook_record.h"

#include <stddef.h>

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
} cancel_request;

static void request_release(api_request *api)
{
    cancel_request *r = (cancel_request *)api;
    history_record_free(r->record);
    webhook_record_free(&r->webhook);
}

static void on_applied(history_record *record, const app_error *err, void *data)
{
    cancel_request *r = data;
    /* The vendor refunded; the vendor's webhook will bring the record up to
     * date, but the operators should know. */
    if (err)
        log_error("cancels: history %s was cancelled at the vendor but not recorded (%d %s)", r->record->id,
                  err->status, err->message);
    api_request_answer_history(&r->api, 200, record, err);
}

static void on_cancelled(vendor_payment *payment, const app_error *err, void *data)
{
    cancel_request *r = data;
    if (err) {
        api_request_fail_vendor(&r->api, err); /* the vendor lost the payment: it refuses the cancel */
        return;
    }
    webhook_record_apply(&r->webhook, r->record->id, payment, on_applied, r);
    vendor_payment_free(payment);
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
    adapter->cancel(w->vendors, store, record->vendor_uid, r->price, r->reason, r->has_account ? &r->account : NULL,
                    on_cancelled, r);
}

/* Once the caller's Idempotency-Key, if any, is held. */
static void start_cancel(api_request *api)
{
    cancel_request *r = (cancel_request *)api;
    history_access_by_source(r->api.app, &r->source, r->password, on_history, r);
}

static bool read_account(const api_input *in, cancel_request *r)
{
    api_input account;
    if (!api_input_optional_object(in, "account", &account, &r->has_account))
        return false;
    return !r->has_account ||
           (api_input_string(&account, "bank", PAYMENT_NAME_MAX, &r->account.bank) &&
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
