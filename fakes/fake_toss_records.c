/* The Toss records themselves: random identifiers, times written the way Toss
 * writes them (Korean time with its offset), the fields every payment
 * carries, and the webhook a status change sends. */
#include "fake_random.h"
#include "fake_toss.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define FAKE_TOSS_KOREA_OFFSET_SECONDS (9 * 3600)

static struct tm fake_toss_korea_time(time_t at)
{
    time_t shifted = at + FAKE_TOSS_KOREA_OFFSET_SECONDS;
    struct tm parts;
    if (gmtime_r(&shifted, &parts) == NULL)
        memset(&parts, 0, sizeof parts);
    return parts;
}

void fake_toss_time_now(char out[FAKE_TOSS_TIME_LEN])
{
    struct tm parts = fake_toss_korea_time(time(NULL));
    if (strftime(out, FAKE_TOSS_TIME_LEN, "%Y-%m-%dT%H:%M:%S+09:00", &parts) == 0)
        snprintf(out, FAKE_TOSS_TIME_LEN, "1970-01-01T09:00:00+09:00");
}

void fake_toss_date_after_days(int days, char out[FAKE_TOSS_DATE_LEN])
{
    struct tm parts = fake_toss_korea_time(time(NULL) + (time_t)days * 86400);
    if (strftime(out, FAKE_TOSS_DATE_LEN, "%Y-%m-%d", &parts) == 0)
        snprintf(out, FAKE_TOSS_DATE_LEN, "1970-01-01");
}

int fake_toss_unique_key(fake_store *store, char out[FAKE_TOSS_KEY_LEN + 1])
{
    for (int attempt = 0; attempt < 8; attempt++) {
        if (fake_random_text(out, FAKE_TOSS_KEY_LEN) != 0)
            return -1;
        if (fake_store_get(store, out) == NULL)
            return 0;
    }
    return -1;
}

int fake_toss_payment_set_balance(json_t *payment, int64_t balance, int64_t tax_free)
{
    if (tax_free > balance)
        tax_free = balance;
    if (tax_free < 0)
        tax_free = 0;
    int64_t taxable = balance - tax_free;
    int64_t vat = (taxable + 5) / 11;
    int failed = json_object_set_new(payment, "balanceAmount", json_integer(balance));
    failed |= json_object_set_new(payment, "taxFreeAmount", json_integer(tax_free));
    failed |= json_object_set_new(payment, "vat", json_integer(vat));
    failed |= json_object_set_new(payment, "suppliedAmount", json_integer(taxable - vat));
    return failed ? -1 : 0;
}

json_t *fake_toss_payment_new(fake_toss_state *state, const fake_toss_order *order, const char *method,
                              const char *type, char payment_key[FAKE_TOSS_KEY_LEN + 1])
{
    char transaction_key[FAKE_TOSS_KEY_LEN + 1];
    char requested_at[FAKE_TOSS_TIME_LEN];
    if (fake_toss_unique_key(state->payments, payment_key) != 0 ||
        fake_random_text(transaction_key, FAKE_TOSS_KEY_LEN) != 0)
        return NULL;
    fake_toss_time_now(requested_at);
    json_t *payment =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:b, s:s, s:n, s:n, s:n}", "mId",
                  "tosspayments", "version", "2022-11-16", "method", method, "type", type, "status", "READY",
                  "paymentKey", payment_key, "orderId", order->order_id, "transactionKey", transaction_key, "orderName",
                  order->order_name, "currency", "KRW", "totalAmount", (json_int_t)order->amount, "useEscrow", 0,
                  "cultureExpense", 0, "requestedAt", requested_at, "approvedAt", "cancels", "cashReceipt");
    if (payment == NULL)
        return NULL;
    if (fake_toss_payment_set_balance(payment, order->amount, order->tax_free_amount) != 0) {
        json_decref(payment);
        return NULL;
    }
    return payment;
}

/* Card issuers by the first digit of the number, so that cards differ. */
const char *fake_toss_card_company(const char *card_number)
{
    switch (card_number[0]) {
    case '3':
        return "삼성";
    case '5':
        return "현대";
    case '6':
        return "롯데";
    case '9':
        return "국민";
    default:
        return "신한";
    }
}

static json_t *fake_toss_card_new(const json_t *payment, const char *card_number, int64_t installment_months)
{
    char approve_no[9];
    char receipt_url[160];
    if (fake_random_digits(approve_no, 8) != 0)
        return NULL;
    snprintf(receipt_url, sizeof receipt_url,
             "https://dashboard.tosspayments.com/receipt/redirection?transactionId=%s&ref=PX",
             fake_toss_record_string(payment, "transactionKey"));
    return json_pack("{s:s, s:s, s:I, s:b, s:s, s:b, s:s, s:s, s:s, s:s}", "company",
                     fake_toss_card_company(card_number), "number", card_number, "installmentPlanMonths",
                     (json_int_t)installment_months, "isInterestFree", installment_months > 0, "approveNo", approve_no,
                     "useCardPoint", 0, "cardType", "신용", "ownerType", "개인", "acquireStatus", "READY", "receiptUrl",
                     receipt_url);
}

json_t *fake_toss_card_payment_new(fake_toss_state *state, const fake_toss_order *order, const char *type,
                                   const char *card_number, int64_t installment_months, bool approved)
{
    char payment_key[FAKE_TOSS_KEY_LEN + 1];
    char now[FAKE_TOSS_TIME_LEN];
    json_t *payment = fake_toss_payment_new(state, order, "카드", type, payment_key);
    if (payment == NULL)
        return NULL;
    fake_toss_time_now(now);
    json_t *card = fake_toss_card_new(payment, card_number, installment_months);
    int failed = card == NULL;
    failed |= json_object_set_new(payment, "card", card);
    failed |= json_object_set_new(payment, "discount", json_null());
    failed |= json_object_set_new(payment, "easyPay", json_null());
    failed |= json_object_set_new(payment, "status", json_string(approved ? "DONE" : "IN_PROGRESS"));
    failed |= json_object_set_new(payment, "approvedAt", approved ? json_string(now) : json_null());
    if (failed) {
        json_decref(payment);
        return NULL;
    }
    return payment;
}

int64_t fake_toss_record_integer(const json_t *record, const char *name)
{
    return json_integer_value(json_object_get(record, name));
}

const char *fake_toss_record_string(const json_t *record, const char *name)
{
    const char *value = json_string_value(json_object_get(record, name));
    return value != NULL ? value : "";
}

void fake_toss_send_status_webhook(fake_server *fs, const json_t *payment)
{
    json_t *doc =
        json_pack("{s:s, s:{s:s, s:s, s:s}}", "eventType", "PAYMENT_STATUS_CHANGED", "data", "paymentKey",
                  fake_toss_record_string(payment, "paymentKey"), "orderId",
                  fake_toss_record_string(payment, "orderId"), "status", fake_toss_record_string(payment, "status"));
    if (doc == NULL) {
        log_error("fake-toss: webhook document could not be built");
        return;
    }
    fake_server_send_webhook(fs, doc);
}
