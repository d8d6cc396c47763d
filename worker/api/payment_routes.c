/* Routing: POST /payments/routes/resolve tells a service which vendor and
 * store its checkout must use for (pg, mid, currency), with the rule's name
 * and its fallback, from the worker's routing table (worker/routing/); while
 * the rule's vendor has its circuit open here, the fallback is the answer. */
#include "worker.h"

#include "api_request.h"
#include "route_input.h"

#include <stddef.h>

typedef struct resolve_request {
    api_request api; /* first: the request is answered and freed through it */
    route_key key;
} resolve_request;

static json_t *target_json(const route_target *target)
{
    if (!target->vendor_code)
        return json_null();
    return json_pack("{s:s, s:s}", "code", target->vendor_code, "store_id", target->store_id);
}

/* The target passed over, so that the caller sees why: only an open
 * circuit makes resolve pass over a rule's target. */
static json_t *primary_json(const route_target *target, bool passed_over)
{
    if (!passed_over)
        return json_null();
    return json_pack("{s:s, s:s, s:s}", "code", target->vendor_code, "store_id", target->store_id, "state", "open");
}

/* {vendor: {code, store_id}, route: name | null, fallback: {code, store_id} | null,
 *  used_fallback, primary: {code, store_id, state} | null} */
static json_t *resolution_json(const route_rule *rule, worker *w)
{
    bool used_fallback;
    const route_target *chosen = route_input_choose(rule, w->vendors, w->stores, &used_fallback);
    return json_pack("{s:o, s:o, s:o, s:b, s:o}", "vendor", target_json(chosen), "route",
                     rule->name ? json_string(rule->name) : json_null(), "fallback", target_json(&rule->fallback),
                     "used_fallback", used_fallback, "primary", primary_json(&rule->target, used_fallback));
}

static bool read_key(api_request *api, const api_input *in)
{
    return route_input_key(in, &((resolve_request *)api)->key);
}

void payment_routes_resolve(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    _Static_assert(offsetof(resolve_request, api) == 0, "api_request must come first");
    resolve_request *r = api_request_new(sizeof(resolve_request), ex, context, NULL);
    if (!r || !api_request_input(&r->api, read_key))
        return;
    app_error err = {0};
    const route_rule *rule = route_input_resolve(r->api.app->routes, &r->key, &err);
    json_t *doc = rule ? resolution_json(rule, r->api.app) : NULL;
    if (rule && !doc)
        app_error_set(&err, 500, "out of memory");
    api_request_answer(&r->api, 200, doc, &err);
}
