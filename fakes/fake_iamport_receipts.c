/* Cash receipts, one per paid payment and kept under its imp_uid: issued for
 * what is left of the payment, cancelled once, and issued again after that. */
#include "fake_iamport.h"

#include <math.h>

static const char *const receipt_types[] = {"person", "company", NULL};
static const char *const identifier_types[] = {"phone", "person", "business", "taxcard", NULL};
static const char no_receipt[] = "no cash receipt is issued for this imp_uid";

static bool receipt_input(json_t *body, const char *imp_uid, app_error *err)
{
    const char *in_body, *identifier, *kind, *type, *email;
    double tax_free;
    if (!fake_iamport_input_string(body, "imp_uid", false, &in_body, err) ||
        !fake_iamport_input_text(body, "identifier", true, &identifier, err) ||
        !fake_iamport_input_enum(body, "identifier_type", false, identifier_types, &kind, err) ||
        !fake_iamport_input_enum(body, "type", false, receipt_types, &type, err) ||
        !fake_iamport_input_string(body, "buyer_email", false, &email, err) ||
        !fake_iamport_input_optional_strings(body, (const char *const[]){"buyer_name", "buyer_tel", NULL}, err) ||
        !fake_iamport_input_number(body, "tax_free", false, &tax_free, NULL, err) ||
        !fake_iamport_input_same_as_path("imp_uid", in_body, imp_uid, err))
        return false;
    if (tax_free < 0) {
        app_error_set(err, 400, "tax_free must not be negative");
        return false;
    }
    return true;
}

/* The paid payment a receipt may be issued for. */
static json_t *receipt_payment(fake_iamport_state *st, const char *imp_uid, app_error *err)
{
    json_t *payment = fake_iamport_payment_get(st, imp_uid, err);
    if (!payment || !fake_iamport_require(payment, "status", "paid", "a cash receipt needs a paid payment", err))
        return NULL;
    json_t *previous = fake_store_get(st->receipts, imp_uid);
    if (previous && json_integer_value(json_object_get(previous, "cancelled_at")) == 0) {
        app_error_set(err, 422, "a cash receipt is already issued for this payment");
        return NULL;
    }
    return payment;
}

static json_t *receipt_new(const char *imp_uid, json_t *payment, json_t *body, app_error *err)
{
    double amount = json_number_value(json_object_get(payment, "amount")) -
                    json_number_value(json_object_get(payment, "cancel_amount"));
    double tax_free = json_number_value(json_object_get(body, "tax_free"));
    if (tax_free > amount) {
        app_error_set(err, 400, "tax_free must not exceed the amount of the receipt");
        return NULL;
    }
    char receipt_uid[25], apply_num[10], receipt_url[96];
    if (fake_iamport_random_hex(receipt_uid, 24) != 0 || fake_iamport_random_digits(apply_num, 9) != 0) {
        app_error_set(err, 500, "cannot number the receipt");
        return NULL;
    }
    snprintf(receipt_url, sizeof receipt_url, "https://fake-iamport.invalid/cash-receipts/%s", receipt_uid);
    json_t *type = json_object_get(body, "type");
    json_t *receipt =
        json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:I, s:i}", "imp_uid", imp_uid, "receipt_uid", receipt_uid,
                  "apply_num", apply_num, "type", json_is_string(type) ? json_string_value(type) : "person", "amount",
                  fake_iamport_amount_json(amount), "vat", fake_iamport_amount_json(round((amount - tax_free) / 11)),
                  "receipt_url", receipt_url, "applied_at", (json_int_t)fake_iamport_now(), "cancelled_at", 0);
    if (!receipt)
        app_error_set(err, 500, "cannot build the receipt");
    return receipt;
}

static json_t *receipt_create(fake_server *fs, json_t *body, const http_route_params *params, app_error *err)
{
    fake_iamport_state *st = fs->vendor;
    const char *imp_uid = http_route_param(params, "imp_uid");
    json_t *payment = NULL;
    if (!receipt_input(body, imp_uid, err) || !(payment = receipt_payment(st, imp_uid, err)))
        return NULL;
    json_t *receipt = receipt_new(imp_uid, payment, body, err);
    if (receipt && (fake_store_put(st->receipts, imp_uid, json_incref(receipt)) != 0 ||
                    fake_iamport_update(payment, json_pack("{s:b}", "cash_receipt_issue", 1)) != 0)) {
        json_decref(receipt);
        receipt = NULL;
        app_error_set(err, 500, "cannot keep the receipt");
    }
    return receipt;
}

void fake_iamport_receipt_create(http_exchange *ex, const http_route_params *params, void *context)
{
    static const fake_iamport_call create = {NULL, receipt_create, 201};
    fake_iamport_call_answer(ex, params, context, &create);
}

void fake_iamport_receipt_at(http_exchange *ex, const http_route_params *params, void *context)
{
    fake_iamport_state *st = fake_iamport_authorize(ex, context);
    if (st)
        fake_iamport_reply_found(ex, st->receipts, http_route_param(params, "imp_uid"), no_receipt);
}

void fake_iamport_receipt_erase(http_exchange *ex, const http_route_params *params, void *context)
{
    fake_iamport_state *st = fake_iamport_authorize(ex, context);
    if (!st)
        return;
    const char *imp_uid = http_route_param(params, "imp_uid");
    json_t *receipt = fake_iamport_find(ex, st->receipts, imp_uid, no_receipt);
    if (!receipt)
        return;
    if (json_integer_value(json_object_get(receipt, "cancelled_at")) != 0) {
        fake_iamport_fail(ex, 422, "the cash receipt is already cancelled");
        return;
    }
    json_t *payment = fake_store_get(st->payments, imp_uid);
    if (fake_iamport_update(receipt, json_pack("{s:I}", "cancelled_at", (json_int_t)fake_iamport_now())) != 0 ||
        (payment && fake_iamport_update(payment, json_pack("{s:b}", "cash_receipt_issue", 0)) != 0)) {
        fake_iamport_fail(ex, 500, "cannot record the cancel");
        return;
    }
    fake_iamport_reply(ex, 200, receipt);
}
