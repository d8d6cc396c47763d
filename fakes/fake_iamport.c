/* fake-iamport-server: a look-alike of iamport's (PortOne v1) REST API for
 * automated tests. This file is the program: its defaults, its route table
 * (the 19 operations of fake-iamport.swagger.json) and its stores. */
#include "fake_iamport.h"

#include <stdlib.h>

static const http_route fake_iamport_routes[] = {
    {"POST", "/users/getToken", fake_iamport_get_token},
    {"POST", "/payments/cancel", fake_iamport_payment_cancel},
    {"GET", "/payments/:imp_uid", fake_iamport_payment_at},
    {"POST", "/vbanks", fake_iamport_vbank_create},
    {"PUT", "/vbanks", fake_iamport_vbank_update},
    {"GET", "/subscribe/customers/:customer_uid", fake_iamport_customer_at},
    {"POST", "/subscribe/customers/:customer_uid", fake_iamport_customer_create},
    {"DELETE", "/subscribe/customers/:customer_uid", fake_iamport_customer_erase},
    {"POST", "/subscribe/payments/onetime", fake_iamport_pay_onetime},
    {"POST", "/subscribe/payments/again", fake_iamport_pay_again},
    {"POST", "/certifications/otp/request", fake_iamport_certification_request},
    {"POST", "/certifications/otp/confirm/:imp_uid", fake_iamport_certification_confirm},
    {"GET", "/certifications/:imp_uid", fake_iamport_certification_at},
    {"DELETE", "/certifications/:imp_uid", fake_iamport_certification_erase},
    {"GET", "/receipts/:imp_uid", fake_iamport_receipt_at},
    {"POST", "/receipts/:imp_uid", fake_iamport_receipt_create},
    {"DELETE", "/receipts/:imp_uid", fake_iamport_receipt_erase},
    {"POST", "/internal/webhook", fake_iamport_internal_webhook},
    {"PUT", "/internal/deposit/:imp_uid", fake_iamport_internal_deposit},
};

static void fake_iamport_cleanup(fake_server *fs)
{
    fake_iamport_state *st = fs->vendor;
    if (!st)
        return;
    fake_store_destroy(st->tokens);
    fake_store_destroy(st->payments);
    fake_store_destroy(st->merchant_index);
    fake_store_destroy(st->subscriptions);
    fake_store_destroy(st->certifications);
    fake_store_destroy(st->receipts);
    free(st);
    fs->vendor = NULL;
}

static int fake_iamport_init(fake_server *fs)
{
    fake_iamport_state *st = calloc(1, sizeof *st);
    if (!st)
        return -1;
    fs->vendor = st;
    const fake_settings *set = &fs->settings;
    st->tokens = fake_store_create(set->capacity, set->token_ttl_ms);
    st->payments = fake_store_create(set->capacity, set->ttl_ms);
    st->merchant_index = fake_store_create(set->capacity, set->ttl_ms);
    st->subscriptions = fake_store_create(set->capacity, set->ttl_ms);
    st->certifications = fake_store_create(set->capacity, set->ttl_ms);
    st->receipts = fake_store_create(set->capacity, set->ttl_ms);
    if (!st->tokens || !st->payments || !st->merchant_index || !st->subscriptions || !st->certifications ||
        !st->receipts) {
        fake_iamport_cleanup(fs);
        return -1;
    }
    return 0;
}

static const fake_server_spec fake_iamport_spec = {
    .name = "fake-iamport-server",
    .env_prefix = "FAKE_IAMPORT_",
    .default_port = 10851,
    .default_key = "test_imp_key",
    .default_secret = "test_imp_secret",
    .routes = fake_iamport_routes,
    .route_count = sizeof fake_iamport_routes / sizeof fake_iamport_routes[0],
    .init = fake_iamport_init,
    .cleanup = fake_iamport_cleanup,
};

int main(int argc, char **argv)
{
    return fake_server_main(argc, argv, &fake_iamport_spec);
}
