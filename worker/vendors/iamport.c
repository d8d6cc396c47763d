/* The iamport (PortOne v1) adapter. Every call carries an access token from
 * the context's cache (POST /users/getToken with the store's imp_key and
 * imp_secret, sent raw in Authorization); when the vendor no longer knows a
 * cached token, it is dropped and the call made once more with a fresh one.
 * iamport has no approval step: approve is a fetch. */
#include "iamport.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const vendor_dialect iamport_dialect = {
    .name = "iamport",
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
        vendor_request req = {&iamport_dialect, "POST", url, NULL, body, false, NULL};
        vendor_call(ctx, &req, iamport_token_answered, entry);
    } else {
        app_error err;
        app_error_set(&err, 500, "out of memory asking iamport for a token");
        vendor_token_fetched(entry, NULL, 0, &err);
    }
    free(url);
    json_decref(body);
}

/* ---- one operation: authorize, call, read the answer ---- */

typedef struct iamport_op {
    vendor_context *ctx;
    const vendor_store *store; /* read while the operation starts only */
    vendor_token_entry *tokens;
    const char *method;
    char *url;
    json_t *body; /* NULL for GET */
    char *token;  /* the token the current attempt sends */
    bool retried; /* a refused token was replaced once already */
    vendor_reply reply;
    app_error err; /* a failure found before any call */
} iamport_op;

static void iamport_forget_token(iamport_op *op)
{
    if (op->token) {
        explicit_bzero(op->token, strlen(op->token));
        free(op->token);
        op->token = NULL;
    }
}

static void iamport_op_free(iamport_op *op)
{
    iamport_forget_token(op);
    free(op->url);
    json_decref(op->body);
    free(op);
}

/* The one place an operation answers its caller. */
static void iamport_op_finish(iamport_op *op, json_t *doc, const app_error *err)
{
    vendor_reply_answer(&op->reply, doc, err, iamport_payment_read, iamport_billing_read);
    iamport_op_free(op);
}

static void iamport_op_deliver_failure(void *data)
{
    iamport_op *op = data;
    iamport_op_finish(op, NULL, &op->err);
}

static void iamport_answered(json_t *doc, const app_error *err, long http_status, void *data);

static void iamport_authorized(const char *token, const app_error *err, void *data)
{
    iamport_op *op = data;
    if (err) {
        iamport_op_finish(op, NULL, err);
        return;
    }
    op->token = strdup(token);
    if (!op->token) {
        app_error_set(&op->err, 500, "out of memory calling iamport");
        vendor_later(op->ctx, iamport_op_deliver_failure, op);
        return;
    }
    vendor_request req = {
        &iamport_dialect, op->method, op->url, op->token, op->body, op->reply.billing_cb != NULL, NULL};
    vendor_call(op->ctx, &req, iamport_answered, op);
}

static void iamport_answered(json_t *doc, const app_error *err, long http_status, void *data)
{
    iamport_op *op = data;
    if (http_status == 401 && !op->retried) {
        op->retried = true;
        vendor_token_forget(op->tokens, op->token);
        iamport_forget_token(op);
        vendor_token_get(op->tokens, iamport_authorized, op);
        return;
    }
    iamport_op_finish(op, doc, err);
}

static bool iamport_store_usable(const vendor_store *store)
{
    return store && store->base_url && *store->base_url && store->key && *store->key && store->secret && *store->secret;
}

/* A new operation; err is set in it when store or uid cannot be used. NULL
 * only when out of memory, after answering the caller. */
static iamport_op *iamport_op_new(vendor_context *ctx, const vendor_store *store, const char *uid,
                                  vendor_payment_cb payment_cb, vendor_billing_cb billing_cb, void *data)
{
    vendor_reply reply = {payment_cb, billing_cb, data};
    iamport_op *op = calloc(1, sizeof *op);
    if (!op) {
        app_error err;
        app_error_set(&err, 500, "out of memory calling iamport");
        vendor_reply_fail(&reply, &err);
        return NULL;
    }
    *op = (iamport_op){.ctx = ctx, .store = store, .reply = reply};
    if (!iamport_store_usable(store))
        app_error_set(&op->err, 502, "iamport credentials (imp_key, imp_secret, URL) are not configured for store %s",
                      store && store->store_id ? store->store_id : "(none)");
    else if (!uid || !*uid)
        app_error_set(&op->err, 404, "iamport: no record has an empty uid");
    return op;
}

/* Starts the operation, whose url (and body) the caller has set unless err
 * was already set. */
static void iamport_op_start(iamport_op *op, const char *method)
{
    op->method = method;
    if (!op->err.status && !op->url)
        app_error_set(&op->err, 500, "out of memory calling iamport");
    if (!op->err.status && !(op->tokens = vendor_token_entry_for(op->ctx, op->store, iamport_fetch_token)))
        app_error_set(&op->err, 500, "out of memory calling iamport");
    op->store = NULL;
    if (op->err.status) {
        vendor_later(op->ctx, iamport_op_deliver_failure, op);
        return;
    }
    vendor_token_get(op->tokens, iamport_authorized, op);
}

/* ---- the adapter ---- */

static void iamport_fetch(vendor_context *ctx, const vendor_store *store, const char *uid, vendor_payment_cb cb,
                          void *data)
{
    iamport_op *op = iamport_op_new(ctx, store, uid, cb, NULL, data);
    if (!op)
        return;
    if (!op->err.status)
        op->url = vendor_url(store->base_url, "payments", uid, NULL);
    iamport_op_start(op, "GET");
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
    iamport_op *op = iamport_op_new(ctx, store, uid, cb, NULL, data);
    if (!op)
        return;
    if (!op->err.status) {
        op->url = vendor_url(store->base_url, "payments", "cancel", NULL);
        op->body = iamport_cancel_body(uid, amount, reason, account, guard);
        if (!op->body)
            app_error_set(&op->err, 500, "out of memory calling iamport");
    }
    iamport_op_start(op, "POST");
}

static void iamport_fetch_billing(vendor_context *ctx, const vendor_store *store, const char *uid,
                                  const char *customer_key, vendor_billing_cb cb, void *data)
{
    (void)customer_key; /* iamport knows a billing key by its customer_uid alone */
    iamport_op *op = iamport_op_new(ctx, store, uid, NULL, cb, data);
    if (!op)
        return;
    if (!op->err.status)
        op->url = vendor_url(store->base_url, "subscribe", "customers", uid, NULL);
    iamport_op_start(op, "GET");
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
};
