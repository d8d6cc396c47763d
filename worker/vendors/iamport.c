/* The iamport (PortOne v1) adapter. Every call carries an access token from
 * the context's cache (POST /users/getToken with the store's imp_key and
 * imp_secret, sent raw in Authorization); when the vendor no longer knows a
 * cached token, it is dropped and the call made once more with a fresh one.
 * iamport has no approval step: approve is a fetch. */
#include "iamport.h"

#include "crypto.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

const vendor_dialect iamport_dialect = {
    .name = "iamport",
    .code = "iamport",
    .enveloped = true,
    .forbidden_is_refusal = false,
};

/* ---- access tokens ---- */

static void iamport_token_answered(json_t *doc, const app_error *err, long http_status, void *data)
{
    (void)http_status;
    vendor_token_entry *entry = data;
    if (err && err->status < 500) {
        /* Whatever iamport says about our token request is our configuration's
         * fault, never the caller's: no 404 or 422 may leak from here. */
        app_error ours;
        app_error_set(&ours, 502, "iamport refused an access token: %s", err->message);
        vendor_token_fetched(entry, NULL, 0, &ours);
        return;
    }
    if (err) {
        vendor_token_fetched(entry, NULL, 0, err);
        return;
    }
    const char *token = vendor_json_string(doc, "access_token");
    double expired_at = 0, now = 0;
    if (!token || !*token || !vendor_json_number(doc, "expired_at", &expired_at)) {
        app_error malformed;
        app_error_set(&malformed, 502, "iamport sent a token answer without access_token or expired_at");
        vendor_token_fetched(entry, NULL, 0, &malformed);
        return;
    }
    /* The vendor's own clock, when given, so that ours may be skewed. */
    if (!vendor_json_number(doc, "now", &now))
        now = (double)time(NULL);
    vendor_token_fetched(entry, token, (int64_t)(expired_at - now), NULL);
}

static void iamport_fetch_token(vendor_context *ctx, vendor_token_entry *entry, const vendor_store *store)
{
    char *url = vendor_url(store->base_url, "users", "getToken", NULL);
    json_t *body = json_pack("{s:s, s:s}", "imp_key", store->key, "imp_secret", store->secret);
    if (url && body) {
        vendor_request req = {&iamport_dialect, "POST", url, NULL, body, false, NULL, store->store_id, false};
        vendor_call(ctx, &req, iamport_token_answered, entry);
    } else {
        app_error err;
        app_error_set(&err, 500, "out of memory asking iamport for a token");
        vendor_token_fetched(entry, NULL, 0, &err);
    }
    free(url);
    json_decref(body);
}

/* ---- one operation: a token, the call, a retry when the token is refused ---- */

typedef struct iamport_op {
    vendor_op base; /* base.authorization: the token the current attempt sends */
    vendor_token_entry *tokens;
    bool retried; /* a refused token was replaced once already */
} iamport_op;

static void iamport_authorized(const char *token, const app_error *err, void *data)
{
    vendor_op *op = data;
    if (err) {
        vendor_op_finish(op, NULL, err);
        return;
    }
    if (!(op->authorization = strdup(token))) {
        vendor_op_fail_later(op, 500, "out of memory calling iamport");
        return;
    }
    vendor_op_call(op);
}

static void iamport_send(vendor_op *op)
{
    vendor_token_get(((iamport_op *)op)->tokens, iamport_authorized, op);
}

static bool iamport_prepare(vendor_op *op, const vendor_store *store)
{
    return (((iamport_op *)op)->tokens = vendor_token_entry_for(op->ctx, store, iamport_fetch_token)) != NULL;
}

/* iamport forgot our token (expired early, revoked): once more with a new one. */
static bool iamport_answered(vendor_op *op, json_t *doc, const app_error *err, long http_status)
{
    (void)doc;
    (void)err;
    iamport_op *iamport = (iamport_op *)op;
    if (http_status != 401 || iamport->retried)
        return false;
    iamport->retried = true;
    vendor_token_forget(iamport->tokens, op->authorization);
    crypto_secret_free(op->authorization);
    op->authorization = NULL;
    iamport_send(op);
    return true;
}

static const vendor_op_class iamport_op_class = {
    .dialect = &iamport_dialect,
    .size = sizeof(iamport_op),
    .needs_key = true,
    .credentials = "imp_key, imp_secret, URL",
    .uid_name = "uid",
    .read_payment = iamport_payment_read,
    .read_billing = iamport_billing_read,
    .prepare = iamport_prepare,
    .send = iamport_send,
    .answered = iamport_answered,
};

static vendor_op *iamport_op_new(vendor_context *ctx, const vendor_store *store, const char *uid,
                                 vendor_payment_cb payment_cb, vendor_billing_cb billing_cb, void *data)
{
    return vendor_op_new(&iamport_op_class, ctx, store, uid, (vendor_reply){payment_cb, billing_cb, data});
}

/* ---- the adapter ---- */

static void iamport_fetch(vendor_context *ctx, const vendor_store *store, const char *uid, vendor_payment_cb cb,
                          void *data)
{
    vendor_op *op = iamport_op_new(ctx, store, uid, cb, NULL, data);
    if (!op)
        return;
    if (!op->err.status)
        op->url = vendor_url(store->base_url, "payments", uid, NULL);
    vendor_op_start(op, "GET", NULL, false);
}

