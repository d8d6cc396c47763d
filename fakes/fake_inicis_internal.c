/* Test helpers, in JSON under /internal/ (no vendor API): what the buyer
 * does in Inicis' payment window, which no server-to-server call can do. A
 * card payment (refused for the --refused-card number), a virtual account
 * issued and then paid by a deposit, which notifies --webhook-url the way
 * INIpay's deposit notification does, and a billing key. */
#include "fake_inicis.h"
#include "fake_random.h"
#include "fake_stats.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {resultCode, resultMsg} with an HTTP status: the helpers are no INIAPI. */
static void internal_refuse(http_exchange *ex, int status, const char *code, const char *message)
{
    json_t *doc = json_pack("{s:s, s:s}", "resultCode", code, "resultMsg", message);
    if (!doc) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    fake_respond_json(ex, status, doc);
}

static json_t *internal_body(http_exchange *ex)
{
    const http_request *req = http_exchange_request(ex);
    json_t *body = req->body_len ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL) : json_object();
    if (json_is_object(body))
        return body;
    json_decref(body);
    internal_refuse(ex, 400, FAKE_INICIS_BAD_REQUEST, "The body must be a JSON object.");
    return NULL;
}

/* A string member of 1 to FAKE_INICIS_MAX_FIELD bytes, all digits when
 * digits; fallback when absent (NULL: required). NULL after answering 400. */
static const char *internal_text(http_exchange *ex, json_t *body, const char *name, bool digits, const char *fallback)
{
    json_t *value = json_object_get(body, name);
    if (!value && fallback)
        return fallback;
    const char *text = json_string_value(value);
    bool valid = text && *text && strlen(text) <= FAKE_INICIS_MAX_FIELD;
    for (const char *p = text; valid && digits && *p; p++)
        valid = isdigit((unsigned char)*p) != 0;
    if (!valid) {
        char message[128];
        snprintf(message, sizeof message, "%s must be a non-empty string%s.", name, digits ? " of digits" : "");
        internal_refuse(ex, 400, FAKE_INICIS_BAD_REQUEST, message);
    }
    return valid ? text : NULL;
}

/* moid (new to the fake) and price; false after answering. */
static bool internal_order(fake_server *fs, http_exchange *ex, json_t *body, const char **moid, int64_t *price)
{
    *moid = internal_text(ex, body, "moid", false, NULL);
    if (!*moid)
        return false;
    json_t *amount = json_object_get(body, "price");
    if (!json_is_integer(amount) || json_integer_value(amount) < 1 ||
        json_integer_value(amount) > FAKE_INICIS_MAX_PRICE) {
        internal_refuse(ex, 400, FAKE_INICIS_BAD_REQUEST, "price must be a whole number of won, at least 1.");
        return false;
    }
    *price = json_integer_value(amount);
    if (fake_inicis_find_order(fs, *moid)) {
        internal_refuse(ex, 409, FAKE_INICIS_BAD_REQUEST, "This moid names another payment.");
        return false;
    }
    return true;
}

