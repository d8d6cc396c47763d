/* fake_billing_rules: how a test makes a fake decline billing-key charges,
 * the same in every fake: the next N charges fail, or every charge of one
 * amount does, so that retries and dunning can be driven without a card the
 * issuer really declines. Set by --refuse-amount and PUT /fake/billing. */
#ifndef PAYMENTS_FAKE_BILLING_RULES_H
#define PAYMENTS_FAKE_BILLING_RULES_H

#include "http_router.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The largest refuse_amount and fail_next accepted: beyond any real charge,
 * and a bound a typo cannot pass. */
#define FAKE_BILLING_MAX_AMOUNT UINT64_C(1000000000000)
#define FAKE_BILLING_MAX_FAIL_NEXT UINT64_C(1000000)

/* The counters of /fake/stats that every fake's billing charge raises. */
#define FAKE_BILLING_CHARGES "billing_charges"
#define FAKE_BILLING_REFUSALS "billing_refusals"

typedef struct fake_billing_rules {
    uint64_t fail_next;     /* how many of the next charges are declined */
    uint64_t refuse_amount; /* charges of exactly this amount are declined; 0: none */
} fake_billing_rules;

typedef struct fake_server fake_server;

/* True when the rules decline a billing-key charge of amount that the fake
 * would otherwise make (counted as a refusal; one of fail_next is used up).
 * Call it once the charge's input and billing key were found good. */
bool fake_billing_refuses(fake_server *fs, double amount);
/* Counts a billing-key charge that moved money. */
void fake_billing_charged(fake_server *fs);

/* GET /fake/billing and PUT /fake/billing ({"fail_next"?, "refuse_amount"?}):
 * both answer the rules as they stand. */
void fake_billing_get(http_exchange *ex, const http_route_params *params, void *context);
void fake_billing_put(http_exchange *ex, const http_route_params *params, void *context);

#endif