/* GET /payments/find/{merchant_uid}: the order's latest payment. */
static void iamport_fetch_order(vendor_context *ctx, const vendor_store *store, const char *order_id,
                                vendor_payment_cb cb, void *data)
{
    vendor_op *op = iamport_op_new(ctx, store, order_id, cb, NULL, data);
    if (!op)
        return;
    if (!op->err.status)
        op->url = vendor_url(store->base_url, "payments", "find", order_id, NULL);
    vendor_op_start(op, "GET", NULL, false);
}

static void iamport_approve(vendor_context *ctx, const vendor_store *store, const char *uid, const char *order_id,
                            double amount, const vendor_guard *guard, vendor_payment_cb cb, void *data)
{
    (void)order_id;
    (void)amount;
    (void)guard; /* a fetch moves no money */
    iamport_fetch(ctx, store, uid, cb, data);
}

/* IIamportPaymentCancel.ICreate; the refund account is for paid virtual accounts. */
static json_t *iamport_cancel_body(const char *uid, double amount, const char *reason,
                                   const vendor_refund_account *account, const vendor_guard *guard)
{
    json_t *body = json_pack("{s:s, s:o, s:s}", "imp_uid", uid, "amount", vendor_json_amount(amount), "reason",
                             reason ? reason : "");
    if (body && guard && guard->has_checksum &&
        json_object_set_new(body, "checksum", vendor_json_amount(guard->checksum)) != 0) {
        json_decref(body);
        return NULL;
    }
    if (!body || !account)
        return body;
    const char *fields[][2] = {{"refund_holder", account->holder},
                               {"refund_bank", account->bank},
                               {"refund_account", account->account},
                               {"refund_tel", account->mobile}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i][1] && json_object_set_new(body, fields[i][0], json_string(fields[i][1])) != 0) {
            json_decref(body);
            return NULL;
        }
    }
    return body;
}

static void iamport_cancel(vendor_context *ctx, const vendor_store *store, const char *uid, double amount,
                           const char *reason, const vendor_refund_account *account, const vendor_guard *guard,
                           vendor_payment_cb cb, void *data)
{
    vendor_op *op = iamport_op_new(ctx, store, uid, cb, NULL, data);
    if (!op)
        return;
    json_t *body = NULL;
    if (!op->err.status) {
        op->url = vendor_url(store->base_url, "payments", "cancel", NULL);
        body = iamport_cancel_body(uid, amount, reason, account, guard);
    }
    vendor_op_start(op, "POST", body, true);
}

static void iamport_fetch_billing(vendor_context *ctx, const vendor_store *store, const char *uid,
                                  const char *customer_key, vendor_billing_cb cb, void *data)
{
    (void)customer_key; /* iamport knows a billing key by its customer_uid alone */
    vendor_op *op = iamport_op_new(ctx, store, uid, NULL, cb, data);
    if (!op)
        return;
    if (!op->err.status)
        op->url = vendor_url(store->base_url, "subscribe", "customers", uid, NULL);
    vendor_op_start(op, "GET", NULL, false);
}

/* POST /subscribe/payments/again: a payment of the billing key (customer_uid)
 * for our order; iamport answers the payment it made. */
static void iamport_charge_billing(vendor_context *ctx, const vendor_store *store, const vendor_charge *charge,
                                   const vendor_guard *guard, vendor_payment_cb cb, void *data)
{
    (void)guard; /* no key: a lost answer is found by merchant_uid (fetch_order) before a resend */
    vendor_op *op = iamport_op_new(ctx, store, charge->billing_uid, cb, NULL, data);
    if (!op)
        return;
    json_t *body = NULL;
    if (!op->err.status) {
        op->url = vendor_url(store->base_url, "subscribe", "payments", "again", NULL);
        body = json_pack("{s:s, s:s, s:o, s:s, s:s?}", "customer_uid", charge->billing_uid, "merchant_uid",
                         charge->order_id ? charge->order_id : "", "amount", vendor_json_amount(charge->amount), "name",
                         charge->order_name ? charge->order_name : "", "currency", charge->currency);
    }
    vendor_op_start(op, "POST", body, true);
}

const vendor_adapter iamport_adapter = {
    .code = "iamport",
    .webhook_name = "iamport",
    .settings =
        {
            .key_name = "PAYMENT_IAMPORT_KEY",
            .secret_name = "PAYMENT_IAMPORT_SECRET",
            .url_name = "PAYMENT_IAMPORT_URL",
            .local_key = "test_imp_key",
            .local_secret = "test_imp_secret",
            .local_url = "http://127.0.0.1:10851",
            .remote_url = "https://api.iamport.kr",
        },
    .webhook_uid = iamport_webhook_uid,
    .cancels_mismatch = true,
    .fetch = iamport_fetch,
    .approve = iamport_approve,
    .cancel = iamport_cancel,
    .fetch_billing = iamport_fetch_billing,
    .charge_billing = iamport_charge_billing,
    .fetch_order = iamport_fetch_order,
};
