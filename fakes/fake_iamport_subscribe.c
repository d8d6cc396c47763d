/* Card payments and billing keys. A card is paid the moment it is charged,
 * either once (/subscribe/payments/onetime, which may also keep the card as a
 * billing key) or again with a billing key registered under a customer_uid. */
#include "fake_iamport.h"
#include "fake_stats.h"

#include <math.h>

static const char no_billing_key[] = "no billing key is registered for this customer_uid";

/* The order part of IIamportSubscription.IOnetime and IAgain. */
static bool order_input(json_t *body, app_error *err)
{
    const char *merchant_uid, *name, *currency, *email;
    double amount = 0, tax_free = 0, quota = 0;
    if (!fake_iamport_input_text(body, "merchant_uid", true, &merchant_uid, err) ||
        !fake_iamport_input_amount(body, "amount", true, &amount, NULL, err) ||
        !fake_iamport_input_string(body, "name", true, &name, err) ||
        !fake_iamport_input_enum(body, "currency", false, fake_iamport_currencies, &currency, err) ||
        !fake_iamport_input_number(body, "tax_free", false, &tax_free, NULL, err) ||
        !fake_iamport_input_number(body, "card_quota", false, &quota, NULL, err) ||
        !fake_iamport_input_email(body, "buyer_email", &email, err) ||
        !fake_iamport_input_optional_strings(body, fake_iamport_buyer_fields, err) ||
        !fake_iamport_input_string(body, "notice_url", false, &name, err) ||
        !fake_iamport_input_boolean(body, "interest_free_by_merchant", false, err) ||
        !fake_iamport_input_boolean(body, "use_card_point", false, err))
        return false;
    if (tax_free < 0 || tax_free > amount) {
        app_error_set(err, 400, "tax_free must be from 0 to amount");
        return false;
    }
    if (quota < 0 || quota > 36 || quota != floor(quota)) {
        app_error_set(err, 400, "card_quota must be a whole number of months from 0 to 36");
        return false;
    }
    return true;
}

/* IIamportSubscription for a card given in body. */
static json_t *subscription_new(const char *customer_uid, json_t *body, json_t *previous)
{
    const char *card_number = json_string_value(json_object_get(body, "card_number"));
    const char *card_code, *card_name;
    fake_iamport_card_issuer(card_number, &card_code, &card_name);
    json_int_t now = (json_int_t)fake_iamport_now();
    json_t *inserted = previous ? json_object_get(previous, "inserted") : NULL;
    json_t *sub = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "customer_uid", customer_uid,
                            "pg_provider", "fake", "pg_id", "fake-iamport", "card_name", card_name, "card_code",
                            card_code, "card_number", card_number, "card_type", "credit", "inserted",
                            json_is_integer(inserted) ? json_integer_value(inserted) : now, "updated", now);
    /* The schema spells the address field "customr_addr"; both are read. */
    const char *addr = json_is_string(json_object_get(body, "customer_addr")) ? "customer_addr" : "customr_addr";
    if (!sub || fake_iamport_copy_string(sub, "customer_name", body, "customer_name") != 0 ||
        fake_iamport_copy_string(sub, "customer_tel", body, "customer_tel") != 0 ||
        fake_iamport_copy_string(sub, "customer_email", body, "customer_email") != 0 ||
        fake_iamport_copy_string(sub, "customer_addr", body, addr) != 0 ||
        fake_iamport_copy_string(sub, "customer_postcode", body, "customer_postcode") != 0) {
        json_decref(sub);
        return NULL;
    }
    return sub;
}

/* Keeps the card as the customer's billing key; returns a new reference. */
static json_t *subscription_register(fake_iamport_state *st, const char *customer_uid, json_t *body)
{
    json_t *sub = subscription_new(customer_uid, body, fake_store_get(st->subscriptions, customer_uid));
    if (!sub || fake_store_put(st->subscriptions, customer_uid, json_incref(sub)) != 0) {
        json_decref(sub);
        return NULL;
    }
    return sub;
}

/* The card payment for an order in body, charged to the given card: paid,
 * or failed for fail_reason when it is not NULL. */
static json_t *card_payment(fake_iamport_state *st, json_t *body, json_t *card, const char *usage,
                            const char *fail_reason)
{
    json_t *currency = json_object_get(body, "currency");
    const char *currency_code = json_is_string(currency) ? json_string_value(currency) : "KRW";
    json_t *payment = fake_iamport_payment_new(st, "card", body, currency_code);
    char apply_num[9];
    if (!payment || fake_iamport_random_digits(apply_num, 8) != 0) {
        json_decref(payment);
        return NULL;
    }
    int rc = fake_iamport_update(
        payment,
        json_pack("{s:O, s:O, s:O, s:I, s:s, s:O, s:s?}", "card_code", json_object_get(card, "card_code"), "card_name",
                  json_object_get(card, "card_name"), "card_number", json_object_get(card, "card_number"), "card_quota",
                  (json_int_t)json_number_value(json_object_get(body, "card_quota")), "apply_num", apply_num, "name",
                  json_object_get(body, "name"), "customer_uid_usage", usage));
    /* Buyer fields the order leaves out come from the billing key's customer. */
    static const char *const fallbacks[][2] = {
        {"buyer_name", "customer_name"}, {"buyer_email", "customer_email"},       {"buyer_tel", "customer_tel"},
        {"buyer_addr", "customer_addr"}, {"buyer_postcode", "customer_postcode"},
    };
    for (size_t i = 0; i < sizeof fallbacks / sizeof fallbacks[0]; i++) {
        bool given = json_is_string(json_object_get(body, fallbacks[i][0]));
        rc |= fake_iamport_copy_string(payment, fallbacks[i][0], given ? body : card,
                                       given ? fallbacks[i][0] : fallbacks[i][1]);
    }
    rc |= fake_iamport_copy_string(payment, "custom_data", body, "custom_data");
    rc |= fake_iamport_copy_string(payment, "customer_uid", card, "customer_uid");
    rc |=
        fail_reason ? fake_iamport_payment_mark_failed(payment, fail_reason) : fake_iamport_payment_mark_paid(payment);
    if (rc != 0) {
        json_decref(payment);
        return NULL;
    }
    return payment;
}

