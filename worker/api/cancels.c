/* Cancels: PUT /payments/histories/cancel refunds all or part of a recorded
 * payment through its vendor (to a bank account for a paid virtual account),
 * then records what the vendor answered: the cancels, the refund and the
 * first cancel's time, in one transaction, with the webhook record and the
 * notification of the change (the vendor's own webhook about this cancel
 * then finds nothing new). A vendor refusal (e.g. more than what remains) is
 * a 422 and changes nothing. */
#include "worker.h"

#include "api_body.h"
#include "history_access.h"
#include "history_json.h"
#include "history_store.h"
#include "log.h"
#include "payment_input.h"
#include "webhook_record.h"

#include <stdlib.h>

typedef struct cancel_request {
    http_exchange *ex;
    worker *app;
    json_t *body; /* the decrypted request: the input strings live in it */
    payment_source_input source;
    const char *password;
    const char *reason;
    double price;
    bool has_account;
    vendor_refund_account account;
    history_record *record; /* as stored before the cancel */
    history_values values;
    webhook_record webhook; /* the change's record and notification */
} cancel_request;

static void request_free(cancel_request *r)
{
    json_decref(r->body);
    history_record_free(r->record);
    history_values_free(&r->values);
    webhook_record_free(&r->webhook);
    free(r);
}

static void fail(cancel_request *r, const app_error *err)
{
    api_respond_error(r->ex, err);
    request_free(r);
}

static void on_applied(history_record *record, const app_error *err, void *data)
{
    cancel_request *r = data;
    if (err) {
        /* The vendor refunded; the vendor's webhook will bring the record
         * up to date, but the operators should know. */
        log_error("cancels: history %s was cancelled at the vendor but not recorded (%d %s)", r->record->id,
                  err->status, err->message);
        fail(r, err);
        return;
    }
    webhook_record_committed(&r->webhook);
    app_error print_err = {0};
    json_text text;
    json_text_init(&text);
    int printed = history_json_text(record, &r->app->history_seal, &text, &print_err);
    history_record_free(record);
    size_t len = 0;
    const char *answer = printed == 0 ? json_text_result(&text, &len) : NULL;
    if (answer) {
        api_body_respond_text(r->ex, &r->app->connection_key, 200, answer, len);
        request_free(r);
    } else {
        fail(r, &print_err);
    }
    json_text_free(&text);
}

static void on_cancelled(vendor_payment *payment, const app_error *err, void *data)
{
    cancel_request *r = data;
    if (err) {
        app_error refused = *err;
        if (refused.status == 404)
            refused.status = 422; /* the vendor lost the payment: it refuses the cancel */
        fail(r, &refused);
        return;
    }
    worker *w = r->app;
    int sealed = history_values_from_payment(&r->values, payment, &w->history_seal, &w->cancel_seal);
    vendor_payment_free(payment);
    if (sealed < 0) {
        log_error("cancels: history %s was cancelled at the vendor but cannot be sealed", r->record->id);
        app_error seal_err;
        app_error_set(&seal_err, 500, "cannot seal the vendor's payment document");
        fail(r, &seal_err);
        return;
    }
    history_store_apply(w->db, r->record->id, &r->values, &r->webhook.observer, on_applied, r);
}

static void on_history(history_record *record, const app_error *err, void *data)
{
    cancel_request *r = data;
    if (err) {
        fail(r, err);
        return;
    }
    r->record = record;
    const vendor_adapter *adapter = vendor_find(record->vendor_code);
    const vendor_store *store = vendor_stores_find(r->app->stores, record->vendor_code, record->vendor_store_id);
    if (!adapter || !store) {
        app_error missing;
        app_error_set(&missing, 422, "no %s credentials on this server for the history's store", record->vendor_code);
        fail(r, &missing);
        return;
    }
    adapter->cancel(r->app->vendors, store, record->vendor_uid, r->price, r->reason,
                    r->has_account ? &r->account : NULL, on_cancelled, r);
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

static bool read_input(cancel_request *r, app_error *err)
{
    api_input in;
    api_input_init(&in, r->body, err);
    if (!payment_input_source(&in, &r->source) || !payment_input_password(&in, &r->password) ||
        !api_input_number(&in, "price", 0, PAYMENT_PRICE_MAX, &r->price) ||
        !api_input_string(&in, "reason", PAYMENT_TEXT_MAX, &r->reason) || !read_account(&in, r))
        return false;
    /* Vendors read an amount of 0 as "everything": never send one. */
    if (r->price <= 0) {
        app_error_set(err, 400, "price must be greater than 0");
        return false;
    }
    return true;
}

void cancels_create(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    worker *w = context;
    cancel_request *r = calloc(1, sizeof *r);
    if (!r) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    r->ex = ex;
    r->app = w;
    app_error err = {0};
    if (webhook_record_init(&r->webhook, w, "cancel", NULL) < 0) {
        app_error_set(&err, 500, "out of memory");
        fail(r, &err);
        return;
    }
    r->body = api_body_read(&w->connection_key, http_exchange_request(ex), &err);
    if (!r->body || !read_input(r, &err)) {
        fail(r, &err);
        return;
    }
    history_access_by_source(w, &r->source, r->password, on_history, r);
}