/* Keeps payment and answers 201 with it; takes the reference. */
static void internal_keep(fake_server *fs, http_exchange *ex, json_t *payment, const char *counter)
{
    if (!payment || fake_inicis_keep_payment(fs, payment) != 0) {
        json_decref(payment);
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    fake_stats_count(fs, counter);
    fake_respond_json(ex, 201, fake_inicis_payment_view(payment));
    json_decref(payment);
}

static json_t *internal_card_payment_new(fake_server *fs, const char *moid, int64_t price, const char *card_number)
{
    json_t *payment = fake_inicis_payment_new(fs, "Card", moid, price, "paid");
    const char *code, *name;
    fake_inicis_card_issuer(card_number, &code, &name);
    if (payment && (json_object_set_new(payment, "cardNumber", json_string(card_number)) != 0 ||
                    json_object_set_new(payment, "cardCode", json_string(code)) != 0)) {
        json_decref(payment);
        return NULL;
    }
    return payment;
}

void fake_inicis_internal_card_payment(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_server *fs = context;
    json_t *body = internal_body(ex);
    const char *moid, *card_number;
    int64_t price;
    if (!body || !internal_order(fs, ex, body, &moid, &price) ||
        !(card_number = internal_text(ex, body, "cardNumber", true, NULL))) {
        json_decref(body);
        return;
    }
    if (strcmp(card_number, fs->settings.refused_card) == 0) {
        fake_stats_count(fs, "card_refusals");
        internal_refuse(ex, 422, FAKE_INICIS_CARD_REFUSED, "The card issuer declined the card.");
    } else {
        internal_keep(fs, ex, internal_card_payment_new(fs, moid, price, card_number), "payments");
    }
    json_decref(body);
}

static json_t *internal_vbank_new(fake_server *fs, const char *moid, int64_t price, const char *bank,
                                  const char *holder)
{
    char account[15];
    json_t *payment = fake_inicis_payment_new(fs, "Vacct", moid, price, "ready");
    if (payment && (fake_random_digits(account, 14) != 0 ||
                    json_object_set_new(
                        payment, "vacct",
                        json_pack("{s:s, s:s, s:s}", "bankCode", bank, "number", account, "holder", holder)) != 0)) {
        json_decref(payment);
        return NULL;
    }
    return payment;
}

void fake_inicis_internal_vbank(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_server *fs = context;
    json_t *body = internal_body(ex);
    const char *moid, *bank, *holder;
    int64_t price;
    if (body && internal_order(fs, ex, body, &moid, &price) &&
        (bank = internal_text(ex, body, "bankCode", true, "88")) &&
        (holder = internal_text(ex, body, "holder", false, "(주)테스트상점")))
        internal_keep(fs, ex, internal_vbank_new(fs, moid, price, bank, holder), "vbanks");
    json_decref(body);
}

/* INIpay's deposit notification (가상계좌 입금통보): a form POST the merchant
 * answers with "OK". Field names as INIpay standard sends them. */
static void internal_notify_deposit(fake_server *fs, const json_t *payment, const char *stamp)
{
    const json_t *vacct = json_object_get(payment, "vacct");
    char amount[24];
    snprintf(amount, sizeof amount, "%lld", (long long)fake_inicis_record_integer(payment, "price"));
    json_t *fields = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s%, s:s%, s:s}", "no_tid",
        fake_inicis_record_string(payment, "tid"), "no_oid", fake_inicis_record_string(payment, "moid"), "id_merchant",
        fake_inicis_record_string(payment, "mid"), "cd_bank", fake_inicis_record_string(vacct, "bankCode"), "cd_deal",
        fake_inicis_record_string(vacct, "bankCode"), "dt_trans", stamp, (size_t)8, "tm_trans", stamp + 8, "no_msgseq",
        "0001", "type_msg", "0200", "amt_input", amount, "no_vacct", fake_inicis_record_string(vacct, "number"),
        "nm_inputbank", "테스트은행", "nm_input", fake_inicis_record_string(vacct, "holder"), "dt_inputstd", stamp,
        (size_t)8, "dt_calculstd", stamp, (size_t)8, "flg_close", "0");
    char *form = fields ? form_urlencoded_encode(fields) : NULL;
    json_decref(fields);
    if (form)
        fake_server_send_form_webhook(fs, form);
    free(form);
}

void fake_inicis_internal_deposit(http_exchange *ex, const http_route_params *params, void *context)
{
    fake_server *fs = context;
    json_t *payment = fake_inicis_find_payment(fs, http_route_param(params, "tid"));
    if (!payment || strcmp(fake_inicis_record_string(payment, "paymethod"), "Vacct") != 0) {
        internal_refuse(ex, 404, FAKE_INICIS_NOT_FOUND, "No virtual account has this tid.");
        return;
    }
    if (strcmp(fake_inicis_record_string(payment, "status"), "ready") != 0) {
        internal_refuse(ex, 409, FAKE_INICIS_NOT_REFUNDABLE, "This virtual account is not waiting for a deposit.");
        return;
    }
    char stamp[FAKE_INICIS_STAMP_LEN];
    fake_inicis_stamp_now(stamp);
    if (json_object_set_new(payment, "status", json_string("paid")) != 0 ||
        json_object_set_new(payment, "applDateTime", json_string(stamp)) != 0) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    fake_stats_count(fs, "deposits");
    internal_notify_deposit(fs, payment, stamp);
    fake_respond_json(ex, 200, fake_inicis_payment_view(payment));
}

void fake_inicis_internal_billkey(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_server *fs = context;
    json_t *body = internal_body(ex);
    const char *card_number = body ? internal_text(ex, body, "cardNumber", true, NULL) : NULL;
    const char *buyer = card_number ? internal_text(ex, body, "buyerName", false, "홍길동") : NULL;
    char key[FAKE_INICIS_TID_LEN + 1];
    json_t *billkey = NULL;
    if (buyer && fake_random_text(key, FAKE_INICIS_TID_LEN) == 0)
        billkey = json_pack("{s:s, s:s, s:s}", "billKey", key, "cardNumber", card_number, "buyerName", buyer);
    if (buyer && (!billkey || fake_store_put(fake_inicis_state_of(fs)->billkeys, key, json_incref(billkey)) != 0)) {
        http_respond_error(ex, 500, "out of memory");
    } else if (billkey) {
        const char *code, *name;
        fake_inicis_card_issuer(card_number, &code, &name);
        fake_stats_count(fs, "billing_keys");
        fake_respond_json(ex, 201, json_pack("{s:s, s:s, s:s}", "billKey", key, "cardCode", code, "cardName", name));
    }
    json_decref(billkey);
    json_decref(body);
}

void fake_inicis_internal_payment_get(http_exchange *ex, const http_route_params *params, void *context)
{
    json_t *payment = fake_inicis_find_payment(context, http_route_param(params, "tid"));
    if (!payment) {
        internal_refuse(ex, 404, FAKE_INICIS_NOT_FOUND, "No payment has this tid.");
        return;
    }
    fake_respond_json(ex, 200, fake_inicis_payment_view(payment));
}
