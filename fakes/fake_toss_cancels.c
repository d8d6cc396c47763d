/* Cancels, full or partial: each is recorded in the payment's cancels with
 * its amount and time, the balance shrinks until the payment is CANCELED,
 * and a paid virtual account is refunded only to a refund account given in
 * the request. A cancel sends the status webhook, as Toss does. */
#include "fake_stats.h"
#include "fake_toss.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct fake_toss_cancel_input {
    const char *reason;
    bool has_amount;
    int64_t amount;
    int64_t tax_free;
    bool has_tax_amount;
    int64_t tax_amount;
    json_t *refund_account; /* borrowed from the body, or NULL */
} fake_toss_cancel_input;

static void fake_toss_read_refund_account(json_t *body, fake_toss_cancel_input *in, app_error *err)
{
    in->refund_account = fake_toss_field_object(body, "refundReceiveAccount", FAKE_TOSS_OPTIONAL, err);
    if (in->refund_account == NULL)
        return;
    fake_toss_field_string(in->refund_account, "bank", FAKE_TOSS_REQUIRED, err);
    fake_toss_field_digits(in->refund_account, "accountNumber", FAKE_TOSS_REQUIRED, 1, 20, err);
    fake_toss_field_string(in->refund_account, "holderName", FAKE_TOSS_REQUIRED, err);
}

static void fake_toss_read_cancel(json_t *body, const char *payment_key, fake_toss_cancel_input *in, app_error *err)
{
    int64_t refundable = 0;
    fake_toss_field_matches(body, "paymentKey", payment_key, err);
    in->reason = fake_toss_field_string(body, "cancelReason", FAKE_TOSS_REQUIRED, err);
    in->has_amount =
        fake_toss_field_integer(body, "cancelAmount", FAKE_TOSS_OPTIONAL, 1, FAKE_TOSS_MAX_AMOUNT, &in->amount, err);
    in->tax_free = 0;
    fake_toss_field_integer(body, "taxFreeAmount", FAKE_TOSS_OPTIONAL, 0, FAKE_TOSS_MAX_AMOUNT, &in->tax_free, err);
    in->has_tax_amount =
        fake_toss_field_integer(body, "taxAmount", FAKE_TOSS_OPTIONAL, 0, FAKE_TOSS_MAX_AMOUNT, &in->tax_amount, err);
    fake_toss_field_integer(body, "refundableAmount", FAKE_TOSS_OPTIONAL, 0, FAKE_TOSS_MAX_AMOUNT, &refundable, err);
    fake_toss_read_refund_account(body, in, err);
}

typedef struct fake_toss_refusal {
    int status;
    const char *code;
    char message[200];
} fake_toss_refusal;

