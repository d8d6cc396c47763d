/* The KG Inicis adapter (INIAPI). Every call is a form signed with the
 * store's INIAPI key (hashData); the store's key is the merchant id (mid),
 * its secret the INIAPI key and its extra the key's IV. Inicis has no
 * separate approval and no billing-key lookup (a reservation keeps the key
 * unverified, inicis_billing.c; its first charge proves it, and a key Inicis
 * does not know is then refused with 422 rather than 404). A refund first asks what the
 * payment is (its paymethod and what remains), then sends Refund or
 * PartialRefund, and answers the payment read back by inquiry. A refund
 * repeated after a lost answer is harmless at Inicis: a second Refund is
 * refused as already refunded, a second PartialRefund carries a confirmPrice
 * that no longer matches; both are settled from the inquiry. */
#include "inicis.h"

#include "crypto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What INIAPI's result codes mean for the caller (README: the fake's
 * codes): a malformed request, a wrong hash or mid are this server's fault. */
static int inicis_result_status(const char *code)
{
    if (strcmp(code, "01") == 0 || strcmp(code, "02") == 0 || strcmp(code, "03") == 0)
        return 502;
    if (strcmp(code, "04") == 0)
        return 404;
    return 422;
}

const vendor_dialect inicis_dialect = {
    .name = "KG Inicis (inicis)",
    .code = "inicis",
    .code_member = "resultCode",
    .result_member = "resultCode",
    .result_success = "00",
    .message_member = "resultMsg",
    .result_status = inicis_result_status,
};

typedef enum inicis_stage {
    INICIS_READ,           /* the inquiry answers the caller */
    INICIS_REFUND_LOOKUP,  /* the inquiry before a refund */
    INICIS_REFUND,         /* Refund or PartialRefund sent */
    INICIS_PARTIAL_VERIFY, /* the inquiry after a stale confirmPrice */
    INICIS_CHARGE,         /* Billing sent */
} inicis_stage;

typedef struct inicis_op {
    vendor_op base;
    inicis_stage stage;
    char *mid, *key, *iv; /* the store's; key and iv wiped when freed */
    char *inquiry_url;
    char *tid; /* the payment read back */
    /* a refund */
    char *refund_url;
    double amount;
    bool has_checksum; /* what remained before, from the guard */
    double checksum;
    bool partial;
    double confirm_price;
    char *reason;
    char *bank, *account, *holder;
    app_error refusal; /* a stale confirmPrice, answered unless the refund happened */
} inicis_op;

static bool inicis_prepare(vendor_op *base, const vendor_store *store)
{
    inicis_op *op = (inicis_op *)base;
    op->mid = strdup(store->key);
    op->key = strdup(store->secret);
    op->iv = strdup(store->extra ? store->extra : "");
    op->inquiry_url = vendor_url(store->base_url, "api", "v1", "inquiry", NULL);
    op->refund_url = vendor_url(store->base_url, "api", "v1", "refund", NULL);
    return op->mid && op->key && op->iv && op->inquiry_url && op->refund_url;
}

static void inicis_clear(vendor_op *base)
{
    inicis_op *op = (inicis_op *)base;
    free(op->mid);
    crypto_secret_free(op->key);
    crypto_secret_free(op->iv);
    free(op->inquiry_url);
    free(op->refund_url);
    free(op->tid);
    free(op->reason);
    free(op->bank);
    crypto_secret_free(op->account);
    free(op->holder);
}

/* Sends form (taken) to url; the operation's earlier body goes. */
static void inicis_send(inicis_op *op, const char *url, json_t *form, inicis_stage stage)
{
    vendor_op *base = &op->base;
    json_decref(base->body);
    base->body = form;
    base->form_body = true;
    base->method = "POST";
    op->stage = stage;
    free(base->url);
    base->url = form ? strdup(url) : NULL;
    if (!base->url) {
        app_error err;
        app_error_set(&err, 500, "out of memory calling %s", inicis_dialect.name);
        vendor_op_finish(base, NULL, &err);
        return;
    }
    vendor_op_call(base);
}

