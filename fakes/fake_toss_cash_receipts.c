/* Cash receipts: issued for a paid payment (one at a time), shown in the
 * payment's cashReceipt, and cancelled in full or in part. The store keeps
 * {receipt, paymentKey, amount}: the document and what is left to cancel. */
#include "fake_toss.h"

#include <string.h>

typedef struct toss_receipt_input {
    const char *type;
    const char *payment_key;
    const char *order_id;
    const char *order_name;
    int64_t amount;
    int64_t tax_free_amount;
} toss_receipt_input;

static void toss_read_receipt(json_t *body, toss_receipt_input *in, app_error *err)
{
    in->type = toss_field_string(body, "type", TOSS_REQUIRED, err);
    if (in->type != NULL && strcmp(in->type, "소득공제") != 0 && strcmp(in->type, "지출증빙") != 0)
        app_error_set(err, 400, "type must be 소득공제 or 지출증빙.");
    in->payment_key = toss_field_string(body, "paymentKey", TOSS_REQUIRED, err);
    in->order_id = toss_field_string(body, "orderId", TOSS_REQUIRED, err);
    in->order_name = toss_field_string(body, "orderName", TOSS_REQUIRED, err);
    toss_field_string(body, "registrationNumber", TOSS_REQUIRED, err);
    toss_field_string(body, "businessNumber", TOSS_OPTIONAL, err);
    in->amount = 0;
    toss_field_integer(body, "amount", TOSS_REQUIRED, 1, TOSS_MAX_AMOUNT, &in->amount, err);
    in->tax_free_amount = 0;
    toss_field_integer(body, "taxFreeAmount", TOSS_OPTIONAL, 0, in->amount, &in->tax_free_amount, err);
}

/* Answers and returns false when the payment cannot take this receipt. */
static bool toss_receipt_allowed(http_exchange *ex, const json_t *payment, const toss_receipt_input *in)
{
    const char *status = toss_record_string(payment, "status");
    if (strcmp(in->order_id, toss_record_string(payment, "orderId")) != 0)
        toss_respond_error(ex, 400, "NOT_MATCHES_ORDER_ID", "orderId differs from the payment's.");
    else if (strcmp(status, "DONE") != 0 && strcmp(status, "PARTIAL_CANCELED") != 0)
        toss_respond_error(ex, 400, "NOT_ISSUABLE_CASH_RECEIPT", "The payment is not paid.");
    else if (!json_is_null(json_object_get(payment, "cashReceipt")))
        toss_respond_error(ex, 400, "ALREADY_ISSUED_CASH_RECEIPT", "The payment already has a cash receipt.");
    else if (in->amount > toss_record_integer(payment, "balanceAmount"))
        toss_respond_error(ex, 400, "INVALID_REQUEST", "amount is more than the payment's balance.");
    else
        return true;
    return false;
}

static json_t *toss_receipt_new(toss_state *state, const toss_receipt_input *in)
{
    char receipt_key[TOSS_KEY_LEN + 1];
    char approval_number[10];
    char now[TOSS_TIME_LEN];
    char url[160];
    if (toss_unique_key(state->receipts, receipt_key) != 0 || toss_random_digits(approval_number, 9) != 0)
        return NULL;
    toss_time_now(now);
    snprintf(url, sizeof url, "https://dashboard.tosspayments.com/receipt/cash-receipt?receiptKey=%s", receipt_key);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:s}", "receiptKey", receipt_key, "type", in->type,
                     "orderId", in->order_id, "orderName", in->order_name, "approvalNumber", approval_number,
                     "approvedAt", now, "canceledAt", "receiptUrl", url);
}

static int toss_attach_receipt(json_t *payment, const json_t *receipt, const toss_receipt_input *in)
{
    json_t *summary = json_pack("{s:s, s:I, s:I, s:s, s:s}", "type", in->type, "amount", (json_int_t)in->amount,
                                "taxFreeAmount", (json_int_t)in->tax_free_amount, "issueNumber",
                                toss_record_string(receipt, "approvalNumber"), "receiptUrl",
                                toss_record_string(receipt, "receiptUrl"));
    return json_object_set_new(payment, "cashReceipt", summary);
}