static json_t *charge(fake_server *fs, json_t *body, json_t *card, const char *usage, app_error *err)
{
    json_t *payment = fake_iamport_payment_publish(fs, card_payment(fs->vendor, body, card, usage, NULL),
                                                   "cannot record the payment", err);
    if (payment)
        fake_stats_count(fs, "charges");
    return payment;
}

static bool onetime_input(json_t *body, app_error *err)
{
    const char *customer_uid;
    return fake_iamport_input_card(body, err) && order_input(body, err) &&
           fake_iamport_input_text(body, "customer_uid", false, &customer_uid, err);
}

static json_t *pay_onetime(fake_server *fs, json_t *body, const http_route_params *params, app_error *err)
{
    (void)params;
    /* With a customer_uid the card is also kept as a billing key. */
    const char *customer_uid = json_string_value(json_object_get(body, "customer_uid"));
    json_t *card =
        customer_uid ? subscription_register(fs->vendor, customer_uid, body) : subscription_new("", body, NULL);
    if (card && !customer_uid && fake_iamport_update(card, json_pack("{s:n}", "customer_uid")) != 0) {
        json_decref(card);
        card = NULL;
    }
    if (!card) {
        app_error_set(err, 500, "cannot read the card");
        return NULL;
    }
    json_t *payment = charge(fs, body, card, customer_uid ? "issue" : NULL, err);
    json_decref(card);
    return payment;
}

void fake_iamport_pay_onetime(http_exchange *ex, const http_route_params *params, void *context)
{
    static const fake_iamport_call onetime = {onetime_input, pay_onetime, 201};
    fake_iamport_call_answer(ex, params, context, &onetime);
}

static bool again_input(json_t *body, app_error *err)
{
    const char *customer_uid;
    return fake_iamport_input_text(body, "customer_uid", true, &customer_uid, err) && order_input(body, err);
}

/* A charge the billing rules decline is answered as iamport answers a card
 * its issuer declines: code 0, with the payment recorded as failed. */
static json_t *decline(fake_server *fs, json_t *body, json_t *card, app_error *err)
{
    json_t *payment = card_payment(fs->vendor, body, card, "payment", "The card issuer declined the payment.");
    return fake_iamport_payment_publish(fs, payment, "cannot record the payment", err);
}

static json_t *pay_again(fake_server *fs, json_t *body, const http_route_params *params, app_error *err)
{
    (void)params;
    fake_iamport_state *st = fs->vendor;
    const char *customer_uid = json_string_value(json_object_get(body, "customer_uid"));
    json_t *card = fake_iamport_lookup(st->subscriptions, customer_uid, no_billing_key, err);
    if (!card)
        return NULL;
    if (fake_billing_refuses(fs, json_number_value(json_object_get(body, "amount"))))
        return decline(fs, body, card, err);
    json_t *payment = charge(fs, body, card, "payment", err);
    if (payment)
        fake_billing_charged(fs);
    return payment;
}

void fake_iamport_pay_again(http_exchange *ex, const http_route_params *params, void *context)
{
    static const fake_iamport_call again = {again_input, pay_again, 201};
    fake_iamport_call_answer(ex, params, context, &again);
}

void fake_iamport_customer_at(http_exchange *ex, const http_route_params *params, void *context)
{
    fake_iamport_state *st = fake_iamport_authorize(ex, context);
    if (st)
        fake_iamport_reply_found(ex, st->subscriptions, http_route_param(params, "customer_uid"), no_billing_key);
}

static json_t *customer_create(fake_server *fs, json_t *body, const http_route_params *params, app_error *err)
{
    const char *customer_uid = http_route_param(params, "customer_uid");
    const char *in_body;
    if (!fake_iamport_input_string(body, "customer_uid", false, &in_body, err) ||
        !fake_iamport_input_same_as_path("customer_uid", in_body, customer_uid, err) ||
        !fake_iamport_input_card(body, err))
        return NULL;
    json_t *sub = subscription_register(fs->vendor, customer_uid, body);
    if (!sub)
        app_error_set(err, 500, "cannot keep the billing key");
    return sub;
}

void fake_iamport_customer_create(http_exchange *ex, const http_route_params *params, void *context)
{
    static const fake_iamport_call create = {NULL, customer_create, 201};
    fake_iamport_call_answer(ex, params, context, &create);
}

void fake_iamport_customer_erase(http_exchange *ex, const http_route_params *params, void *context)
{
    fake_iamport_state *st = fake_iamport_authorize(ex, context);
    if (st)
        fake_iamport_reply_removed(ex, st->subscriptions, http_route_param(params, "customer_uid"), no_billing_key);
}
