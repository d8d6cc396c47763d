/* route_input: the routing key of a request ({pg, mid, currency}) and its
 * resolution through the worker's routing table, for POST
 * /payments/routes/resolve and for a reservation that names a route instead
 * of a vendor. Strings are borrowed from the request document or the table. */
#ifndef PAYMENTS_ROUTE_INPUT_H
#define PAYMENTS_ROUTE_INPUT_H

#include "payment_input.h"
#include "route_table.h"
#include "vendors/vendor.h"

struct worker;

/* {pg, mid, currency} of in itself. */
bool route_input_key(const api_input *in, route_key *out);

/* The first rule of routes matching key, or NULL with a 400 in err naming the
 * key, or saying that no table is configured (routes NULL). */
const route_rule *route_input_resolve(const route_table *routes, const route_key *key, app_error *err);

/* Where rule sends a checkout now: its own target, or its fallback while the
 * target's circuit is open in this worker (*used_fallback then true). A rule
 * without a fallback keeps its target, whose call then fails with 503. */
const route_target *route_input_choose(const route_rule *rule, vendor_context *vendors, const vendor_stores *stores,
                                       bool *used_fallback);

/* A reservation's vendor: the API's in.vendor {code, store_id, uid}, or
 * in.route {pg, mid, currency} naming code and store id (chosen as
 * route_input_choose chooses), with in.vendor holding only the uid. */
bool route_input_vendor(const api_input *in, struct worker *w, payment_vendor_input *out);

#endif