static const char *const inquiry_hashed[] = {"type", "paymethod", "timestamp", "clientIp", "mid", "tid", "moid", NULL};

/* The inquiry of op->tid. INIAPI wants a paymethod on every call; the
 * inquiry does not depend on it, so Card stands for any. */
static json_t *inicis_inquiry_form(const inicis_op *op)
{
    json_t *form = inicis_form_new(op->mid, "Inquiry", "Card");
    if (form && (!inicis_form_set(form, "tid", op->tid) || !inicis_form_sign(form, op->key, inquiry_hashed))) {
        json_decref(form);
        return NULL;
    }
    return form;
}

static void inicis_read_back(inicis_op *op, inicis_stage stage)
{
    inicis_send(op, op->inquiry_url, inicis_inquiry_form(op), stage);
}

static const char *const refund_hashed[] = {"type", "paymethod", "timestamp",     "clientIp",
                                            "mid",  "tid",       "refundAcctNum", NULL};
static const char *const partial_hashed[] = {"type", "paymethod", "timestamp",    "clientIp",      "mid",
                                             "tid",  "price",     "confirmPrice", "refundAcctNum", NULL};

/* A paid virtual account is refunded to the account the caller named. */
static bool inicis_refund_account(const inicis_op *op, json_t *form)
{
    if (!op->account)
        return true;
    char *encrypted = inicis_encrypt(op->key, op->iv, op->account);
    bool ok = encrypted && inicis_form_set(form, "refundAcctNum", encrypted) &&
              inicis_form_set(form, "refundBankCode", op->bank ? op->bank : "") &&
              inicis_form_set(form, "refundAcctName", op->holder ? op->holder : "");
    free(encrypted);
    return ok;
}

static json_t *inicis_refund_form(const inicis_op *op, const char *paymethod)
{
    json_t *form = inicis_form_new(op->mid, op->partial ? "PartialRefund" : "Refund", paymethod);
    bool ok = form && inicis_form_set(form, "tid", op->tid) && inicis_form_set(form, "msg", op->reason) &&
              inicis_refund_account(op, form);
    if (ok && op->partial)
        ok = inicis_form_set_price(form, "price", op->amount) &&
             inicis_form_set_price(form, "confirmPrice", op->confirm_price);
    if (!ok || !inicis_form_sign(form, op->key, op->partial ? partial_hashed : refund_hashed)) {
        json_decref(form);
        return NULL;
    }
    return form;
}

/* The payment as it stands decides the refund: Refund when the amount is
 * all that remains, else PartialRefund confirming what will remain. What
 * remained is the guard's when the caller knew it before a first attempt,
 * so that a repeat confirms the old amount and is refused. */
static void inicis_refund(inicis_op *op, json_t *payment)
{
    const char *paymethod = vendor_json_text(payment, "paymethod");
    double remains = 0;
    if (!paymethod || !inicis_amount(payment, "remains", &remains)) {
        app_error err;
        app_error_set(&err, 502, "%s sent a payment without paymethod or remains", inicis_dialect.name);
        vendor_op_finish(&op->base, NULL, &err);
        return;
    }
    double before = op->has_checksum ? op->checksum : remains;
    if (op->amount > before + 1e-6) {
        app_error err;
        app_error_set(&err, 422, "%s refused: %.0f is more than the %.0f that remains", inicis_dialect.name, op->amount,
                      before);
        vendor_op_finish(&op->base, NULL, &err);
        return;
    }
    op->partial = op->amount < before - 1e-6;
    op->confirm_price = op->partial ? before - op->amount : 0;
    inicis_send(op, op->refund_url, inicis_refund_form(op, paymethod), INICIS_REFUND);
}

/* After a stale confirmPrice: the refund happened when what remains is what
 * it confirmed; otherwise the refusal stands. */
static bool inicis_partial_settled(inicis_op *op, json_t *payment)
{
    double remains = 0;
    if (inicis_amount(payment, "remains", &remains) && fabs(remains - op->confirm_price) < 1e-6)
        return false;
    vendor_op_finish(&op->base, NULL, &op->refusal);
    return true;
}

