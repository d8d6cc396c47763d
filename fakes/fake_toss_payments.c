/* Card payments: key-in (paid at once, or left IN_PROGRESS with the fake's
 * __approved: false so that the confirm step can be tried), look-up, and the
 * confirm call a merchant makes after Toss's payment window, which checks
 * orderId and amount against the payment. */
#include "fake_stats.h"
#include "fake_toss.h"

#include <string.h>

void fake_toss_payments_get(http_exchange *ex, const http_route_params *params, void *context)
{
    /* Every look-up counts, found or not, as a vendor's quota does. */
    fake_stats_count(context, "lookups");
    json_t *payment = fake_toss_authorized_payment(context, ex, params);
    if (payment != NULL)
        fake_toss_respond_record(ex, 200, payment);
}

typedef struct fake_toss_key_in {
    fake_toss_order order;
    const char *card_number;
    int64_t installment_months;
    bool approved;
} fake_toss_key_in;

static void fake_toss_read_key_in(json_t *body, fake_toss_key_in *in, app_error *err)
{
    fake_toss_field_matches(body, "method", "card", err);
    fake_toss_read_order(body, FAKE_TOSS_OPTIONAL, &in->order, err);
    fake_toss_check_card_input(body, FAKE_TOSS_OPTIONAL, err);
    in->card_number = fake_toss_field_string(body, "cardNumber", FAKE_TOSS_REQUIRED, err);
    fake_toss_field_string(body, "cardPassword", FAKE_TOSS_OPTIONAL, err);
    in->installment_months = 0;
    fake_toss_field_integer(body, "cardInstallmentPlan", FAKE_TOSS_OPTIONAL, 0, 60, &in->installment_months, err);
    in->approved = true;
    fake_toss_field_boolean(body, "__approved", &in->approved, err);
}

static json_t *fake_toss_key_in_payment(fake_toss_state *state, json_t *body, app_error *err)
{
    fake_toss_key_in in;
    fake_toss_read_key_in(body, &in, err);
    if (err->status != 0)
        return NULL;
    return fake_toss_card_payment_new(state, &in.order, "NORMAL", in.card_number, in.installment_months, in.approved);
}

void fake_toss_payments_key_in(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    static const fake_toss_creation key_in = {fake_toss_key_in_payment, "paymentKey", "The payment could not be made.",
                                              false, "payments"};
    fake_toss_create(context, ex, fake_toss_state_of(context)->payments, &key_in);
}

/* Approves a payment left IN_PROGRESS; a payment already paid, waiting for
 * its deposit or cancelled is returned as it is, so that a merchant may
 * confirm every payment it is told about. Only an approval counts as a
 * confirm: the money is taken once. */
static int fake_toss_approve(fake_server *fs, json_t *payment)
{
    if (strcmp(fake_toss_record_string(payment, "status"), "IN_PROGRESS") != 0)
        return 0;
    char now[FAKE_TOSS_TIME_LEN];
    fake_toss_time_now(now);
    int failed = json_object_set_new(payment, "status", json_string("DONE"));
    failed |= json_object_set_new(payment, "approvedAt", json_string(now));
    if (failed)
        return -1;
    fake_stats_count(fs, "confirms");
    return 0;
}

void fake_toss_payments_approve(http_exchange *ex, const http_route_params *params, void *context)
{
    json_t *payment;
    json_t *body = fake_toss_payment_body(context, ex, params, &payment);
    if (body == NULL)
        return;
    app_error err = {0};
    const char *order_id = fake_toss_field_string(body, "orderId", FAKE_TOSS_REQUIRED, &err);
    int64_t amount = 0;
    fake_toss_field_integer(body, "amount", FAKE_TOSS_REQUIRED, 0, FAKE_TOSS_MAX_AMOUNT, &amount, &err);
    if (err.status != 0)
        fake_toss_respond_app_error(ex, &err);
    else if (strcmp(order_id, fake_toss_record_string(payment, "orderId")) != 0)
        fake_toss_respond_error(ex, 400, "NOT_MATCHES_ORDER_ID", "orderId differs from the payment's.");
    else if (amount != fake_toss_record_integer(payment, "totalAmount"))
        fake_toss_respond_error(ex, 400, "NOT_MATCHES_AMOUNT", "amount differs from the payment's totalAmount.");
    else if (fake_toss_approve(context, payment) != 0)
        fake_toss_respond_error(ex, 500, "FAILED_INTERNAL_SYSTEM_PROCESSING", "The payment could not be approved.");
    else
        fake_toss_respond_record(ex, 201, payment);
    json_decref(body);
}
