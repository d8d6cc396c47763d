/* fake-toss-payments-server: a look-alike of Toss Payments' HTTP API for
 * automated tests. This file is its entry point: the route table of the 12
 * operations, the stores every record lives in and the effects it counts. */
#include "fake_toss.h"

#include <stddef.h>

/* Literal routes come before the ":param" route they would also match. */
static const http_route fake_toss_routes[] = {
    {"POST", "/v1/payments/key-in", fake_toss_payments_key_in},
    {"GET", "/v1/payments/:paymentKey", fake_toss_payments_get},
    {"POST", "/v1/payments/:paymentKey", fake_toss_payments_approve},
    {"POST", "/v1/payments/:paymentKey/cancel", fake_toss_payments_cancel},
    {"POST", "/v1/virtual-accounts", fake_toss_virtual_accounts_create},
    {"POST", "/v1/billing/authorizations/card", fake_toss_billing_issue},
    {"POST", "/v1/billing/authorizations/:billingKey", fake_toss_billing_get},
    {"POST", "/v1/billing/:billingKey", fake_toss_billing_pay},
    {"POST", "/v1/cash-receipts", fake_toss_cash_receipts_issue},
    {"POST", "/v1/cash-receipts/:receiptKey/cancel", fake_toss_cash_receipts_cancel},
    {"POST", "/internal/webhook", fake_toss_internal_webhook},
    {"PUT", "/internal/:paymentKey/deposit", fake_toss_internal_deposit},
};

static const fake_store_slot fake_toss_stores[] = {
    {offsetof(fake_toss_state, payments), FAKE_LIFETIME_RECORD},
    {offsetof(fake_toss_state, billings), FAKE_LIFETIME_RECORD},
    {offsetof(fake_toss_state, receipts), FAKE_LIFETIME_RECORD},
    {offsetof(fake_toss_state, answers), FAKE_LIFETIME_RECORD},
};

/* The effects a test may count through GET /fake/stats. */
static const char *const fake_toss_counters[] = {
    "payments",
    "confirms",
    "cancels",
    "charges",
    "billing_keys",
    "cash_receipts",
    "cash_receipt_cancels",
    "deposits",
    "webhooks",
    "idempotent_replays",
    "idempotent_in_progress",
    "idempotent_mismatches",
    "idempotent_invalid_keys",
    "lookups",
    FAKE_BILLING_CHARGES,
    FAKE_BILLING_REFUSALS,
    NULL,
};

static const fake_server_spec fake_toss_spec = {
    .name = "fake-toss-payments-server",
    .env_prefix = "FAKE_TOSS_",
    .default_port = FAKE_TOSS_DEFAULT_PORT,
    .default_key = NULL,
    .default_secret = FAKE_TOSS_DEFAULT_SECRET,
    .routes = fake_toss_routes,
    .route_count = sizeof fake_toss_routes / sizeof fake_toss_routes[0],
    .state_size = sizeof(fake_toss_state),
    .stores = fake_toss_stores,
    .store_count = sizeof fake_toss_stores / sizeof fake_toss_stores[0],
    .counters = fake_toss_counters,
    .strict_rules = "  billing customerKey    a billing-key payment with another customerKey than the key's\n"
                    "                         is accepted; --strict: 403 NOT_MATCHES_CUSTOMER_KEY, as Toss\n",
    .serve = fake_toss_serve,
};

int main(int argc, char **argv)
{
    return fake_server_main(argc, argv, &fake_toss_spec);
}
