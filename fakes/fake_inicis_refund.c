/* Refunds (POST /api/v1/refund): type=Refund gives back what remains of a
 * payment, type=PartialRefund a part of it, and only when confirmPrice is
 * what will remain afterwards: Inicis' guard against a partial refund sent
 * twice, since a repeat no longer names the remaining amount. A second
 * Refund of a refunded tid is refused ("05") and changes nothing. A paid
 * virtual account is refunded to a bank account the request names, its
 * number AES-encrypted. */
#include "fake_inicis.h"
#include "fake_stats.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Absent fields count as "" in the hash; the Vacct-only ones are absent for
 * cards. */
static const char *const refund_hashed[] = {"type", "paymethod", "timestamp",     "clientIp",
                                            "mid",  "tid",       "refundAcctNum", NULL};
static const char *const partial_hashed[] = {"type", "paymethod", "timestamp",    "clientIp",      "mid",
                                             "tid",  "price",     "confirmPrice", "refundAcctNum", NULL};

static bool refund_all_digits(const char *text)
{
    if (!*text)
        return false;
    for (; *text; text++)
        if (!isdigit((unsigned char)*text))
            return false;
    return true;
}

/* A paid virtual account is refunded to an account: bank code, holder and
 * the number, whose [ENC] text must decrypt to digits. */
static bool refund_account_valid(fake_server *fs, http_exchange *ex, const json_t *form)
{
    const char *encrypted = fake_inicis_field(form, "refundAcctNum");
    const char *bank = fake_inicis_field(form, "refundBankCode");
    const char *holder = fake_inicis_field(form, "refundAcctName");
    char *number = encrypted ? fake_inicis_decrypt_field(fs->settings.key, fs->settings.iv, encrypted) : NULL;
    bool valid = number && refund_all_digits(number) && strlen(number) <= 20 && bank && refund_all_digits(bank) &&
                 strlen(bank) == 2 && holder;
    free(number);
    if (!valid)
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_REFUND_ACCOUNT,
                                   "A paid virtual account needs refundBankCode (2 digits), refundAcctName and "
                                   "refundAcctNum (AES-encrypted digits).");
    return valid;
}

/* The payment of the form's tid when it can still be refunded, else NULL
 * after answering. */
static json_t *refund_target(fake_server *fs, http_exchange *ex, const json_t *form)
{
    const char *tid = fake_inicis_required(ex, form, "tid");
    json_t *payment = tid ? fake_inicis_find_payment(fs, tid) : NULL;
    if (tid && !payment)
        fake_inicis_respond_result(ex, FAKE_INICIS_NOT_FOUND, "No payment has this tid.");
    if (!payment)
        return NULL;
    if (strcmp(fake_inicis_record_string(payment, "status"), "refunded") == 0) {
        fake_stats_count(fs, "refund_repeats");
        fake_inicis_respond_result(ex, FAKE_INICIS_ALREADY_REFUNDED, "This payment is already refunded.");
        return NULL;
    }
    const char *paymethod = fake_inicis_field(form, "paymethod");
    if (strcmp(paymethod, fake_inicis_record_string(payment, "paymethod")) != 0) {
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_REQUEST, "paymethod differs from the payment's.");
        return NULL;
    }
    bool paid_account =
        strcmp(paymethod, "Vacct") == 0 && strcmp(fake_inicis_record_string(payment, "status"), "ready") != 0;
    if (paid_account && !refund_account_valid(fs, ex, form))
        return NULL;
    return payment;
}

/* Takes amount off the payment's remains and lists the refund with the
 * merchant's reason (msg), as the inquiry shows it; 0, or -1. */
static int refund_record(json_t *payment, int64_t amount, const char *refund_tid, const char *stamp, const json_t *form)
{
    const char *msg = fake_inicis_field(form, "msg");
    int64_t remains = fake_inicis_record_integer(payment, "remains") - amount;
    json_t *refunds = json_object_get(payment, "refunds");
    int failed =
        json_array_append_new(refunds, json_pack("{s:s, s:I, s:s, s:s}", "tid", refund_tid, "price", (json_int_t)amount,
                                                 "dateTime", stamp, "msg", msg ? msg : ""));
    failed |= json_object_set_new(payment, "remains", json_integer(remains));
    failed |= json_object_set_new(payment, "refundCount", json_integer((json_int_t)json_array_size(refunds)));
    failed |= json_object_set_new(payment, "status", json_string(remains == 0 ? "refunded" : "partial_refunded"));
    return failed ? -1 : 0;
}

