/* Virtual accounts: issued WAITING_FOR_DEPOSIT, paid by the fake's internal
 * deposit call (the customer's transfer), each change announced by the
 * status webhook. Also the internal webhook listener that swallows webhooks
 * when a test points the fake at itself. */
#include "fake_toss.h"

#include <string.h>

#define TOSS_DEPOSIT_DAYS 7

static json_t *toss_virtual_account_new(const char *bank, const char *customer_name)
{
    char account_number[15];
    char due_date[TOSS_DATE_LEN];
    if (toss_random_digits(account_number, 14) != 0)
        return NULL;
    toss_date_after_days(TOSS_DEPOSIT_DAYS, due_date);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "accountNumber", account_number,
                     "accountType", "일반", "bank", bank, "customerName", customer_name, "dueDate", due_date,
                     "expired", 0, "settlementStatus", "INCOMPLETED", "refundStatus", "NONE");
}

typedef struct toss_virtual_account_input {
    toss_order order;
    const char *bank;
    const char *customer_name;
} toss_virtual_account_input;

static void toss_read_virtual_account(json_t *body, toss_virtual_account_input *in, app_error *err)
{
    bool approved = true;
    toss_field_matches(body, "method", "virtual-account", err);
    toss_read_order(body, TOSS_REQUIRED, &in->order, err);
    in->bank = toss_field_string(body, "bank", TOSS_REQUIRED, err);
    in->customer_name = toss_field_string(body, "customerName", TOSS_REQUIRED, err);
    /* Read for its type only: a virtual account always waits for its deposit. */
    toss_field_boolean(body, "__approved", &approved, err);
}

static json_t *toss_virtual_account_payment_new(toss_state *state, const toss_virtual_account_input *in)
{
    char payment_key[TOSS_KEY_LEN + 1];
    char secret[TOSS_KEY_LEN + 1];
    if (toss_random_text(secret, TOSS_KEY_LEN) != 0)
        return NULL;
    json_t *payment = toss_payment_new(state, &in->order, "가상계좌", "NORMAL", payment_key);
    if (payment == NULL)
        return NULL;
    json_t *account = toss_virtual_account_new(in->bank, in->customer_name);
    int failed = json_object_set_new(payment, "virtualAccount", account);
    failed |= json_object_set_new(payment, "secret", json_string(secret));
    failed |= json_object_set_new(payment, "status", json_string("WAITING_FOR_DEPOSIT"));
    if (failed) {
        json_decref(payment);
        return NULL;
    }
    return payment;
}

static json_t *toss_virtual_account_build(toss_state *state, json_t *body, app_error *err)
{
    toss_virtual_account_input in;
    toss_read_virtual_account(body, &in, err);
    return err->status == 0 ? toss_virtual_account_payment_new(state, &in) : NULL;
}

void toss_virtual_accounts_create(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    static const toss_creation issue = {toss_virtual_account_build, "paymentKey",
                                        "The virtual account could not be issued.", true};
    toss_create(context, ex, toss_state_of(context)->payments, &issue);
}

static int toss_mark_deposited(json_t *payment)
{
    char now[TOSS_TIME_LEN];
    toss_time_now(now);
    json_t *account = json_object_get(payment, "virtualAccount");
    int failed = json_object_set_new(payment, "status", json_string("DONE"));
    failed |= json_object_set_new(payment, "approvedAt", json_string(now));
    failed |= json_object_set_new(account, "settlementStatus", json_string("COMPLETED"));
    return failed ? -1 : 0;
}

void toss_internal_deposit(http_exchange *ex, const http_route_params *params, void *context)
{
    fake_server *fs = context;
    json_t *payment = toss_authorized_payment(fs, ex, params);
    if (payment == NULL)
        return;
    if (strcmp(toss_record_string(payment, "method"), "가상계좌") != 0) {
        toss_respond_error(ex, 400, "INVALID_REQUEST", "The payment is not a virtual-account payment.");
        return;
    }
    if (strcmp(toss_record_string(payment, "status"), "WAITING_FOR_DEPOSIT") != 0) {
        toss_respond_error(ex, 400, "ALREADY_PROCESSED_PAYMENT", "The virtual account is not waiting for a deposit.");
        return;
    }
    if (toss_mark_deposited(payment) != 0) {
        toss_respond_error(ex, 500, "FAILED_INTERNAL_SYSTEM_PROCESSING", "The deposit could not be recorded.");
        return;
    }
    toss_send_status_webhook(fs, payment);
    toss_respond_record(ex, 200, payment);
}

void toss_internal_webhook(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    (void)context;
    json_t *body = toss_read_body(ex, false);
    if (body == NULL)
        return;
    app_error err = {0};
    toss_field_matches(body, "eventType", "PAYMENT_STATUS_CHANGED", &err);
    json_t *data = toss_field_object(body, "data", TOSS_REQUIRED, &err);
    toss_field_string(body, "eventType", TOSS_REQUIRED, &err);
    toss_field_string(data, "paymentKey", TOSS_REQUIRED, &err);
    toss_field_string(data, "orderId", TOSS_REQUIRED, &err);
    toss_field_string(data, "status", TOSS_REQUIRED, &err);
    if (err.status != 0)
        toss_respond_app_error(ex, &err);
    else
        http_respond(ex, 201, NULL, "", 0);
    json_decref(body);
}
