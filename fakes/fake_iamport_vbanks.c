/* Virtual accounts: issued "ready", edited while unpaid, and paid only by the
 * internal deposit call, which also sends the vendor's webhook the way the
 * real bank transfer would. /internal/webhook is a listener that drops what
 * it hears, for setups that leave the webhook URL pointing at the fake. */
#include "fake_iamport.h"
#include "fake_stats.h"

#include "log.h"

static bool vbank_input(json_t *body, app_error *err)
{
    const char *merchant_uid, *code, *holder, *email;
    double amount, due;
    return fake_iamport_input_text(body, "merchant_uid", true, &merchant_uid, err) &&
           fake_iamport_input_amount(body, "amount", true, &amount, NULL, err) &&
           fake_iamport_input_text(body, "vbank_code", true, &code, err) &&
           fake_iamport_input_time(body, "vbank_due", true, &due, NULL, err) &&
           fake_iamport_input_text(body, "vbank_holder", true, &holder, err) &&
           fake_iamport_input_email(body, "buyer_email", &email, err) &&
           fake_iamport_input_optional_strings(body, fake_iamport_buyer_fields, err) &&
           fake_iamport_input_optional_strings(
               body, (const char *const[]){"name", "pg", "notice_url", "pg_api_key", NULL}, err);
}

static json_t *vbank_payment(fake_iamport_state *st, json_t *body)
{
    const char *code = json_string_value(json_object_get(body, "vbank_code"));
    json_t *payment = fake_iamport_payment_new(st, "vbank", body, "KRW");
    char account[15];
    if (!payment || fake_iamport_random_digits(account, 14) != 0) {
        json_decref(payment);
        return NULL;
    }
    json_t *pg = json_object_get(body, "pg");
    int rc = fake_iamport_update(payment, json_pack("{s:s, s:s, s:s, s:O, s:I, s:I, s:s}", "vbank_code", code,
                                                    "vbank_name", fake_iamport_bank_name(code), "vbank_num", account,
                                                    "vbank_holder", json_object_get(body, "vbank_holder"), "vbank_date",
                                                    (json_int_t)json_number_value(json_object_get(body, "vbank_due")),
                                                    "vbank_issued_at", (json_int_t)fake_iamport_now(), "pg_provider",
                                                    json_is_string(pg) ? json_string_value(pg) : "fake"));
    rc |= fake_iamport_copy_string(payment, "name", body, "name");
    rc |= fake_iamport_copy_string(payment, "buyer_email", body, "buyer_email");
    for (const char *const *field = fake_iamport_buyer_fields; *field; field++)
        rc |= fake_iamport_copy_string(payment, *field, body, *field);
    if (rc != 0) {
        json_decref(payment);
        return NULL;
    }
    return payment;
}

static json_t *vbank_create(fake_server *fs, json_t *body, const http_route_params *params, app_error *err)
{
    (void)params;
    return fake_iamport_payment_publish(fs, vbank_payment(fs->vendor, body), "cannot issue the virtual account", err);
}

void fake_iamport_vbank_create(http_exchange *ex, const http_route_params *params, void *context)
{
    static const fake_iamport_call create = {vbank_input, vbank_create, 201};
    fake_iamport_call_answer(ex, params, context, &create);
}

/* A virtual account that can still change: issued and not yet paid. */
static json_t *unpaid_vbank(fake_iamport_state *st, const char *imp_uid, app_error *err)
{
    static const char not_vbank[] = "the payment is not a virtual account";
    static const char not_waiting[] = "the virtual account is no longer waiting for a deposit";
    json_t *payment = fake_iamport_payment_get(st, imp_uid, err);
    if (!payment || !fake_iamport_require(payment, "pay_method", "vbank", not_vbank, err) ||
        !fake_iamport_require(payment, "status", "ready", not_waiting, err))
        return NULL;
    return payment;
}

static json_t *vbank_update(fake_server *fs, json_t *body, const http_route_params *params, app_error *err)
{
    (void)params;
    const char *imp_uid;
    double amount, due;
    bool has_amount, has_due;
    json_t *payment = NULL;
    if (!fake_iamport_input_text(body, "imp_uid", true, &imp_uid, err) ||
        !fake_iamport_input_amount(body, "amount", false, &amount, &has_amount, err) ||
        !fake_iamport_input_time(body, "vbank_due", false, &due, &has_due, err) ||
        !(payment = unpaid_vbank(fs->vendor, imp_uid, err)))
        return NULL;
    int rc = 0;
    if (has_amount)
        rc |= fake_iamport_update(payment, json_pack("{s:o}", "amount", fake_iamport_amount_json(amount)));
    if (has_due)
        rc |= fake_iamport_update(payment, json_pack("{s:I}", "vbank_date", (json_int_t)due));
    if (rc != 0) {
        app_error_set(err, 500, "cannot record the change");
        return NULL;
    }
    /* The original fake tells of every edit; iamport (--strict) does not. */
    if (!fs->settings.strict)
        fake_iamport_send_webhook(fs, payment);
    return json_incref(payment);
}

void fake_iamport_vbank_update(http_exchange *ex, const http_route_params *params, void *context)
{
    static const fake_iamport_call update = {NULL, vbank_update, 200};
    fake_iamport_call_answer(ex, params, context, &update);
}

void fake_iamport_internal_deposit(http_exchange *ex, const http_route_params *params, void *context)
{
    fake_iamport_state *st = fake_iamport_authorize(ex, context);
    if (!st)
        return;
    app_error err = {0};
    json_t *payment = unpaid_vbank(st, http_route_param(params, "imp_uid"), &err);
    if (!payment) {
        fake_iamport_fail_error(ex, &err);
        return;
    }
    if (fake_iamport_payment_mark_paid(payment) != 0) {
        fake_iamport_fail(ex, 500, "cannot record the deposit");
        return;
    }
    fake_stats_count(context, "deposits");
    fake_iamport_send_webhook(context, payment);
    fake_iamport_reply(ex, 200, NULL);
}

void fake_iamport_internal_webhook(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    (void)context;
    json_t *body = fake_iamport_read_body(ex, NULL);
    if (!body)
        return;
    static const char *const statuses[] = {"paid", "ready", "failed", "cancelled", NULL};
    app_error err = {0};
    const char *imp_uid, *merchant_uid, *status;
    bool valid = fake_iamport_input_string(body, "imp_uid", true, &imp_uid, &err) &&
                 fake_iamport_input_string(body, "merchant_uid", true, &merchant_uid, &err) &&
                 fake_iamport_input_enum(body, "status", true, statuses, &status, &err);
    if (valid)
        log_debug("webhook listener: %s is %s", imp_uid, status);
    json_decref(body);
    if (!valid) {
        fake_iamport_fail_error(ex, &err);
        return;
    }
    fake_iamport_reply(ex, 201, NULL);
}
