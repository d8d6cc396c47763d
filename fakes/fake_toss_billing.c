/* Billing keys: a customer's card registered once (issue), read back by the
 * merchant with the customer's key, and charged again without the card
 * (pay), which makes a card payment of type BILLING, paid at once, unless
 * the billing rules decline it: then an error answer as for a card its
 * company refused, and no payment, as Toss keeps none for it. */
#include "fake_stats.h"
#include "fake_toss.h"

#include <string.h>

static const char *fake_toss_read_billing_card(json_t *body, app_error *err)
{
    fake_toss_field_string(body, "customerKey", FAKE_TOSS_REQUIRED, err);
    fake_toss_check_card_input(body, FAKE_TOSS_REQUIRED, err);
    fake_toss_field_string(body, "cardPassword", FAKE_TOSS_REQUIRED, err);
    fake_toss_field_string(body, "consumerName", FAKE_TOSS_OPTIONAL, err);
    return fake_toss_field_string(body, "cardNumber", FAKE_TOSS_REQUIRED, err);
}

static json_t *fake_toss_billing_new(fake_toss_state *state, json_t *body, const char *card_number)
{
    char billing_key[FAKE_TOSS_KEY_LEN + 1];
    char now[FAKE_TOSS_TIME_LEN];
    if (fake_toss_unique_key(state->billings, billing_key) != 0)
        return NULL;
    fake_toss_time_now(now);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "mId", "tosspayments", "billingKey", billing_key,
                     "customerKey", json_string_value(json_object_get(body, "customerKey")), "method", "카드",
                     "cardCompany", fake_toss_card_company(card_number), "cardNumber", card_number, "authenticatedAt",
                     now);
}

static json_t *fake_toss_billing_build(fake_toss_state *state, json_t *body, app_error *err)
{
    const char *card_number = fake_toss_read_billing_card(body, err);
    return err->status == 0 ? fake_toss_billing_new(state, body, card_number) : NULL;
}

void fake_toss_billing_issue(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    static const fake_toss_creation issue = {fake_toss_billing_build, "billingKey",
                                             "The billing key could not be issued.", false, "billing_keys"};
    fake_toss_create(context, ex, fake_toss_state_of(context)->billings, &issue);
}

/* The billing key of the path, when the body names a customer (its own,
 * when match_customer); NULL after answering otherwise. The body stays the
 * caller's. */
static json_t *fake_toss_find_billing(fake_server *fs, http_exchange *ex, const char *billing_key, json_t *body,
                                      bool match_customer)
{
    json_t *billing = fake_toss_find_record(ex, fake_toss_state_of(fs)->billings, billing_key, "NOT_FOUND_BILLING",
                                            "No billing key has this billingKey.");
    if (billing == NULL)
        return NULL;
    app_error err = {0};
    const char *customer_key = fake_toss_field_string(body, "customerKey", FAKE_TOSS_REQUIRED, &err);
    if (err.status != 0) {
        fake_toss_respond_app_error(ex, &err);
        return NULL;
    }
    if (match_customer && strcmp(customer_key, fake_toss_record_string(billing, "customerKey")) != 0) {
        fake_toss_respond_error(ex, 403, "NOT_MATCHES_CUSTOMER_KEY",
                                "customerKey differs from the billing key's customer.");
        return NULL;
    }
    return billing;
}

/* The Basic auth, the body, then the billing key of the path when the body
 * names a customer (its own, when match_customer): the body, or NULL after
 * answering. */
static json_t *fake_toss_billing_request(fake_server *fs, http_exchange *ex, const http_route_params *params,
                                         bool match_customer, json_t **billing)
{
    json_t *body = fake_toss_authorized_body(fs, ex);
    *billing = body != NULL
                   ? fake_toss_find_billing(fs, ex, http_route_param(params, "billingKey"), body, match_customer)
                   : NULL;
    if (*billing != NULL)
        return body;
    json_decref(body);
    return NULL;
}

void fake_toss_billing_get(http_exchange *ex, const http_route_params *params, void *context)
{
    json_t *billing;
    json_t *body = fake_toss_billing_request(context, ex, params, true, &billing);
    if (body == NULL)
        return;
    fake_toss_respond_record(ex, 201, billing);
    json_decref(body);
}

static void fake_toss_charge(fake_server *fs, http_exchange *ex, const json_t *billing, json_t *body)
{
    app_error err = {0};
    fake_toss_order order;
    fake_toss_field_matches(body, "method", "billing", &err);
    fake_toss_field_matches(body, "billingKey", fake_toss_record_string(billing, "billingKey"), &err);
    fake_toss_read_order(body, FAKE_TOSS_OPTIONAL, &order, &err);
    if (err.status != 0) {
        fake_toss_respond_app_error(ex, &err);
        return;
    }
    if (fake_billing_refuses(fs, (double)order.amount)) {
        fake_toss_respond_error(ex, 403, "REJECT_CARD_COMPANY", "The card company declined the payment.");
        return;
    }
    fake_toss_state *state = fake_toss_state_of(fs);
    const char *card_number = fake_toss_record_string(billing, "cardNumber");
    json_t *payment = fake_toss_card_payment_new(state, &order, "BILLING", card_number, 0, true);
    if (fake_toss_store_new(ex, state->payments, "paymentKey", payment, "The payment could not be made.") == 0) {
        fake_stats_count(fs, "charges");
        fake_billing_charged(fs);
        fake_respond_json(ex, 201, json_incref(payment));
    }
    json_decref(payment);
}

void fake_toss_billing_pay(http_exchange *ex, const http_route_params *params, void *context)
{
    /* The original fake charges whatever customerKey is given; Toss (and
     * --strict) refuses one that is not the billing key's. */
    fake_server *fs = context;
    json_t *billing;
    json_t *body = fake_toss_billing_request(fs, ex, params, fs->settings.strict, &billing);
    if (body == NULL)
        return;
    fake_toss_charge(context, ex, billing, body);
    json_decref(body);
}