static void refund_full(fake_server *fs, http_exchange *ex, json_t *form)
{
    json_t *payment = refund_target(fs, ex, form);
    if (!payment)
        return;
    char stamp[FAKE_INICIS_STAMP_LEN];
    fake_inicis_stamp_now(stamp);
    if (refund_record(payment, fake_inicis_record_integer(payment, "remains"),
                      fake_inicis_record_string(payment, "tid"), stamp, form) != 0) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    fake_stats_count(fs, "refunds");
    fake_inicis_respond_success(
        ex, json_pack("{s:s%, s:s, s:s}", "cancelDate", stamp, (size_t)8, "cancelTime", stamp + 8, "cshrCancelNum", ""),
        "Refunded.");
}

/* price and confirmPrice against what remains; false after answering. */
static bool partial_amounts(http_exchange *ex, const json_t *form, const json_t *payment, int64_t *price)
{
    int64_t confirm = 0;
    if (!fake_inicis_price(ex, form, "price", false, price) ||
        !fake_inicis_price(ex, form, "confirmPrice", true, &confirm))
        return false;
    int64_t remains = fake_inicis_record_integer(payment, "remains");
    char message[200];
    if (strcmp(fake_inicis_record_string(payment, "status"), "ready") == 0) {
        fake_inicis_respond_result(ex, FAKE_INICIS_NOT_REFUNDABLE,
                                   "An unpaid virtual account cannot be partly refunded.");
        return false;
    }
    if (*price > remains) {
        snprintf(message, sizeof message, "price %lld is more than the %lld that remains.", (long long)*price,
                 (long long)remains);
        fake_inicis_respond_result(ex, FAKE_INICIS_NOT_REFUNDABLE, message);
        return false;
    }
    if (confirm != remains - *price) {
        snprintf(message, sizeof message, "confirmPrice %lld is not the %lld that would remain.", (long long)confirm,
                 (long long)(remains - *price));
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_CONFIRM_PRICE, message);
        return false;
    }
    return true;
}

static void refund_partial(fake_server *fs, http_exchange *ex, json_t *form)
{
    /* The new tid first: making it sweeps the payments, which would end a
     * payment borrowed before. */
    char refund_tid[FAKE_INICIS_TID_LEN + 1];
    if (fake_inicis_new_tid(fs, "StdpayPCAN", refund_tid) != 0) {
        http_respond_error(ex, 500, "no transaction id could be drawn");
        return;
    }
    int64_t price = 0;
    json_t *payment = refund_target(fs, ex, form);
    if (!payment || !partial_amounts(ex, form, payment, &price))
        return;
    char stamp[FAKE_INICIS_STAMP_LEN];
    fake_inicis_stamp_now(stamp);
    if (refund_record(payment, price, refund_tid, stamp, form) != 0) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    fake_stats_count(fs, "partial_refunds");
    fake_inicis_respond_success(ex,
                                json_pack("{s:s, s:s, s:I, s:I, s:I, s:s%, s:s}", "tid", refund_tid, "prtcTid",
                                          fake_inicis_record_string(payment, "tid"), "prtcPrice", (json_int_t)price,
                                          "prtcRemains", (json_int_t)fake_inicis_record_integer(payment, "remains"),
                                          "prtcCnt", (json_int_t)fake_inicis_record_integer(payment, "refundCount"),
                                          "prtcDate", stamp, (size_t)8, "prtcTime", stamp + 8),
                                "Partly refunded.");
}

static const fake_inicis_operation refund_operations[] = {
    {"Refund", refund_hashed, refund_full},
    {"PartialRefund", partial_hashed, refund_partial},
};

void fake_inicis_refund(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_inicis_serve(context, ex, refund_operations, sizeof refund_operations / sizeof refund_operations[0]);
}