static void toss_issue_receipt(fake_server *fs, http_exchange *ex, json_t *payment, const toss_receipt_input *in)
{
    toss_state *state = toss_state_of(fs);
    json_t *receipt = toss_receipt_new(state, in);
    json_t *record = receipt != NULL ? json_pack("{s:O, s:s, s:I}", "receipt", receipt, "paymentKey", in->payment_key,
                                                 "amount", (json_int_t)in->amount)
                                     : NULL;
    if (record == NULL || toss_attach_receipt(payment, receipt, in) != 0)
        toss_respond_error(ex, 500, "FAILED_INTERNAL_SYSTEM_PROCESSING", "The cash receipt could not be issued.");
    else if (toss_store_record(ex, state->receipts, toss_record_string(receipt, "receiptKey"), record) == 0)
        fake_respond_json(ex, 201, json_incref(receipt));
    json_decref(record);
    json_decref(receipt);
}

void toss_cash_receipts_issue(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_server *fs = context;
    json_t *body = toss_authorized_body(fs, ex);
    if (body == NULL)
        return;
    app_error err = {0};
    toss_receipt_input in;
    toss_read_receipt(body, &in, &err);
    json_t *payment = NULL;
    if (err.status != 0)
        toss_respond_app_error(ex, &err);
    else
        payment = toss_find_payment(fs, ex, in.payment_key);
    if (payment != NULL && toss_receipt_allowed(ex, payment, &in))
        toss_issue_receipt(fs, ex, payment, &in);
    json_decref(body);
}

/* The payment shows what is left of its receipt, or none once it is gone. */
static int toss_update_payment_receipt(fake_server *fs, const json_t *record, int64_t remaining)
{
    json_t *payment = fake_store_get(toss_state_of(fs)->payments, toss_record_string(record, "paymentKey"));
    json_t *summary = json_object_get(payment, "cashReceipt");
    const json_t *receipt = json_object_get(record, "receipt");
    if (!json_is_object(summary) ||
        strcmp(toss_record_string(summary, "issueNumber"), toss_record_string(receipt, "approvalNumber")) != 0)
        return 0;
    if (remaining == 0)
        return json_object_set_new(payment, "cashReceipt", json_null());
    return json_object_set_new(summary, "amount", json_integer(remaining));
}

static void toss_cancel_receipt(fake_server *fs, http_exchange *ex, json_t *record, json_t *body)
{
    json_t *receipt = json_object_get(record, "receipt");
    int64_t remaining = toss_record_integer(record, "amount");
    int64_t amount = remaining;
    app_error err = {0};
    toss_field_integer(body, "amount", TOSS_OPTIONAL, 1, TOSS_MAX_AMOUNT, &amount, &err);
    if (err.status != 0) {
        toss_respond_app_error(ex, &err);
        return;
    }
    if (!json_is_null(json_object_get(receipt, "canceledAt"))) {
        toss_respond_error(ex, 400, "ALREADY_CANCELED_CASH_RECEIPT", "The cash receipt is already cancelled.");
        return;
    }
    if (amount > remaining) {
        toss_respond_error(ex, 403, "NOT_CANCELABLE_AMOUNT", "amount is more than what is left of the receipt.");
        return;
    }
    char now[TOSS_TIME_LEN];
    toss_time_now(now);
    remaining -= amount;
    int failed = json_object_set_new(record, "amount", json_integer(remaining));
    if (remaining == 0)
        failed |= json_object_set_new(receipt, "canceledAt", json_string(now));
    failed |= toss_update_payment_receipt(fs, record, remaining);
    if (failed)
        toss_respond_error(ex, 500, "FAILED_INTERNAL_SYSTEM_PROCESSING", "The cancel could not be recorded.");
    else
        toss_respond_record(ex, 201, receipt);
}

void toss_cash_receipts_cancel(http_exchange *ex, const http_route_params *params, void *context)
{
    fake_server *fs = context;
    if (!toss_authorized(fs, ex))
        return;
    json_t *record = toss_find_record(ex, toss_state_of(fs)->receipts, http_route_param(params, "receiptKey"),
                                      "NOT_FOUND_CASH_RECEIPT", "No cash receipt has this receiptKey.");
    if (record == NULL)
        return;
    json_t *body = toss_read_body(ex, true);
    if (body == NULL)
        return;
    toss_cancel_receipt(fs, ex, record, body);
    json_decref(body);
}
