/* fake-iamport-server: a look-alike of iamport's (PortOne v1) REST API for
 * automated tests. This file is the program: its defaults, its route table
 * (the 19 operations of fake-iamport.swagger.json) and its stores. */
#include "fake_iamport.h"

#include <stddef.h>

static const http_route fake_iamport_routes[] = {
    {"POST", "/users/getToken", fake_iamport_get_token},
    {"POST", "/payments/cancel", fake_iamport_payment_cancel},
    {"GET", "/payments/find/:merchant_uid", fake_iamport_payment_find},
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

static const fake_store_slot fake_iamport_stores[] = {
    {offsetof(fake_iamport_state, tokens), FAKE_LIFETIME_TOKEN},
    {offsetof(fake_iamport_state, payments), FAKE_LIFETIME_RECORD},
    {offsetof(fake_iamport_state, merchant_index), FAKE_LIFETIME_RECORD},
    {offsetof(fake_iamport_state, subscriptions), FAKE_LIFETIME_RECORD},
    {offsetof(fake_iamport_state, certifications), FAKE_LIFETIME_RECORD},
    {offsetof(fake_iamport_state, receipts), FAKE_LIFETIME_RECORD},
    {offsetof(fake_iamport_state, notice_urls), FAKE_LIFETIME_RECORD},
};

/* The effects a test may count through GET /fake/stats. */
static const char *const fake_iamport_counters[] = {
    "payments",
    "charges",
    "cancels",
    "checksum_refusals",
    "deposits",
    "webhooks",
    "lookups",
    FAKE_BILLING_CHARGES,
    FAKE_BILLING_REFUSALS,
    NULL,
};

static const fake_server_spec fake_iamport_spec = {
    .name = "fake-iamport-server",
    .env_prefix = "FAKE_IAMPORT_",
    .default_port = 10851,
    .default_key = "test_imp_key",
    .default_secret = "test_imp_secret",
    .routes = fake_iamport_routes,
    .route_count = sizeof fake_iamport_routes / sizeof fake_iamport_routes[0],
    .state_size = sizeof(fake_iamport_state),
    .stores = fake_iamport_stores,
    .store_count = sizeof fake_iamport_stores / sizeof fake_iamport_stores[0],
    .counters = fake_iamport_counters,
    .strict_rules = "  cancels                every cancel, partial ones included, marks the payment \"cancelled\"\n"
                    "                         and sends a webhook; --strict: it stays \"paid\" until refunds\n"
                    "                         reach its amount, and only that last cancel sends one\n"
                    "  virtual-account edits  PUT /vbanks sends a webhook; --strict: none\n"
                    "Either way a payment made with a notice_url sends its webhooks there, as iamport does.\n",
};

int main(int argc, char **argv)
{
    return fake_server_main(argc, argv, &fake_iamport_spec);
}
