/* Cash receipts: issued for a paid payment (one at a time), shown in the
 * payment's cashReceipt, and cancelled in full or in part. The store keeps
 * {receipt, paymentKey, amount}: the document and what is left to cancel. */
#include "fake_stats.h"
#include "fake_random.h"
#include "fake_toss.h"

#include <string.h>

typedef struct fake_toss_receipt_input {
    const char *type;
    const char *payment_key;
    const char *order_id;
    const char *order_name;
    int64_t amount;
    int64_t tax_free_amount;
} fake_toss_receipt_input;

static void fake_toss_read_receipt(json_t *body, fake_toss_receipt_input *in, app_error *err)
{
    in->type = fake_toss_field_string(body, "type", FAKE_TOSS_REQUIRED, err);
    if (in->type != NULL && strcmp(in->type, "소득공제") != 0 && strcmp(in->type, "지출증빙") != 0)
        app_error_set(err, 400, "type must be 소득공제 or 지출증빙.");
    in->payment_key = fake_toss_field_string(body, "paymentKey", FAKE_TOSS_REQUIRED, err);
    in->order_id = fake_toss_field_string(body, "orderId", FAKE_TOSS_REQUIRED, err);
    in->order_name = fake_toss_field_string(body, "orderName", FAKE_TOSS_REQUIRED, err);
    fake_toss_field_string(body, "registrationNumber", FAKE_TOSS_REQUIRED, err);
    fake_toss_field_string(body, "businessNumber", FAKE_TOSS_OPTIONAL, err);
    in->amount = 0;
    fake_toss_field_integer(body, "amount", FAKE_TOSS_REQUIRED, 1, FAKE_TOSS_MAX_AMOUNT, &in->amount, err);
    in->tax_free_amount = 0;
    fake_toss_field_integer(body, "taxFreeAmount", FAKE_TOSS_OPTIONAL, 0, in->amount, &in->tax_free_amount, err);
}

/* Answers and returns false when the payment cannot take this receipt. */
static bool fake_toss_receipt_allowed(http_exchange *ex, const json_t *payment, const fake_toss_receipt_input *in)
{
    const char *status = fake_toss_record_string(payment, "status");
    if (strcmp(in->order_id, fake_toss_record_string(payment, "orderId")) != 0)
        fake_toss_respond_error(ex, 400, "NOT_MATCHES_ORDER_ID", "orderId differs from the payment's.");
    else if (strcmp(status, "DONE") != 0 && strcmp(status, "PARTIAL_CANCELED") != 0)
        fake_toss_respond_error(ex, 400, "NOT_ISSUABLE_CASH_RECEIPT", "The payment is not paid.");
    else if (!json_is_null(json_object_get(payment, "cashReceipt")))
        fake_toss_respond_error(ex, 400, "ALREADY_ISSUED_CASH_RECEIPT", "The payment already has a cash receipt.");
    else if (in->amount > fake_toss_record_integer(payment, "balanceAmount"))
        fake_toss_respond_error(ex, 400, "INVALID_REQUEST", "amount is more than the payment's balance.");
    else
        return true;
    return false;
}

static json_t *fake_toss_receipt_new(fake_toss_state *state, const fake_toss_receipt_input *in)
{
    char receipt_key[FAKE_TOSS_KEY_LEN + 1];
    char approval_number[10];
    char now[FAKE_TOSS_TIME_LEN];
    char url[160];
    if (fake_toss_unique_key(state->receipts, receipt_key) != 0 || fake_random_digits(approval_number, 9) != 0)
        return NULL;
    fake_toss_time_now(now);
    snprintf(url, sizeof url, "https://dashboard.tosspayments.com/receipt/cash-receipt?receiptKey=%s", receipt_key);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:s}", "receiptKey", receipt_key, "type", in->type, "orderId",
                     in->order_id, "orderName", in->order_name, "approvalNumber", approval_number, "approvedAt", now,
                     "canceledAt", "receiptUrl", url);
}

static int fake_toss_attach_receipt(json_t *payment, const json_t *receipt, const fake_toss_receipt_input *in)
{
    json_t *summary =
        json_pack("{s:s, s:I, s:I, s:s, s:s}", "type", in->type, "amount", (json_int_t)in->amount, "taxFreeAmount",
                  (json_int_t)in->tax_free_amount, "issueNumber", fake_toss_record_string(receipt, "approvalNumber"),
                  "receiptUrl", fake_toss_record_string(receipt, "receiptUrl"));
    return json_object_set_new(payment, "cashReceipt", summary);
}

