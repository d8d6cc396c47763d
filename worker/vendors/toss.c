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

const vendor_dialect toss_dialect = {
    .name = "Toss Payments",
    .code = "toss.payments",
    .enveloped = false,
    .forbidden_is_refusal = true, /* 403: NOT_CANCELABLE_AMOUNT, NOT_MATCHES_CUSTOMER_KEY, ... */
};

/* base.authorization: "Basic base64(secret:)". */
typedef struct toss_op {
    vendor_op base;
    /* approve: the order the payment must belong to */
    bool approving;
    bool verify_order; /* Toss did not check it (already processed): we do */
    char *order_id;
    double amount;
} toss_op;

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
static bool toss_answer(vendor_op *base, json_t *doc)
{
    toss_op *op = (toss_op *)base;
    if (!op->verify_order)
        return false;
    app_error read_err = {0};
    vendor_payment *payment = toss_payment_read(doc, &read_err);
    if (payment && !toss_order_matches(op, payment, &read_err)) {
        vendor_payment_free(payment);
        payment = NULL;
    }
    base->reply.payment_cb(payment, payment ? NULL : &read_err, base->reply.data);
    return true;
}

/* Confirming a payment processed already: read it back and check it. */
static bool toss_answered(vendor_op *base, json_t *doc, const app_error *err, long http_status)
{
    (void)http_status;
    toss_op *op = (toss_op *)base;
    const char *code = err && doc ? vendor_json_string(doc, "code") : NULL;
    if (!op->approving || !code || strcmp(code, "ALREADY_PROCESSED_PAYMENT") != 0)
        return false;
    op->approving = false;
    op->verify_order = true;
    base->method = "GET";
    json_decref(base->body);
    base->body = NULL;
    vendor_op_call(base);
    return true;
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

static bool toss_prepare(vendor_op *op, const vendor_store *store)
{
    return (op->authorization = toss_authorization(store->secret)) != NULL;
}

static void toss_clear(vendor_op *op)
{
    free(((toss_op *)op)->order_id);
}

static const vendor_op_class toss_op_class = {
    .dialect = &toss_dialect,
    .size = sizeof(toss_op),
    .credentials = "secret key, URL",
    .uid_name = "key",
    .read_payment = toss_payment_read,
    .read_billing = toss_billing_read,
    .prepare = toss_prepare,
    .answered = toss_answered,
    .answer = toss_answer,
    .clear = toss_clear,
};

static vendor_op *toss_op_new(vendor_context *ctx, const vendor_store *store, const char *uid,
                              vendor_payment_cb payment_cb, vendor_billing_cb billing_cb, void *data)
{
    return vendor_op_new(&toss_op_class, ctx, store, uid, (vendor_reply){payment_cb, billing_cb, data});
}

/* ---- the adapter ---- */

static void toss_fetch(vendor_context *ctx, const vendor_store *store, const char *uid, vendor_payment_cb cb,
                       void *data)
{
    vendor_op *op = toss_op_new(ctx, store, uid, cb, NULL, data);
    if (!op)
        return;
    op->operation = "fetch";
    if (!op->err.status)
        op->url = vendor_url(store->base_url, "v1", "payments", uid, NULL);
    vendor_op_start(op, "GET", NULL, false);
}

static void toss_approve(vendor_context *ctx, const vendor_store *store, const char *uid, const char *order_id,
                         double amount, const vendor_guard *guard, vendor_payment_cb cb, void *data)
{
    vendor_op *op = toss_op_new(ctx, store, uid, cb, NULL, data);
    if (!op)
        return;
    op->operation = "approve";
    json_t *body = NULL;
    toss_op *approval = (toss_op *)op;
    if (!op->err.status) {
        approval->approving = true;
        approval->amount = amount;
        approval->order_id = strdup(order_id ? order_id : "");
        op->url = vendor_url(store->base_url, "v1", "payments", uid, NULL);
        body = approval->order_id && vendor_op_keep_guard(op, guard)
                   ? json_pack("{s:s, s:o}", "orderId", approval->order_id, "amount", vendor_json_amount(amount))
                   : NULL;
    }
    vendor_op_start(op, "POST", body, true);
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
    vendor_op *op = toss_op_new(ctx, store, uid, cb, NULL, data);
    if (!op)
        return;
    op->operation = "cancel";
    json_t *body = NULL;
    if (!op->err.status) {
        op->url = vendor_url(store->base_url, "v1", "payments", uid, "cancel", NULL);
        body = vendor_op_keep_guard(op, guard) ? toss_cancel_body(amount, reason, account) : NULL;
    }
    vendor_op_start(op, "POST", body, true);
}

static void toss_fetch_billing(vendor_context *ctx, const vendor_store *store, const char *uid,
                               const char *customer_key, vendor_billing_cb cb, void *data)
{
    vendor_op *op = toss_op_new(ctx, store, uid, NULL, cb, data);
    if (!op)
        return;
    op->operation = "fetch_billing";
    json_t *body = NULL;
    if (!op->err.status) {
        op->url = vendor_url(store->base_url, "v1", "billing", "authorizations", uid, NULL);
        body = json_pack("{s:s}", "customerKey", customer_key ? customer_key : "");
    }
    vendor_op_start(op, "POST", body, true);
}

/* POST /v1/billing/{billingKey}: a payment of the billing key for our order,
 * Toss checking customerKey; a repeated Idempotency-Key answers the first
 * payment instead of a second one. */
static void toss_charge_billing(vendor_context *ctx, const vendor_store *store, const vendor_charge *charge,
                                const vendor_guard *guard, vendor_payment_cb cb, void *data)
{
    vendor_op *op = toss_op_new(ctx, store, charge->billing_uid, cb, NULL, data);
    if (!op)
        return;
    op->operation = "charge_billing";
    json_t *body = NULL;
    if (!op->err.status) {
        op->url = vendor_url(store->base_url, "v1", "billing", charge->billing_uid, NULL);
        op->url_is_secret = true;
        body = vendor_op_keep_guard(op, guard)
                   ? json_pack("{s:s, s:o, s:s, s:s}", "customerKey", charge->customer_key ? charge->customer_key : "",
                               "amount", vendor_json_amount(charge->amount), "orderId",
                               charge->order_id ? charge->order_id : "", "orderName",
                               charge->order_name ? charge->order_name : "")
                   : NULL;
    }
    vendor_op_start(op, "POST", body, true);
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
    .charge_billing = toss_charge_billing,
};
