/* Virtual accounts: issued WAITING_FOR_DEPOSIT, paid by the fake's internal
 * deposit call (the customer's transfer), each change announced by the
 * status webhook. Also the internal webhook listener that swallows webhooks
 * when a test points the fake at itself. */
#include "fake_stats.h"
#include "fake_random.h"
#include "fake_toss.h"

#include <string.h>

#define FAKE_TOSS_DEPOSIT_DAYS 7

static json_t *fake_toss_virtual_account_new(const char *bank, const char *customer_name)
{
    char account_number[15];
    char due_date[FAKE_TOSS_DATE_LEN];
    if (fake_random_digits(account_number, 14) != 0)
        return NULL;
    fake_toss_date_after_days(FAKE_TOSS_DEPOSIT_DAYS, due_date);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "accountNumber", account_number, "accountType", "일반",
                     "bank", bank, "customerName", customer_name, "dueDate", due_date, "expired", 0, "settlementStatus",
                     "INCOMPLETED", "refundStatus", "NONE");
}

typedef struct fake_toss_virtual_account_input {
    fake_toss_order order;
    const char *bank;
    const char *customer_name;
} fake_toss_virtual_account_input;

static void fake_toss_read_virtual_account(json_t *body, fake_toss_virtual_account_input *in, app_error *err)
{
    bool approved = true;
    fake_toss_field_matches(body, "method", "virtual-account", err);
    fake_toss_read_order(body, FAKE_TOSS_REQUIRED, &in->order, err);
    in->bank = fake_toss_field_string(body, "bank", FAKE_TOSS_REQUIRED, err);
    in->customer_name = fake_toss_field_string(body, "customerName", FAKE_TOSS_REQUIRED, err);
    /* Read for its type only: a virtual account always waits for its deposit. */
    fake_toss_field_boolean(body, "__approved", &approved, err);
}

static json_t *fake_toss_virtual_account_payment_new(fake_toss_state *state, const fake_toss_virtual_account_input *in)
{
    char payment_key[FAKE_TOSS_KEY_LEN + 1];
    char secret[FAKE_TOSS_KEY_LEN + 1];
    if (fake_random_text(secret, FAKE_TOSS_KEY_LEN) != 0)
        return NULL;
    json_t *payment = fake_toss_payment_new(state, &in->order, "가상계좌", "NORMAL", payment_key);
    if (payment == NULL)
        return NULL;
    json_t *account = fake_toss_virtual_account_new(in->bank, in->customer_name);
    int failed = json_object_set_new(payment, "virtualAccount", account);
    failed |= json_object_set_new(payment, "secret", json_string(secret));
    failed |= json_object_set_new(payment, "status", json_string("WAITING_FOR_DEPOSIT"));
    if (failed) {
        json_decref(payment);
        return NULL;
    }
    return payment;
}

static json_t *fake_toss_virtual_account_build(fake_toss_state *state, json_t *body, app_error *err)
{
    fake_toss_virtual_account_input in;
    fake_toss_read_virtual_account(body, &in, err);
    return err->status == 0 ? fake_toss_virtual_account_payment_new(state, &in) : NULL;
}

void fake_toss_virtual_accounts_create(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    static const fake_toss_creation issue = {fake_toss_virtual_account_build, "paymentKey",
                                             "The virtual account could not be issued.", true, "payments"};
    fake_toss_create(context, ex, fake_toss_state_of(context)->payments, &issue);
}

static int fake_toss_mark_deposited(json_t *payment)
{
    char now[FAKE_TOSS_TIME_LEN];
    fake_toss_time_now(now);
    json_t *account = json_object_get(payment, "virtualAccount");
    int failed = json_object_set_new(payment, "status", json_string("DONE"));
    failed |= json_object_set_new(payment, "approvedAt", json_string(now));
    failed |= json_object_set_new(account, "settlementStatus", json_string("COMPLETED"));
    return failed ? -1 : 0;
}

void fake_toss_internal_deposit(http_exchange *ex, const http_route_params *params, void *context)
{
    fake_server *fs = context;
    json_t *payment = fake_toss_authorized_payment(fs, ex, params);
    if (payment == NULL)
        return;
    if (strcmp(fake_toss_record_string(payment, "method"), "가상계좌") != 0) {
        fake_toss_respond_error(ex, 400, "INVALID_REQUEST", "The payment is not a virtual-account payment.");
        return;
    }
    if (strcmp(fake_toss_record_string(payment, "status"), "WAITING_FOR_DEPOSIT") != 0) {
        fake_toss_respond_error(ex, 400, "ALREADY_PROCESSED_PAYMENT",
                                "The virtual account is not waiting for a deposit.");
        return;
    }
    if (fake_toss_mark_deposited(payment) != 0) {
        fake_toss_respond_error(ex, 500, "FAILED_INTERNAL_SYSTEM_PROCESSING", "The deposit could not be recorded.");
        return;
    }
    fake_stats_count(fs, "deposits");
    fake_toss_send_status_webhook(fs, payment);
    fake_toss_respond_record(ex, 200, payment);
}

void fake_toss_internal_webhook(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    (void)context;
    json_t *body = fake_toss_read_body(ex, false);
    if (body == NULL)
        return;
    app_error err = {0};
    fake_toss_field_matches(body, "eventType", "PAYMENT_STATUS_CHANGED", &err);
    json_t *data = fake_toss_field_object(body, "data", FAKE_TOSS_REQUIRED, &err);
    fake_toss_field_string(body, "eventType", FAKE_TOSS_REQUIRED, &err);
    fake_toss_field_string(data, "paymentKey", FAKE_TOSS_REQUIRED, &err);
    fake_toss_field_string(data, "orderId", FAKE_TOSS_REQUIRED, &err);
    fake_toss_field_string(data, "status", FAKE_TOSS_REQUIRED, &err);
    if (err.status != 0)
        fake_toss_respond_app_error(ex, &err);
    else
        fake_respond(ex, 201, NULL, "", 0);
    json_decref(body);
}
