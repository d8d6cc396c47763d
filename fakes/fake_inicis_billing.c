/* Billing (POST /api/v1/billing, type=Billing): charges a billing key that
 * the buyer registered in the browser (here: POST /internal/billkeys). The
 * moid names the charge: a second charge with a moid already charged gets
 * the first answer again and charges nothing, so that a client that derives
 * moid from its own operation can retry without paying twice. The card of
 * the --refused-card setting is declined ("08"), and so is a charge the
 * billing rules decline (fake_billing_rules.c). */
#include "fake_inicis.h"
#include "fake_random.h"
#include "fake_stats.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

static const char *const billing_hashed[] = {"type", "paymethod", "timestamp", "clientIp", "mid",
                                             "moid", "price",     "billKey",   NULL};

/* The answer kept for the moid's repeats; a copy goes out. */
static void billing_answer(fake_server *fs, http_exchange *ex, const char *moid, json_t *answer)
{
    if (!answer) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    if (fake_store_put(fake_inicis_state_of(fs)->charges, moid, json_incref(answer)) != 0)
        log_error("fake-inicis: the answer to a charge could not be kept: a repeat would charge again");
    fake_respond_json(ex, 200, answer);
}

static json_t *billing_charge(fake_server *fs, const char *moid, int64_t price, const json_t *billkey)
{
    const char *card_number = fake_inicis_record_string(billkey, "cardNumber");
    json_t *payment = fake_inicis_payment_new(fs, "Card", moid, price, "paid");
    const char *code, *name;
    fake_inicis_card_issuer(card_number, &code, &name);
    char auth_code[9];
    if (!payment || fake_random_digits(auth_code, 8) != 0 ||
        json_object_set_new(payment, "cardNumber", json_string(card_number)) != 0 ||
        json_object_set_new(payment, "cardCode", json_string(code)) != 0 ||
        json_object_set_new(payment, "billKey", json_string(fake_inicis_record_string(billkey, "billKey"))) != 0 ||
        fake_inicis_keep_payment(fs, payment) != 0) {
        json_decref(payment);
        return NULL;
    }
    const char *stamp = fake_inicis_record_string(payment, "applDateTime");
    json_t *answer =
        json_pack("{s:s, s:s, s:s, s:s%, s:s, s:s, s:I, s:s, s:s}", "resultCode", FAKE_INICIS_OK, "resultMsg",
                  "Charged.", "tid", fake_inicis_record_string(payment, "tid"), "payDate", stamp, (size_t)8, "payTime",
                  stamp + 8, "payAuthCode", auth_code, "price", (json_int_t)price, "cardCode", code, "cardQuota", "00");
    json_decref(payment);
    return answer;
}

/* The refused card is declined whatever the rules say, and counted as
 * both a refused card and a refused billing charge. */
static bool billing_declined(fake_server *fs, const json_t *billkey, int64_t price)
{
    if (strcmp(fake_inicis_record_string(billkey, "cardNumber"), fs->settings.refused_card) != 0)
        return fake_billing_refuses(fs, (double)price);
    fake_stats_count(fs, "card_refusals");
    fake_stats_count(fs, FAKE_BILLING_REFUSALS);
    return true;
}

static void billing_run(fake_server *fs, http_exchange *ex, json_t *form)
{
    fake_inicis_state *state = fake_inicis_state_of(fs);
    int64_t price = 0;
    const char *moid = fake_inicis_required(ex, form, "moid");
    const char *key = moid ? fake_inicis_required(ex, form, "billKey") : NULL;
    if (!key || !fake_inicis_required(ex, form, "goodName") || !fake_inicis_required(ex, form, "buyerName") ||
        !fake_inicis_price(ex, form, "price", false, &price))
        return;
    json_t *first = fake_store_get(state->charges, moid);
    if (first) {
        fake_stats_count(fs, "charge_replays");
        fake_respond_json(ex, 200, json_incref(first));
        return;
    }
    if (strcmp(fake_inicis_field(form, "paymethod"), "Card") != 0) {
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_REQUEST, "Billing takes paymethod Card.");
        return;
    }
    json_t *billkey = fake_store_get(state->billkeys, key);
    if (!billkey) {
        fake_inicis_respond_result(ex, FAKE_INICIS_NOT_FOUND, "No billing key has this billKey.");
        return;
    }
    if (fake_inicis_find_order(fs, moid)) {
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_REQUEST, "This moid names another payment.");
        return;
    }
    if (billing_declined(fs, billkey, price)) {
        billing_answer(fs, ex, moid,
                       json_pack("{s:s, s:s}", "resultCode", FAKE_INICIS_CARD_REFUSED, "resultMsg",
                                 "The card issuer declined the card."));
        return;
    }
    json_t *answer = billing_charge(fs, moid, price, billkey);
    if (answer) {
        fake_stats_count(fs, "charges");
        fake_billing_charged(fs);
    }
    billing_answer(fs, ex, moid, answer);
}

static const fake_inicis_operation billing_operations[] = {
    {"Billing", billing_hashed, billing_run},
};

void fake_inicis_billing(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_inicis_serve(context, ex, billing_operations, 1);
}
