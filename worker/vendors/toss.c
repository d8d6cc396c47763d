/* The Toss Payments adapter. Every call carries the store's secret key as
 * HTTP Basic user with an empty password. A payment awaiting approval is
 * confirmed with its orderId and amount; Toss checks both and refuses a
 * mismatch. When Toss answers that the payment was processed already, the
 * adapter reads it and checks order and amount itself, so that confirming
 * twice answers the same payment instead of an error. */
#include "toss.h"

#include "crypto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const vendor_dialect toss_dialect = {
    .name = "Toss Payments",
    .enveloped = false,
    .forbidden_is_refusal = true, /* 403: NOT_CANCELABLE_AMOUNT, NOT_MATCHES_CUSTOMER_KEY, ... */
};

typedef struct toss_op {
    vendor_context *ctx;
    char *authorization; /* "Basic ..."; wiped when freed */
    char *url;
    vendor_reply reply;
    /* approve: the order the payment must belong to */
    bool approving;
    bool verify_order; /* Toss did not check it (already processed): we do */
    char *order_id;
    double amount;
    char *idempotency_key; /* sent with the confirm or cancel, not the GET after it */
    app_error err;         /* a failure found before any call */
} toss_op;

static void toss_op_free(toss_op *op)
{
    if (op->authorization) {
        explicit_bzero(op->authorization, strlen(op->authorization));
        free(op->authorization);
    }
    free(op->url);
    free(op->order_id);
    free(op->idempotency_key);
    free(op);
}

/* The payment must be the one the caller approved: same order and amount. */
static bool toss_order_matches(const toss_op *op, const vendor_payment *payment, app_error *err)
{
    if (strcmp(payment->order_id, op->order_id) != 0) {
        app_error_set(err, 422, "Toss Payments refused: orderId differs from the payment's");
        return false;
    }
    if (fabs(payment->amount - op->amount) > 1e-6) {
        app_error_set(err, 422, "Toss Payments refused: amount differs from the payment's totalAmount");
        return false;
    }
    return true;
}

/* An approval Toss did not check (already processed): the payment read
 * back answers only when it is the approved order's. */
static void toss_finish_verified(toss_op *op, json_t *doc)
{
    app_error read_err = {0};
    vendor_payment *payment = toss_payment_read(doc, &read_err);
    if (payment && !toss_order_matches(op, payment, &read_err)) {
        vendor_payment_free(payment);
        payment = NULL;
    }
    op->reply.payment_cb(payment, payment ? NULL : &read_err, op->reply.data);
}

/* The one place an operation answers its caller. */
static void toss_op_finish(toss_op *op, json_t *doc, const app_error *err)
{
    if (op->verify_order && !err)
        toss_finish_verified(op, doc);
    else
        vendor_reply_answer(&op->reply, doc, err, toss_payment_read, toss_billing_read);
    toss_op_free(op);
}

static void toss_op_deliver_failure(void *data)
{
    toss_op *op = data;
    toss_op_finish(op, NULL, &op->err);
}

static void toss_answered(json_t *doc, const app_error *err, long http_status, void *data);

static void toss_op_call(toss_op *op, const char *method, json_t *body)
{
    vendor_request req = {&toss_dialect,
                          method,
                          op->url,
                          op->authorization,
                          body,
                          op->reply.billing_cb != NULL,
                          body ? op->idempotency_key : NULL};
    vendor_call(op->ctx, &req, toss_answered, op);
}

static void toss_answered(json_t *doc, const app_error *err, long http_status, void *data)
{
    (void)http_status;
    toss_op *op = data;
    const char *code = err && doc ? vendor_json_string(doc, "code") : NULL;
    if (op->approving && code && strcmp(code, "ALREADY_PROCESSED_PAYMENT") == 0) {
        op->approving = false;
        op->verify_order = true;
        toss_op_call(op, "GET", NULL);
        return;
    }
    toss_op_finish(op, doc, err);
}

/* "Basic base64(secret:)". */
static char *toss_authorization(const char *secret)
{
    size_t plain_len = strlen(secret) + 1;
    char *plain = malloc(plain_len + 1);
    if (!plain)
        return NULL;
    snprintf(plain, plain_len + 1, "%s:", secret);
    char *encoded = crypto_base64_encode(plain, plain_len, NULL);
    explicit_bzero(plain, plain_len);
    free(plain);
    if (!encoded)
        return NULL;
    size_t len = strlen("Basic ") + strlen(encoded) + 1;
    char *header = malloc(len);
    if (header)
        snprintf(header, len, "Basic %s", encoded);
    explicit_bzero(encoded, strlen(encoded));
    free(encoded);
    return header;
}

static bool toss_store_usable(const vendor_store *store)
{
    return store && store->base_url && *store->base_url && store->secret && *store->secret;
}

/* A new operation; err is set in it when store or uid cannot be used. NULL
 * only when out of memory, after answering the caller. */
