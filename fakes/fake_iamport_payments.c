/* Payments: the record every payment method shares, keeping and announcing a
 * new one, reading it back, and cancelling it in full or in parts, guarded by
 * the caller's checksum. Each cancel is kept in cancel_history; the payment
 * turns "cancelled" at once, as the original fake does, or with --strict only
 * once refunds reach its amount, as iamport does. */
#include "fake_iamport.h"
#include "fake_stats.h"

#include <math.h>
#include <string.h>

#define AMOUNT_EPSILON 1e-6

static const char no_payment[] = "no payment has this imp_uid";

/* iamport notifies a payment's own notice_url, when the request gave one,
 * instead of the account's webhook URL. Only http(s) URLs are kept. */
static int payment_keep_notice_url(fake_iamport_state *st, const char *imp_uid, json_t *order)
{
    const char *url = json_string_value(json_object_get(order, "notice_url"));
    if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return 0;
    json_t *copy = json_string(url);
    return copy ? fake_store_put(st->notice_urls, imp_uid, copy) : -1;
}

json_t *fake_iamport_payment_new(fake_iamport_state *st, const char *pay_method, json_t *order, const char *currency)
{
    const char *merchant_uid = json_string_value(json_object_get(order, "merchant_uid"));
    double amount = json_number_value(json_object_get(order, "amount"));
    char imp_uid[17], pg_tid[25], receipt_url[96];
    if (fake_iamport_new_imp_uid(st, imp_uid) != 0 || fake_iamport_random_hex(pg_tid, 24) != 0)
        return NULL;
    snprintf(receipt_url, sizeof receipt_url, "https://fake-iamport.invalid/receipts/%s", imp_uid);
    json_t *payment =
        json_pack("{s:s, s:s, s:s, s:n, s:o, s:i, s:s, s:s, s:b, s:s, s:s, s:n, s:s, s:s, s:b,"
                  " s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:s,"
                  " s:s, s:I, s:i, s:i, s:i, s:n, s:n, s:[]}",
                  "pay_method", pay_method, "imp_uid", imp_uid, "merchant_uid", merchant_uid, "name", "amount",
                  fake_iamport_amount_json(amount), "cancel_amount", 0, "currency", currency, "receipt_url",
                  receipt_url, "cash_receipt_issue", 0, "channel", "api", "pg_provider", "fake", "emb_pg_provider",
                  "pg_id", "fake-iamport", "pg_tid", pg_tid, "escrow", 0, "buyer_name", "buyer_email", "buyer_tel",
                  "buyer_addr", "buyer_postcode", "customer_uid", "customer_uid_usage", "custom_data", "user_agent",
                  "fake-iamport-server", "status", "ready", "started_at", (json_int_t)fake_iamport_now(), "paid_at", 0,
                  "failed_at", 0, "cancelled_at", 0, "fail_reason", "cancel_reason", "cancel_history");
    if (payment && payment_keep_notice_url(st, imp_uid, order) != 0) {
        json_decref(payment);
        return NULL;
    }
    return payment;
}

json_t *fake_iamport_payment_get(fake_iamport_state *st, const char *imp_uid, app_error *err)
{
    return fake_iamport_lookup(st->payments, imp_uid, no_payment, err);
}

/* Keeps the payment under its imp_uid and merchant_uid; takes no reference. */
static int payment_store(fake_iamport_state *st, json_t *payment)
{
    const char *imp_uid = json_string_value(json_object_get(payment, "imp_uid"));
    const char *merchant_uid = json_string_value(json_object_get(payment, "merchant_uid"));
    if (!imp_uid || !merchant_uid || fake_store_put(st->payments, imp_uid, json_incref(payment)) != 0)
        return -1;
    json_t *link = json_string(imp_uid);
    if (!link || fake_store_put(st->merchant_index, merchant_uid, link) != 0) {
        fake_store_remove(st->payments, imp_uid);
        return -1;
    }
    return 0;
}

json_t *fake_iamport_payment_publish(fake_server *fs, json_t *payment, const char *failure, app_error *err)
{
    if (!payment || payment_store(fs->vendor, payment) != 0) {
        json_decref(payment);
        app_error_set(err, 500, "%s", failure);
        return NULL;
    }
    fake_stats_count(fs, "payments");
    fake_iamport_send_webhook(fs, payment);
    return payment;
}

int fake_iamport_payment_mark_paid(json_t *payment)
{
    return fake_iamport_update(payment,
                               json_pack("{s:s, s:I}", "status", "paid", "paid_at", (json_int_t)fake_iamport_now()));
}

int fake_iamport_payment_mark_failed(json_t *payment, const char *reason)
{
    return fake_iamport_update(payment, json_pack("{s:s, s:I, s:s}", "status", "failed", "failed_at",
                                                  (json_int_t)fake_iamport_now(), "fail_reason", reason));
}

