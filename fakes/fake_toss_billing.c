/* Billing keys: a customer's card registered once (issue), read back by the
 * merchant with the customer's key, and charged again without the card
 * (pay), which makes a card payment of type BILLING, paid at once. */
#include "fake_toss.h"

#include <string.h>

static const char *toss_read_billing_card(json_t *body, app_error *err)
{
    toss_field_string(body, "customerKey", TOSS_REQUIRED, err);
    toss_check_card_input(body, TOSS_REQUIRED, err);
    toss_field_string(body, "cardPassword", TOSS_REQUIRED, err);
    toss_field_string(body, "consumerName", TOSS_OPTIONAL, err);
    return toss_field_string(body, "cardNumber", TOSS_REQUIRED, err);
}

static json_t *toss_billing_new(toss_state *state, json_t *body, const char *card_number)
{
    char billing_key[TOSS_KEY_LEN + 1];
    char now[TOSS_TIME_LEN];
    if (toss_unique_key(state->billings, billing_key) != 0)
        return NULL;
    toss_time_now(now);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "mId", "tosspayments", "billingKey", billing_key,
                     "customerKey", json_string_value(json_object_get(body, "customerKey")), "method", "카드",
                     "cardCompany", toss_card_company(card_number), "cardNumber", card_number, "authenticatedAt", now);
}

static json_t *toss_billing_build(toss_state *state, json_t *body, app_error *err)
{
    const char *card_number = toss_read_billing_card(body, err);
    return err->status == 0 ? toss_billing_new(state, body, card_number) : NULL;
}

void toss_billing_issue(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    static const toss_creation issue = {toss_billing_build, "billingKey", "The billing key could not be issued.",
                                        false};
    toss_create(context, ex, toss_state_of(context)->billings, &issue);
}

/* The billing key of the path, when the body names its customer; NULL after
 * answering otherwise. The body stays the caller's. */
static json_t *toss_find_billing(fake_server *fs, http_exchange *ex, const char *billing_key, json_t *body)
{
    json_t *billing = toss_find_record(ex, toss_state_of(fs)->billings, billing_key, "NOT_FOUND_BILLING",
                                       "No billing key has this billingKey.");
    if (billing == NULL)
        return NULL;
    app_error err = {0};
    const char *customer_key = toss_field_string(body, "customerKey", TOSS_REQUIRED, &err);
    if (err.status != 0) {
        toss_respond_app_error(ex, &err);
        return NULL;
    }
    if (strcmp(customer_key, toss_record_string(billing, "customerKey")) != 0) {
        toss_respond_error(ex, 403, "NOT_MATCHES_CUSTOMER_KEY", "customerKey differs from the billing key's customer.");
        return NULL;
    }
    return billing;
}

/* The Basic auth, the body, then the billing key of the path when the body
 * names its customer: the body, or NULL after answering. */
static json_t *toss_billing_request(fake_server *fs, http_exchange *ex, const http_route_params *params,
                                    json_t **billing)
{
    json_t *body = toss_authorized_body(fs, ex);
    *billing = body != NULL ? toss_find_billing(fs, ex, http_route_param(params, "billingKey"), body) : NULL;
    if (*billing != NULL)
        return body;
    json_decref(body);
    return NULL;
}

void toss_billing_get(http_exchange *ex, const http_route_params *params, void *context)
{
    json_t *billing;
    json_t *body = toss_billing_request(context, ex, params, &billing);
    if (body == NULL)
        return;
    toss_respond_record(ex, 201, billing);
    json_decref(body);
}

static void toss_charge(fake_server *fs, http_exchange *ex, const json_t *billing, json_t *body)
{
    app_error err = {0};
    toss_order order;
    toss_field_matches(body, "method", "billing", &err);
    toss_field_matches(body, "billingKey", toss_record_string(billing, "billingKey"), &err);
    toss_read_order(body, TOSS_OPTIONAL, &order, &err);
    if (err.status != 0) {
        toss_respond_app_error(ex, &err);
        return;
    }
    toss_state *state = toss_state_of(fs);
    const char *card_number = toss_record_string(billing, "cardNumber");
    json_t *payment = toss_card_payment_new(state, &order, "BILLING", card_number, 0, true);
    if (toss_store_new(ex, state->payments, "paymentKey", payment, "The payment could not be made.") == 0)
        fake_respond_json(ex, 201, json_incref(payment));
    json_decref(payment);
}

void toss_billing_pay(http_exchange *ex, const http_route_params *params, void *context)
{
    json_t *billing;
    json_t *body = toss_billing_request(context, ex, params, &billing);
    if (body == NULL)
        return;
    toss_charge(context, ex, billing, body);
    json_decref(body);
}
