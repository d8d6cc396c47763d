/* fake-inicis-server: a look-alike of KG Inicis' INIAPI (the server-to-server
 * API: refunds, partial refunds, billing, inquiry) for automated tests. This
 * file is its entry point: the routes, the stores and the effects it counts. */
#include "fake_inicis.h"

#include <stddef.h>

static const http_route fake_inicis_routes[] = {
    {"POST", "/api/v1/refund", fake_inicis_refund},
    {"POST", "/api/v1/billing", fake_inicis_billing},
    {"POST", "/api/v1/inquiry", fake_inicis_inquiry},
    {"POST", "/internal/payments", fake_inicis_internal_card_payment},
    {"GET", "/internal/payments/:tid", fake_inicis_internal_payment_get},
    {"POST", "/internal/vbanks", fake_inicis_internal_vbank},
    {"PUT", "/internal/vbanks/:tid/deposit", fake_inicis_internal_deposit},
    {"POST", "/internal/billkeys", fake_inicis_internal_billkey},
};

static const fake_store_slot fake_inicis_stores[] = {
    {offsetof(fake_inicis_state, payments), FAKE_LIFETIME_RECORD},
    {offsetof(fake_inicis_state, orders), FAKE_LIFETIME_RECORD},
    {offsetof(fake_inicis_state, billkeys), FAKE_LIFETIME_RECORD},
    {offsetof(fake_inicis_state, charges), FAKE_LIFETIME_RECORD},
};

/* The effects a test may count through GET /fake/stats. */
static const char *const fake_inicis_counters[] = {
    "payments",
    "vbanks",
    "deposits",
    "billing_keys",
    "charges",
    "charge_replays",
    "refunds",
    "partial_refunds",
    "refund_repeats",
    "hash_refusals",
    "card_refusals",
    "lookups",
    "webhooks",
    FAKE_BILLING_CHARGES,
    FAKE_BILLING_REFUSALS,
    NULL,
};

static const fake_server_spec fake_inicis_spec = {
    .name = "fake-inicis-server",
    .env_prefix = "FAKE_INICIS_",
    .default_port = FAKE_INICIS_DEFAULT_PORT,
    .default_key = FAKE_INICIS_DEFAULT_KEY,
    .default_secret = NULL,
    .default_merchant_id = FAKE_INICIS_DEFAULT_MID,
    .default_iv = FAKE_INICIS_DEFAULT_IV,
    .default_refused_card = FAKE_INICIS_DEFAULT_REFUSED_CARD,
    .routes = fake_inicis_routes,
    .route_count = sizeof fake_inicis_routes / sizeof fake_inicis_routes[0],
    .state_size = sizeof(fake_inicis_state),
    .stores = fake_inicis_stores,
    .store_count = sizeof fake_inicis_stores / sizeof fake_inicis_stores[0],
    .counters = fake_inicis_counters,
};

int main(int argc, char **argv)
{
    return fake_server_main(argc, argv, &fake_inicis_spec);
}