void fake_iamport_payment_at(http_exchange *ex, const http_route_params *params, void *context)
{
    /* Every look-up counts, found or not: a test measures the calls a
     * server makes, which is what a vendor's quota counts. */
    fake_stats_count(context, "lookups");
    fake_iamport_state *st = fake_iamport_authorize(ex, context);
    if (!st)
        return;
    /* extension=true is how PayPal payments are asked for; it changes nothing here. */
    const char *query = http_exchange_request(ex)->query;
    const char *extension = query ? strstr(query, "extension=") : NULL;
    if (extension && (extension == query || extension[-1] == '&')) {
        const char *value = extension + strlen("extension=");
        size_t len = strcspn(value, "&");
        if (!(len == 4 && strncmp(value, "true", 4) == 0) && !(len == 5 && strncmp(value, "false", 5) == 0)) {
            fake_iamport_fail(ex, 400, "extension must be true or false");
            return;
        }
    }
    fake_iamport_reply_found(ex, st->payments, http_route_param(params, "imp_uid"), no_payment);
}

/* GET /payments/find/:merchant_uid: the latest payment of an order, as
 * iamport answers it; how a client that lost an answer finds its payment. */
void fake_iamport_payment_find(http_exchange *ex, const http_route_params *params, void *context)
{
    fake_stats_count(context, "lookups");
    fake_iamport_state *st = fake_iamport_authorize(ex, context);
    if (!st)
        return;
    json_t *link = fake_store_get(st->merchant_index, http_route_param(params, "merchant_uid"));
    const char *imp_uid = link ? json_string_value(link) : NULL;
    fake_iamport_reply_found(ex, st->payments, imp_uid ? imp_uid : "", "no payment has this merchant_uid");
}

/* The payment a cancel names: by imp_uid, else by merchant_uid. */
static json_t *cancel_target(fake_iamport_state *st, json_t *body, app_error *err)
{
    const char *imp_uid, *merchant_uid;
    if (!fake_iamport_input_string(body, "imp_uid", false, &imp_uid, err) ||
        !fake_iamport_input_string(body, "merchant_uid", false, &merchant_uid, err))
        return NULL;
    if ((!imp_uid || !*imp_uid) && merchant_uid && *merchant_uid) {
        json_t *link = fake_store_get(st->merchant_index, merchant_uid);
        imp_uid = link ? json_string_value(link) : NULL;
        if (!imp_uid) {
            app_error_set(err, 404, "no payment has this merchant_uid");
            return NULL;
        }
    }
    if (!imp_uid || !*imp_uid) {
        app_error_set(err, 400, "imp_uid or merchant_uid is required");
        return NULL;
    }
    json_t *payment = fake_iamport_payment_get(st, imp_uid, err);
    if (!payment)
        return NULL;
    const char *own = json_string_value(json_object_get(payment, "merchant_uid"));
    if (merchant_uid && *merchant_uid && own && strcmp(own, merchant_uid) != 0) {
        app_error_set(err, 400, "merchant_uid does not belong to this imp_uid");
        return NULL;
    }
    return payment;
}

/* IIamportPaymentCancel.ICreate, checked before any record is looked at. */
typedef struct cancel_request {
    const char *reason;
    double amount, checksum, tax_free;
    bool has_amount, has_checksum, has_refund_account;
} cancel_request;

static bool cancel_input(json_t *body, cancel_request *in, app_error *err)
{
    const char *holder, *bank, *account, *tel;
    if (!fake_iamport_input_string(body, "reason", true, &in->reason, err) ||
        !fake_iamport_input_amount(body, "amount", false, &in->amount, &in->has_amount, err) ||
        !fake_iamport_input_number(body, "checksum", false, &in->checksum, &in->has_checksum, err) ||
        !fake_iamport_input_number(body, "tax_free", false, &in->tax_free, NULL, err) ||
        !fake_iamport_input_string(body, "refund_holder", false, &holder, err) ||
        !fake_iamport_input_string(body, "refund_bank", false, &bank, err) ||
        !fake_iamport_input_string(body, "refund_account", false, &account, err) ||
        !fake_iamport_input_string(body, "refund_tel", false, &tel, err))
        return false;
    if (in->has_checksum && in->checksum < 0) {
        app_error_set(err, 400, "checksum must be the cancellable amount, 0 or more");
        return false;
    }
    if (in->tax_free < 0 || (in->has_amount && in->tax_free > in->amount)) {
        app_error_set(err, 400, "tax_free must be from 0 to the cancel amount");
        return false;
    }
    in->has_refund_account = holder && *holder && bank && *bank && account && *account;
    return true;
}

static double cancel_remaining(json_t *payment)
{
    return json_number_value(json_object_get(payment, "amount")) -
           json_number_value(json_object_get(payment, "cancel_amount"));
}

/* Whether the payment can be cancelled at all, whatever the request says. */
static bool cancel_allowed(json_t *payment, bool strict, app_error *err)
{
    const char *status = json_string_value(json_object_get(payment, "status"));
    /* Without --strict "cancelled" follows any cancel: only the amount says
     * whether anything is left to refund. */
    if ((strict && strcmp(status, "cancelled") == 0) || cancel_remaining(payment) <= AMOUNT_EPSILON) {
        app_error_set(err, 422, "the payment is already fully cancelled");
        return false;
    }
    if (strcmp(status, "failed") == 0) {
        app_error_set(err, 422, "a failed payment cannot be cancelled");
        return false;
    }
    return true;
}