static bool inicis_answered(vendor_op *base, json_t *doc, const app_error *err, long http_status)
{
    (void)http_status;
    inicis_op *op = (inicis_op *)base;
    const char *code = err && doc ? vendor_json_string(doc, "resultCode") : NULL;
    switch (op->stage) {
    case INICIS_REFUND_LOOKUP:
        if (err)
            return false;
        inicis_refund(op, doc);
        return true;
    case INICIS_REFUND:
        if (err && op->partial && code && strcmp(code, INICIS_STALE_CONFIRM_PRICE) == 0) {
            op->refusal = *err;
            inicis_read_back(op, INICIS_PARTIAL_VERIFY);
            return true;
        }
        if (err && !(!op->partial && code && strcmp(code, INICIS_ALREADY_REFUNDED) == 0))
            return false;
        inicis_read_back(op, INICIS_READ);
        return true;
    case INICIS_PARTIAL_VERIFY:
        return !err && inicis_partial_settled(op, doc);
    case INICIS_CHARGE:
        if (err && err->status == 404) {
            /* "No such billKey": the charge's refusal of the key the
             * reservation kept unverified, not a missing record. */
            app_error refused;
            app_error_set(&refused, 422, "%s refused (resultCode %s): %s", inicis_dialect.name, err->vendor.vendor_code,
                          err->vendor.message);
            refused.vendor = err->vendor;
            vendor_op_finish(base, NULL, &refused);
            return true;
        }
        if (err)
            return false;
        free(op->tid);
        op->tid = vendor_json_text(doc, "tid") ? strdup(vendor_json_text(doc, "tid")) : NULL;
        if (!op->tid) {
            app_error missing;
            app_error_set(&missing, 502, "%s charged without naming its tid", inicis_dialect.name);
            vendor_op_finish(base, NULL, &missing);
            return true;
        }
        inicis_read_back(op, INICIS_READ);
        return true;
    case INICIS_READ:
        break;
    }
    return false;
}

static const vendor_op_class inicis_op_class = {
    .dialect = &inicis_dialect,
    .size = sizeof(inicis_op),
    .needs_key = true,
    .credentials = "mid, INIAPI key, URL",
    .uid_name = "tid",
    .read_payment = inicis_payment_read,
    .prepare = inicis_prepare,
    .answered = inicis_answered,
    .clear = inicis_clear,
};

static inicis_op *inicis_op_new(vendor_context *ctx, const vendor_store *store, const char *uid,
                                vendor_payment_cb payment_cb, vendor_billing_cb billing_cb, void *data)
{
    vendor_op *base = vendor_op_new(&inicis_op_class, ctx, store, uid, (vendor_reply){payment_cb, billing_cb, data});
    inicis_op *op = (inicis_op *)base;
    if (op && !base->err.status && !(op->tid = strdup(uid)))
        app_error_set(&base->err, 500, "out of memory calling %s", inicis_dialect.name);
    return op;
}

/* Starts with the inquiry of op->tid, or answers the error already set. */
static void inicis_start_inquiry(inicis_op *op, inicis_stage stage)
{
    vendor_op *base = &op->base;
    json_t *form = NULL;
    if (!base->err.status) {
        op->stage = stage;
        base->url = strdup(op->inquiry_url);
        base->form_body = true;
        form = inicis_inquiry_form(op);
    }
    vendor_op_start(base, "POST", form, true);
}

/* ---- the adapter ---- */

static void inicis_fetch(vendor_context *ctx, const vendor_store *store, const char *uid, vendor_payment_cb cb,
                         void *data)
{
    inicis_op *op = inicis_op_new(ctx, store, uid, cb, NULL, data);
    if (op)
        inicis_start_inquiry(op, INICIS_READ);
}

/* Inicis approves in its payment window: nothing is left to confirm. */
static void inicis_approve(vendor_context *ctx, const vendor_store *store, const char *uid, const char *order_id,
                           double amount, const vendor_guard *guard, vendor_payment_cb cb, void *data)
{
    (void)order_id, (void)amount, (void)guard;
    inicis_fetch(ctx, store, uid, cb, data);
}

