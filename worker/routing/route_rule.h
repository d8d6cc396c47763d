/* route_rule: one rule of the routing table read from its JSON object and
 * checked member by member, so that a mistake names the member at fault.
 * Internal to worker/routing/. */
#ifndef PAYMENTS_ROUTE_RULE_H
#define PAYMENTS_ROUTE_RULE_H

#include "route_table.h"

#include <jansson.h>

/* Fills rule (strings copied, owned by it) from value; false with what is
 * wrong in detail ("currency must be ..."), the rule then cleared. */
bool route_rule_read(const json_t *value, route_rule *rule, char *detail, size_t cap);
void route_rule_clear(route_rule *rule);

#endif
