/* fake-toss-payments-server: a look-alike of Toss Payments' HTTP API for
 * automated tests. This file is its entry point: the route table of the 12
 * operations and the stores every record lives in. */
#include "fake_toss.h"

#include <stdlib.h>

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

static void fake_toss_cleanup(fake_server *fs)
{
    fake_toss_state *state = fs->vendor;
    if (state == NULL)
        return;
    if (state->payments != NULL)
        fake_store_destroy(state->payments);
    if (state->billings != NULL)
        fake_store_destroy(state->billings);
    if (state->receipts != NULL)
        fake_store_destroy(state->receipts);
    free(state);
    fs->vendor = NULL;
}

static int fake_toss_init(fake_server *fs)
{
    fake_toss_state *state = calloc(1, sizeof *state);
    if (state == NULL)
        return -1;
    fs->vendor = state;
    size_t capacity = fs->settings.capacity;
    uint64_t ttl_ms = fs->settings.ttl_ms;
    state->payments = fake_store_create(capacity, ttl_ms);
    state->billings = fake_store_create(capacity, ttl_ms);
    state->receipts = fake_store_create(capacity, ttl_ms);
    if (state->payments == NULL || state->billings == NULL || state->receipts == NULL) {
        fake_toss_cleanup(fs);
        return -1;
    }
    return 0;
}

static const fake_server_spec fake_toss_spec = {
    .name = "fake-toss-payments-server",
    .env_prefix = "FAKE_TOSS_",
    .default_port = FAKE_TOSS_DEFAULT_PORT,
    .default_key = NULL,
    .default_secret = FAKE_TOSS_DEFAULT_SECRET,
    .routes = fake_toss_routes,
    .route_count = sizeof fake_toss_routes / sizeof fake_toss_routes[0],
    .init = fake_toss_init,
    .cleanup = fake_toss_cleanup,
};

int main(int argc, char **argv)
{
    return fake_server_main(argc, argv, &fake_toss_spec);
}
