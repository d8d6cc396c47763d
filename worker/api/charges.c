/* Charges: POST /payments/charges charges a reservation's billing key for
 * one order (worker/charges/charge_run.h) once the reservation's password
 * matched, and answers the history it recorded, as POST /payments/histories
 * would. A `route` names a rule of the routing table whose store is used
 * instead of the reservation's, only when it sends to the reservation's
 * vendor: a billing key belongs to one vendor. */
#include "worker.h"

#include "api_request.h"
#include "charge_run.h"
#include "history_access.h"
#include "log.h"
#include "payment_input.h"
#include "record_password.h"
#include "reservation_store.h"
#include "route_input.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct charge_request {
    api_request api; /* first: the request is answered and freed through it */
    const char *reservation_id;
    payment_source_input reservation_source;
    const char *password;
    payment_source_input source;
    const char *name;
    double price;
    const char *currency;
    const char *webhook_url;
    const char *route;
    reservation_record *reservation; /* found, awaiting the password check */
    char operation_id[40];
} charge_request;

static void request_release(api_request *api)
{
    charge_request *r = (charge_request *)api;
    reservation_record_free(r->reservation);
}

static void on_history(history_record *record, const app_error *err, void *data)
{
    charge_request *r = data;
    api_request_answer_history(&r->api, 201, record, err);
}

static void on_charged(const charge_outcome *outcome, const app_error *err, void *data)
{
    charge_request *r = data;
    if (outcome->operation_id) {
        snprintf(r->operation_id, sizeof r->operation_id, "%s", outcome->operation_id);
        r->api.operation_id = r->operation_id;
    }
    if (err) {
        api_request_fail(&r->api, err);
        return;
    }
    history_store_find_by_id(r->api.app->db, outcome->history->id, on_history, r);
}

/* The routing rule named r->route, or NULL with err set. */
static const route_target *named_route(const charge_request *r, app_error *err)
{
    const route_table *routes = r->api.app->routes;
    for (size_t i = 0; routes && i < routes->count; i++) {
        const route_rule *rule = &routes->rules[i];
        if (rule->name && strcmp(rule->name, r->route) == 0) {
            bool used_fallback;
            return route_input_choose(rule, r->api.app->vendors, r->api.app->stores, &used_fallback);
        }
    }
    app_error_set(err, 422, routes ? "route names no rule of the routing table" : "no routes file is configured");
    return NULL;
}

static void on_password(const app_error *err, void *data)
{
    charge_request *r = data;
    if (err) {
        api_request_fail(&r->api, err);
        return;
    }
    app_error refused = {0};
    const route_target *target = r->route ? named_route(r, &refused) : NULL;
    if (target && strcmp(target->vendor_code, r->reservation->vendor_code) != 0)
        app_error_set(&refused, 422, "route sends to %s, but the reservation's billing key is %s's",
                      target->vendor_code, r->reservation->vendor_code);
    if (refused.status) {
        api_request_fail(&r->api, &refused);
        return;
    }
    charge_order order = {
        .reservation_id = r->reservation->id,
        .source_schema = r->source.schema,
        .source_table = r->source.table,
        .source_id = r->source.id,
        .name = r->name,
        .price = r->price,
        .currency = r->currency,
        .webhook_url = r->webhook_url,
        .store_id = target ? target->store_id : NULL,
    };
    charge_run(r->api.app, &order, on_charged, r);
}

static void on_reservation(reservation_record *record, const app_error *err, void *data)
{
    charge_request *r = data;
    if (err) {
        api_request_fail(&r->api, err);
        return;
    }
    r->reservation = record;
    record_password check = {r->api.ex, record->id, record->password_hash, r->password,
                             reservation_store_upgrade_password};
    record_password_check(r->api.app, &check, on_password, r);
}

/* Once the caller's Idempotency-Key, if any, is held. */
static void start_charge(api_request *api)
{
    charge_request *r = (charge_request *)api;
    if (r->reservation_id)
        reservation_store_find_by_id(api->app->db, r->reservation_id, on_reservation, r);
    else
        reservation_store_find_by_source(api->app->db, &r->reservation_source, on_reservation, r);
}

/* reservation: {id} or {source: {schema, table, id}}, one of them. */
static bool read_reservation(charge_request *r, const api_input *in)
{
    api_input reservation;
    if (!api_input_object(in, "reservation", &reservation))
        return false;
    bool by_id = json_object_get(reservation.object, "id") != NULL;
    if (by_id && json_object_get(reservation.object, "source"))
        return api_input_refuse(&reservation, "source", "must be left out when reservation.id names it");
    return by_id ? api_input_uuid(&reservation, "id", &r->reservation_id)
                 : payment_input_source(&reservation, &r->reservation_source);
}

static bool read_route(charge_request *r, const api_input *in)
{
    const json_t *route = json_object_get(in->object, "route");
    return !route || json_is_null(route) || api_input_string(in, "route", ROUTE_TABLE_FIELD_MAX, &r->route);
}

static bool read_charge_input(api_request *api, const api_input *in)
{
    charge_request *r = (charge_request *)api;
    webhook_destination_policy destinations = webhook_destination_policy_of(&api->app->config);
    return read_reservation(r, in) && payment_input_password(in, &r->password) &&
           payment_input_source(in, &r->source) && api_input_string(in, "name", PAYMENT_TEXT_MAX, &r->name) &&
           api_input_number(in, "price", 0, PAYMENT_PRICE_MAX, &r->price) &&
           (r->price > 0 || api_input_refuse(in, "price", "must be more than 0")) &&
           api_input_string(in, "currency", 3, &r->currency) &&
           (route_table_is_currency(r->currency) ||
            api_input_refuse(in, "currency", "must be an ISO 4217 code (three capital letters)")) &&
           payment_input_webhook_url(in, &destinations, &r->webhook_url) && read_route(r, in);
}

void charges_create(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    _Static_assert(offsetof(charge_request, api) == 0, "api_request must come first");
    charge_request *r = api_request_new(sizeof(charge_request), ex, context, request_release);
    if (r && api_request_input(&r->api, read_charge_input))
        idempotency_begin(&r->api, &r->source, r->password, start_charge);
}