static bool inicis_keep_refund(inicis_op *op, double amount, const char *reason, const vendor_refund_account *account,
                               const vendor_guard *guard)
{
    op->amount = amount;
    op->has_checksum = guard && guard->has_checksum;
    op->checksum = op->has_checksum ? guard->checksum : 0;
    op->reason = strdup(reason && *reason ? reason : "refund");
    if (!op->reason)
        return false;
    if (!account)
        return true;
    op->bank = account->bank ? strdup(account->bank) : NULL;
    op->account = account->account ? strdup(account->account) : NULL;
    op->holder = account->holder ? strdup(account->holder) : NULL;
    return (!account->bank || op->bank) && (!account->account || op->account) && (!account->holder || op->holder);
}

static void inicis_cancel(vendor_context *ctx, const vendor_store *store, const char *uid, double amount,
                          const char *reason, const vendor_refund_account *account, const vendor_guard *guard,
                          vendor_payment_cb cb, void *data)
{
    inicis_op *op = inicis_op_new(ctx, store, uid, cb, NULL, data);
    if (!op)
        return;
    if (!op->base.err.status && !inicis_keep_refund(op, amount, reason, account, guard))
        app_error_set(&op->base.err, 500, "out of memory calling %s", inicis_dialect.name);
    inicis_start_inquiry(op, INICIS_REFUND_LOOKUP);
}

static const char *const billing_hashed[] = {"type", "paymethod", "timestamp", "clientIp", "mid",
                                             "moid", "price",     "billKey",   NULL};

/* moid is the caller's order id, which Inicis keeps per charge: a retry
 * with the same moid answers the first charge instead of a second one. */
static json_t *inicis_billing_form(const inicis_op *op, const vendor_charge *charge)
{
    const char *order = charge->order_id ? charge->order_id : "";
    json_t *form = inicis_form_new(op->mid, "Billing", "Card");
    bool ok =
        form && inicis_form_set(form, "moid", order) && inicis_form_set_price(form, "price", charge->amount) &&
        inicis_form_set(form, "billKey", charge->billing_uid) &&
        inicis_form_set(form, "goodName", charge->order_name && *charge->order_name ? charge->order_name : order) &&
        inicis_form_set(form, "buyerName",
                        charge->customer_key && *charge->customer_key ? charge->customer_key : order) &&
        inicis_form_sign(form, op->key, billing_hashed);
    if (!ok) {
        json_decref(form);
        return NULL;
    }
    return form;
}

static void inicis_charge_billing(vendor_context *ctx, const vendor_store *store, const vendor_charge *charge,
                                  const vendor_guard *guard, vendor_payment_cb cb, void *data)
{
    (void)guard;
    inicis_op *op = inicis_op_new(ctx, store, charge->billing_uid, cb, NULL, data);
    if (!op)
        return;
    vendor_op *base = &op->base;
    json_t *form = NULL;
    if (!base->err.status) {
        op->stage = INICIS_CHARGE;
        base->url = vendor_url(store->base_url, "api", "v1", "billing", NULL);
        base->form_body = true;
        form = inicis_billing_form(op, charge);
    }
    vendor_op_start(base, "POST", form, true);
}

const vendor_adapter inicis_adapter = {
    .code = "inicis",
    .webhook_name = "inicis",
    .settings =
        {
            .key_name = "PAYMENT_INICIS_MID",
            .secret_name = "PAYMENT_INICIS_KEY",
            .extra_name = "PAYMENT_INICIS_IV",
            .extra_member = "iv",
            .url_name = "PAYMENT_INICIS_URL",
            /* KG Inicis' published test merchant, which the fake serves */
            .local_key = "INIpayTest",
            .local_secret = "ItEQKi3rY7uvDS8l",
            .local_extra = "HYb3yQ4f65QL89==",
            .local_url = "http://127.0.0.1:40571",
            .remote_url = "https://iniapi.inicis.com",
        },
    .webhook_uid = inicis_webhook_uid,
    .webhook_form = true,
    .webhook_reply = "OK",
    .fetch = inicis_fetch,
    .approve = inicis_approve,
    .cancel = inicis_cancel,
    .fetch_billing = inicis_fetch_billing,
    .charge_billing = inicis_charge_billing,
};