static bool fake_toss_refuse(fake_toss_refusal *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool fake_toss_refuse(fake_toss_refusal *r, int status, const char *code, const char *fmt, ...)
{
    r->status = status;
    r->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    return true;
}

/* True (with the reason in r) when Toss would refuse this cancel. */
static bool fake_toss_cancel_refused(const json_t *payment, const fake_toss_cancel_input *in, int64_t amount,
                                     fake_toss_refusal *r)
{
    const char *status = fake_toss_record_string(payment, "status");
    bool waiting = strcmp(status, "WAITING_FOR_DEPOSIT") == 0;
    bool paid = strcmp(status, "DONE") == 0 || strcmp(status, "PARTIAL_CANCELED") == 0;
    int64_t balance = fake_toss_record_integer(payment, "balanceAmount");
    if (strcmp(status, "CANCELED") == 0)
        return fake_toss_refuse(r, 400, "ALREADY_CANCELED_PAYMENT", "The payment is already cancelled.");
    if (!paid && !waiting)
        return fake_toss_refuse(r, 403, "NOT_CANCELABLE_PAYMENT", "Only an approved payment can be cancelled.");
    if (amount > balance)
        return fake_toss_refuse(r, 403, "NOT_CANCELABLE_AMOUNT", "cancelAmount %lld is more than the balance %lld.",
                                (long long)amount, (long long)balance);
    if (waiting && amount != balance)
        return fake_toss_refuse(r, 403, "NOT_CANCELABLE_AMOUNT",
                                "A virtual account waiting for its deposit is cancelled in full only.");
    if (paid && in->refund_account == NULL && strcmp(fake_toss_record_string(payment, "method"), "가상계좌") == 0)
        return fake_toss_refuse(r, 400, "INVALID_REFUND_ACCOUNT_INFO",
                                "A paid virtual account needs refundReceiveAccount {bank, accountNumber, holderName}.");
    if (in->tax_free > amount)
        return fake_toss_refuse(r, 400, "INVALID_REQUEST", "taxFreeAmount is more than cancelAmount.");
    return false;
}

static int fake_toss_append_cancel(json_t *payment, const fake_toss_cancel_input *in, int64_t amount, int64_t balance)
{
    char now[FAKE_TOSS_TIME_LEN];
    fake_toss_time_now(now);
    int64_t tax_amount = in->has_tax_amount ? in->tax_amount : amount - in->tax_free;
    json_t *cancel = json_pack("{s:I, s:s, s:I, s:I, s:I, s:s}", "cancelAmount", (json_int_t)amount, "cancelReason",
                               in->reason, "taxFreeAmount", (json_int_t)in->tax_free, "taxAmount",
                               (json_int_t)tax_amount, "refundableAmount", (json_int_t)balance, "canceledAt", now);
    json_t *cancels = json_object_get(payment, "cancels");
    if (!json_is_array(cancels)) {
        cancels = json_array();
        if (json_object_set_new(payment, "cancels", cancels) != 0)
            cancels = NULL;
    }
    return json_array_append_new(cancels, cancel);
}

/* The method's own block follows the cancel: a card's purchase is withdrawn
 * once nothing is left; a virtual account's refund is made at once. */
static int fake_toss_cancel_method_block(json_t *payment, bool was_paid, int64_t balance)
{
    json_t *card = json_object_get(payment, "card");
    if (json_is_object(card) && balance == 0)
        return json_object_set_new(card, "acquireStatus", json_string("CANCELED"));
    json_t *account = json_object_get(payment, "virtualAccount");
    if (json_is_object(account) && was_paid)
        return json_object_set_new(account, "refundStatus", json_string("COMPLETED"));
    return 0;
}

static int fake_toss_apply_cancel(json_t *payment, const fake_toss_cancel_input *in, int64_t amount)
{
    bool was_paid = strcmp(fake_toss_record_string(payment, "status"), "WAITING_FOR_DEPOSIT") != 0;
    int64_t balance = fake_toss_record_integer(payment, "balanceAmount") - amount;
    int64_t tax_free = fake_toss_record_integer(payment, "taxFreeAmount") - in->tax_free;
    int failed = fake_toss_append_cancel(payment, in, amount, balance);
    failed |= fake_toss_payment_set_balance(payment, balance, tax_free);
    failed |= json_object_set_new(payment, "status", json_string(balance == 0 ? "CANCELED" : "PARTIAL_CANCELED"));
    failed |= fake_toss_cancel_method_block(payment, was_paid, balance);
    return failed ? -1 : 0;
}

static void fake_toss_cancel(fake_server *fs, http_exchange *ex, json_t *payment, json_t *body)
{
    app_error err = {0};
    fake_toss_cancel_input in;
    fake_toss_read_cancel(body, fake_toss_record_string(payment, "paymentKey"), &in, &err);
    if (err.status != 0) {
        fake_toss_respond_app_error(ex, &err);
        return;
    }
    int64_t amount = in.has_amount ? in.amount : fake_toss_record_integer(payment, "balanceAmount");
    fake_toss_refusal refusal;
    if (fake_toss_cancel_refused(payment, &in, amount, &refusal)) {
        fake_toss_respond_error(ex, refusal.status, refusal.code, refusal.message);
        return;
    }
    if (fake_toss_apply_cancel(payment, &in, amount) != 0) {
        fake_toss_respond_error(ex, 500, "FAILED_INTERNAL_SYSTEM_PROCESSING", "The cancel could not be recorded.");
        return;
    }
    fake_stats_count(fs, "cancels");
    fake_toss_send_status_webhook(fs, payment);
    fake_toss_respond_record(ex, 201, payment);
}

void fake_toss_payments_cancel(http_exchange *ex, const http_route_params *params, void *context)
{
    json_t *payment;
    json_t *body = fake_toss_payment_body(context, ex, params, &payment);
    if (body == NULL)
        return;
    fake_toss_cancel(context, ex, payment, body);
    json_decref(body);
}