static toss_op *toss_op_new(vendor_context *ctx, const vendor_store *store, const char *uid,
                            vendor_payment_cb payment_cb, vendor_billing_cb billing_cb, void *data)
{
    vendor_reply reply = {payment_cb, billing_cb, data};
    toss_op *op = calloc(1, sizeof *op);
    if (!op) {
        app_error err;
        app_error_set(&err, 500, "out of memory calling Toss Payments");
        vendor_reply_fail(&reply, &err);
        return NULL;
    }
    *op = (toss_op){.ctx = ctx, .reply = reply};
    if (!toss_store_usable(store))
        app_error_set(&op->err, 502, "Toss Payments credentials (secret key, URL) are not configured for store %s",
                      store && store->store_id ? store->store_id : "(none)");
    else if (!uid || !*uid)
        app_error_set(&op->err, 404, "Toss Payments: no record has an empty key");
    else if (!(op->authorization = toss_authorization(store->secret)))
        app_error_set(&op->err, 500, "out of memory calling Toss Payments");
    return op;
}

/* Keeps the guard's key for the call; false when out of memory. */
static bool toss_op_guard(toss_op *op, const vendor_guard *guard)
{
    if (!guard || !guard->idempotency_key)
        return true;
    op->idempotency_key = strdup(guard->idempotency_key);
    return op->idempotency_key != NULL;
}

/* Calls method on op->url (set by the caller unless err was set); takes body. */
static void toss_op_start(toss_op *op, const char *method, json_t *body, bool body_expected)
{
    if (!op->err.status && (!op->url || (body_expected && !body)))
        app_error_set(&op->err, 500, "out of memory calling Toss Payments");
    if (op->err.status)
        vendor_later(op->ctx, toss_op_deliver_failure, op);
    else
        toss_op_call(op, method, body);
    json_decref(body);
}

/* ---- the adapter ---- */

static void toss_fetch(vendor_context *ctx, const vendor_store *store, const char *uid, vendor_payment_cb cb,
                       void *data)
{
    toss_op *op = toss_op_new(ctx, store, uid, cb, NULL, data);
    if (!op)
        return;
    if (!op->err.status)
        op->url = vendor_url(store->base_url, "v1", "payments", uid, NULL);
    toss_op_start(op, "GET", NULL, false);
}

static void toss_approve(vendor_context *ctx, const vendor_store *store, const char *uid, const char *order_id,
                         double amount, const vendor_guard *guard, vendor_payment_cb cb, void *data)
{
    toss_op *op = toss_op_new(ctx, store, uid, cb, NULL, data);
    if (!op)
        return;
    json_t *body = NULL;
    if (!op->err.status) {
        op->approving = true;
        op->amount = amount;
        op->order_id = strdup(order_id ? order_id : "");
        op->url = vendor_url(store->base_url, "v1", "payments", uid, NULL);
        body = op->order_id && toss_op_guard(op, guard)
                   ? json_pack("{s:s, s:o}", "orderId", op->order_id, "amount", vendor_json_amount(amount))
                   : NULL;
    }
    toss_op_start(op, "POST", body, true);
}

static json_t *toss_cancel_body(double amount, const char *reason, const vendor_refund_account *account)
{
    json_t *body =
        json_pack("{s:s, s:o}", "cancelReason", reason ? reason : "", "cancelAmount", vendor_json_amount(amount));
    if (!body || !account)
        return body;
    json_t *refund = json_pack("{s:s?, s:s?, s:s?}", "bank", account->bank, "accountNumber", account->account,
                               "holderName", account->holder);
    if (!refund || json_object_set_new(body, "refundReceiveAccount", refund) != 0) {
        json_decref(body);
        return NULL;
    }
    return body;
}

static void toss_cancel(vendor_context *ctx, const vendor_store *store, const char *uid, double amount,
                        const char *reason, const vendor_refund_account *account, const vendor_guard *guard,
                        vendor_payment_cb cb, void *data)
{
    toss_op *op = toss_op_new(ctx, store, uid, cb, NULL, data);
    if (!op)
        return;
    json_t *body = NULL;
    if (!op->err.status) {
        op->url = vendor_url(store->base_url, "v1", "payments", uid, "cancel", NULL);
        body = toss_op_guard(op, guard) ? toss_cancel_body(amount, reason, account) : NULL;
    }
    toss_op_start(op, "POST", body, true);
}

static void toss_fetch_billing(vendor_context *ctx, const vendor_store *store, const char *uid,
                               const char *customer_key, vendor_billing_cb cb, void *data)
{
    toss_op *op = toss_op_new(ctx, store, uid, NULL, cb, data);
    if (!op)
        return;
    json_t *body = NULL;
    if (!op->err.status) {
        op->url = vendor_url(store->base_url, "v1", "billing", "authorizations", uid, NULL);
        body = json_pack("{s:s}", "customerKey", customer_key ? customer_key : "");
    }
    toss_op_start(op, "POST", body, true);
}

const vendor_adapter toss_adapter = {
    .code = "toss.payments",
    .webhook_name = "toss",
    .settings =
        {
            .key_name = NULL, /* the secret key alone authenticates */
            .secret_name = "PAYMENT_TOSS_PAYMENTS_SECRET",
            .url_name = "PAYMENT_TOSS_PAYMENTS_URL",
            .local_secret = "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy",
            .local_url = "http://127.0.0.1:30771",
            .remote_url = "https://api.tosspayments.com",
        },
    .webhook_uid = toss_webhook_uid,
    .fetch = toss_fetch,
    .approve = toss_approve,
    .cancel = toss_cancel,
    .fetch_billing = toss_fetch_billing,
};