/* iamport documents checksum as the amount still cancellable before this
 * cancel, as the caller has it recorded: when iamport's own differs, the
 * cancel is not made; null (or absent) skips the check. A repeated partial
 * cancel carrying the checksum of the first is refused here, since the first
 * lowered what is left. */
static bool cancel_checksum_matches(json_t *payment, const cancel_request *in, app_error *err)
{
    double remaining = cancel_remaining(payment);
    if (!in->has_checksum || fabs(in->checksum - remaining) <= AMOUNT_EPSILON)
        return true;
    app_error_set(err, 400, "checksum %.15g does not match the cancellable amount %.15g", in->checksum, remaining);
    return false;
}

/* How much this cancel refunds, after the vendor's rules on amounts. */
static bool cancel_amount_for(json_t *payment, const cancel_request *in, double *refund, app_error *err)
{
    const char *status = json_string_value(json_object_get(payment, "status"));
    const char *method = json_string_value(json_object_get(payment, "pay_method"));
    double remaining = cancel_remaining(payment);
    if (in->has_amount && in->amount > remaining + AMOUNT_EPSILON) {
        app_error_set(err, 400, "the cancel amount %.15g is over the cancellable amount %.15g", in->amount, remaining);
        return false;
    }
    if (in->tax_free > remaining + AMOUNT_EPSILON) {
        app_error_set(err, 400, "tax_free must be from 0 to the cancel amount");
        return false;
    }
    bool vbank = strcmp(method, "vbank") == 0;
    if (vbank && strcmp(status, "paid") == 0 && !in->has_refund_account) {
        app_error_set(err, 400,
                      "cancelling a paid virtual account needs refund_holder, refund_bank and refund_account");
        return false;
    }
    if (vbank && strcmp(status, "ready") == 0 && in->has_amount && fabs(in->amount - remaining) > AMOUNT_EPSILON) {
        app_error_set(err, 400, "a virtual account not yet paid can only be cancelled in full");
        return false;
    }
    *refund = in->has_amount ? in->amount : remaining;
    return true;
}

/* The original fake marks every cancel "cancelled"; iamport itself (and
 * --strict) only the one that refunds the rest. */
static int cancel_record(json_t *payment, double refund, const char *reason, bool strict)
{
    double cancelled = json_number_value(json_object_get(payment, "cancel_amount")) + refund;
    double total = json_number_value(json_object_get(payment, "amount"));
    json_int_t now = (json_int_t)fake_iamport_now();
    json_t *entry =
        json_pack("{s:O, s:O, s:o, s:I, s:s, s:O}", "pg_id", json_object_get(payment, "pg_id"), "pg_tid",
                  json_object_get(payment, "pg_tid"), "amount", fake_iamport_amount_json(refund), "cancelled_at", now,
                  "reason", reason, "receipt_url", json_object_get(payment, "receipt_url"));
    if (!entry || json_array_append_new(json_object_get(payment, "cancel_history"), entry) != 0)
        return -1;
    if (total - cancelled <= AMOUNT_EPSILON)
        cancelled = total;
    const char *status =
        !strict || cancelled >= total ? "cancelled" : json_string_value(json_object_get(payment, "status"));
    return fake_iamport_update(payment,
                               json_pack("{s:o, s:s, s:I, s:s}", "cancel_amount", fake_iamport_amount_json(cancelled),
                                         "cancel_reason", reason, "cancelled_at", now, "status", status));
}

static json_t *payment_cancel(fake_server *fs, json_t *body, const http_route_params *params, app_error *err)
{
    (void)params;
    cancel_request in = {0};
    double refund = 0;
    json_t *payment = NULL;
    if (!cancel_input(body, &in, err) || !(payment = cancel_target(fs->vendor, body, err)) ||
        !cancel_allowed(payment, fs->settings.strict, err))
        return NULL;
    if (!cancel_checksum_matches(payment, &in, err)) {
        fake_stats_count(fs, "checksum_refusals");
        return NULL;
    }
    if (!cancel_amount_for(payment, &in, &refund, err))
        return NULL;
    double refunded_before = json_number_value(json_object_get(payment, "cancel_amount"));
    if (cancel_record(payment, refund, in.reason, fs->settings.strict) != 0) {
        app_error_set(err, 500, "cannot record the cancel");
        return NULL;
    }
    fake_stats_count(fs, "cancels");
    /* Strict, the webhook tells of the cancel that ends the payment. */
    bool last = json_number_value(json_object_get(payment, "amount")) - refunded_before - refund <= AMOUNT_EPSILON;
    if (!fs->settings.strict || last)
        fake_iamport_send_webhook(fs, payment);
    return json_incref(payment);
}

void fake_iamport_payment_cancel(http_exchange *ex, const http_route_params *params, void *context)
{
    static const fake_iamport_call cancel = {NULL, payment_cancel, 201};
    fake_iamport_call_answer(ex, params, context, &cancel);
}
