/* Card payments: key-in (paid at once, or left IN_PROGRESS with the fake's
 * __approved: false so that the confirm step can be tried), look-up, and the
 * confirm call a merchant makes after Toss's payment window, which checks
 * orderId and amount against the payment. */
#include "fake_toss.h"

#include <string.h>

void toss_payments_get(http_exchange *ex, const http_route_params *params, void *context)
{
    json_t *payment = toss_authorized_payment(context, ex, params);
    if (payment != NULL)
        toss_respond_record(ex, 200, payment);
}

typedef struct toss_key_in {
    toss_order order;
    const char *card_number;
    int64_t installment_months;
    bool approved;
} toss_key_in;

static void toss_read_key_in(json_t *body, toss_key_in *in, app_error *err)
{
    toss_field_matches(body, "method", "card", err);
    toss_read_order(body, TOSS_OPTIONAL, &in->order, err);
    toss_check_card_input(body, TOSS_OPTIONAL, err);
    in->card_number = toss_field_string(body, "cardNumber", TOSS_REQUIRED, err);
    toss_field_string(body, "cardPassword", TOSS_OPTIONAL, err);
    in->installment_months = 0;
    toss_field_integer(body, "cardInstallmentPlan", TOSS_OPTIONAL, 0, 60, &in->installment_months, err);
    in->approved = true;
    toss_field_boolean(body, "__approved", &in->approved, err);
}

static json_t *toss_key_in_payment(toss_state *state, json_t *body, app_error *err)
{
    toss_key_in in;
    toss_read_key_in(body, &in, err);
    if (err->status != 0)
        return NULL;
    return toss_card_payment_new(state, &in.order, "NORMAL", in.card_number, in.installment_months, in.approved);
}

void toss_payments_key_in(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    static const toss_creation key_in = {toss_key_in_payment, "paymentKey", "The payment could not be made.", false};
    toss_create(context, ex, toss_state_of(context)->payments, &key_in);
}

/* Approves a payment left IN_PROGRESS; a payment already paid, waiting for
 * its deposit or cancelled is returned as it is, so that a merchant may
 * confirm every payment it is told about. */
static int toss_approve(json_t *payment)
{
    if (strcmp(toss_record_string(payment, "status"), "IN_PROGRESS") != 0)
        return 0;
    char now[TOSS_TIME_LEN];
    toss_time_now(now);
    int failed = json_object_set_new(payment, "status", json_string("DONE"));
    failed |= json_object_set_new(payment, "approvedAt", json_string(now));
    return failed ? -1 : 0;
}

void toss_payments_approve(http_exchange *ex, const http_route_params *params, void *context)
{
    json_t *payment;
    json_t *body = toss_payment_body(context, ex, params, &payment);
    if (body == NULL)
        return;
    app_error err = {0};
    const char *order_id = toss_field_string(body, "orderId", TOSS_REQUIRED, &err);
    int64_t amount = 0;
    toss_field_integer(body, "amount", TOSS_REQUIRED, 0, TOSS_MAX_AMOUNT, &amount, &err);
    if (err.status != 0)
        toss_respond_app_error(ex, &err);
    else if (strcmp(order_id, toss_record_string(payment, "orderId")) != 0)
        toss_respond_error(ex, 400, "NOT_MATCHES_ORDER_ID", "orderId differs from the payment's.");
    else if (amount != toss_record_integer(payment, "totalAmount"))
        toss_respond_error(ex, 400, "NOT_MATCHES_AMOUNT", "amount differs from the payment's totalAmount.");
    else if (toss_approve(payment) != 0)
        toss_respond_error(ex, 500, "FAILED_INTERNAL_SYSTEM_PROCESSING", "The payment could not be approved.");
    else
        toss_respond_record(ex, 201, payment);
    json_decref(body);
}