static void fake_toss_issue_receipt(fake_server *fs, http_exchange *ex, json_t *payment,
                                    const fake_toss_receipt_input *in)
{
    fake_toss_state *state = fake_toss_state_of(fs);
    json_t *receipt = fake_toss_receipt_new(state, in);
    json_t *record = receipt != NULL ? json_pack("{s:O, s:s, s:I}", "receipt", receipt, "paymentKey", in->payment_key,
                                                 "amount", (json_int_t)in->amount)
                                     : NULL;
    if (record == NULL || fake_toss_attach_receipt(payment, receipt, in) != 0)
        fake_toss_respond_error(ex, 500, "FAILED_INTERNAL_SYSTEM_PROCESSING", "The cash receipt could not be issued.");
    else if (fake_toss_store_record(ex, state->receipts, fake_toss_record_string(receipt, "receiptKey"), record) == 0) {
        fake_stats_count(fs, "cash_receipts");
        fake_respond_json(ex, 201, json_incref(receipt));
    }
    json_decref(record);
    json_decref(receipt);
}

void fake_toss_cash_receipts_issue(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_server *fs = context;
    json_t *body = fake_toss_authorized_body(fs, ex);
    if (body == NULL)
        return;
    app_error err = {0};
    fake_toss_receipt_input in;
    fake_toss_read_receipt(body, &in, &err);
    json_t *payment = NULL;
    if (err.status != 0)
        fake_toss_respond_app_error(ex, &err);
    else
        payment = fake_toss_find_payment(fs, ex, in.payment_key);
    if (payment != NULL && fake_toss_receipt_allowed(ex, payment, &in))
        fake_toss_issue_receipt(fs, ex, payment, &in);
    json_decref(body);
}

/* The payment shows what is left of its receipt, or none once it is gone. */
static int fake_toss_update_payment_receipt(fake_server *fs, const json_t *record, int64_t remaining)
{
    json_t *payment = fake_store_get(fake_toss_state_of(fs)->payments, fake_toss_record_string(record, "paymentKey"));
    json_t *summary = json_object_get(payment, "cashReceipt");
    const json_t *receipt = json_object_get(record, "receipt");
    if (!json_is_object(summary) || strcmp(fake_toss_record_string(summary, "issueNumber"),
                                           fake_toss_record_string(receipt, "approvalNumber")) != 0)
        return 0;
    if (remaining == 0)
        return json_object_set_new(payment, "cashReceipt", json_null());
    return json_object_set_new(summary, "amount", json_integer(remaining));
}

static void fake_toss_cancel_receipt(fake_server *fs, http_exchange *ex, json_t *record, json_t *body)
{
    json_t *receipt = json_object_get(record, "receipt");
    int64_t remaining = fake_toss_record_integer(record, "amount");
    int64_t amount = remaining;
    app_error err = {0};
    fake_toss_field_integer(body, "amount", FAKE_TOSS_OPTIONAL, 1, FAKE_TOSS_MAX_AMOUNT, &amount, &err);
    if (err.status != 0) {
        fake_toss_respond_app_error(ex, &err);
        return;
    }
    if (!json_is_null(json_object_get(receipt, "canceledAt"))) {
        fake_toss_respond_error(ex, 400, "ALREADY_CANCELED_CASH_RECEIPT", "The cash receipt is already cancelled.");
        return;
    }
    if (amount > remaining) {
        fake_toss_respond_error(ex, 403, "NOT_CANCELABLE_AMOUNT", "amount is more than what is left of the receipt.");
        return;
    }
    char now[FAKE_TOSS_TIME_LEN];
    fake_toss_time_now(now);
    remaining -= amount;
    int failed = json_object_set_new(record, "amount", json_integer(remaining));
    if (remaining == 0)
        failed |= json_object_set_new(receipt, "canceledAt", json_string(now));
    failed |= fake_toss_update_payment_receipt(fs, record, remaining);
    if (failed) {
        fake_toss_respond_error(ex, 500, "FAILED_INTERNAL_SYSTEM_PROCESSING", "The cancel could not be recorded.");
        return;
    }
    fake_stats_count(fs, "cash_receipt_cancels");
    fake_toss_respond_record(ex, 201, receipt);
}

void fake_toss_cash_receipts_cancel(http_exchange *ex, const http_route_params *params, void *context)
{
    fake_server *fs = context;
    if (!fake_toss_authorized(fs, ex))
        return;
    json_t *record = fake_toss_find_record(ex, fake_toss_state_of(fs)->receipts, http_route_param(params, "receiptKey"),
                                           "NOT_FOUND_CASH_RECEIPT", "No cash receipt has this receiptKey.");
    if (record == NULL)
        return;
    json_t *body = fake_toss_read_body(ex, true);
    if (body == NULL)
        return;
    fake_toss_cancel_receipt(fs, ex, record, body);
    json_decref(body);
}
