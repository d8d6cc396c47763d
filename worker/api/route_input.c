/* route_input: reading a routing key and resolving it. A request naming
 * both a route and a vendor code is refused rather than guessed at, so a
 * caller never stores a reservation under a vendor it did not mean. */
#include "route_input.h"

#include "worker.h"

bool route_input_key(const api_input *in, route_key *out)
{
    if (!api_input_string(in, "pg", ROUTE_TABLE_FIELD_MAX, &out->pg) ||
        !api_input_string(in, "mid", ROUTE_TABLE_FIELD_MAX, &out->mid) ||
        !api_input_string(in, "currency", ROUTE_TABLE_FIELD_MAX, &out->currency))
        return false;
    return route_table_is_currency(out->currency)
               ? true
               : api_input_refuse(in, "currency", "must be an ISO 4217 code (three capital letters)");
}

const route_rule *route_input_resolve(const route_table *routes, const route_key *key, app_error *err)
{
    if (!routes) {
        app_error_set(err, 400, "no routes file is configured on this server");
        return NULL;
    }
    const route_rule *rule = route_table_match(routes, key);
    if (!rule)
        app_error_set(err, 400, "no route for pg %.80s, mid %.80s, currency %s", key->pg, key->mid, key->currency);
    return rule;
}

const route_target *route_input_choose(const route_rule *rule, vendor_context *vendors, const vendor_stores *stores,
                                       bool *used_fallback)
{
    *used_fallback = rule->fallback.vendor_code &&
                     vendor_context_circuit_open(vendors, stores, rule->target.vendor_code, rule->target.store_id);
    return *used_fallback ? &rule->fallback : &rule->target;
}

/* in.vendor {uid} beside a route: code and store id come from target. */
static bool read_routed_vendor(const api_input *in, const route_target *target, payment_vendor_input *out)
{
    api_input vendor;
    if (!api_input_object(in, "vendor", &vendor))
        return false;
    if (json_object_get(vendor.object, "code"))
        return api_input_refuse(&vendor, "code", "must be left out when route names the vendor");
    if (json_object_get(vendor.object, "store_id"))
        return api_input_refuse(&vendor, "store_id", "must be left out when route names the vendor");
    out->code = target->vendor_code;
    out->store_id = target->store_id;
    return api_input_string(&vendor, "uid", PAYMENT_UID_MAX, &out->uid);
}

bool route_input_vendor(const api_input *in, struct worker *w, payment_vendor_input *out)
{
    api_input route;
    bool routed = false;
    if (!api_input_optional_object(in, "route", &route, &routed))
        return false;
    if (!routed)
        return payment_input_vendor(in, out);
    route_key key;
    const route_rule *rule = route_input_key(&route, &key) ? route_input_resolve(w->routes, &key, in->err) : NULL;
    if (!rule)
        return false;
    bool used_fallback;
    return read_routed_vendor(in, route_input_choose(rule, w->vendors, w->stores, &used_fallback), out);
}
