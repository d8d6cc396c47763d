/* Reservations (billing keys): POST /payments/reservations records a billing
 * key the vendor vouches for (a vendor that binds a key to a customer checks
 * that it is source.id), its vendor given or found by a route;
 * PATCH /payments/reservations/get and /:id read one back with its password. */
#include "worker.h"

#include "api_lookup.h"
#include "history_json.h"
#include "payment_input.h"
#include "record_password.h"
#include "reservation_store.h"
#include "route_input.h"
#include "sealed_json.h"

#include <stddef.h>
#include <stdlib.h>

typedef struct reservation_request {
    api_request api; /* first: the request is answered and freed through it */
    payment_vendor_input vendor;
    payment_source_input source;
    const char *title;
    const char *password;
    api_lookup lookup; /* PATCH .../get and .../:id */
    const vendor_store *store;
    char *password_hash;
    char *data; /* the vendor's billing document, sealed */
    reservation_new insert;
    reservation_record *record; /* found, awaiting the password check */
} reservation_request;

static void request_release(api_request *api)
{
    reservation_request *r = (reservation_request *)api;
    free(r->password_hash);
    free(r->data);
    reservation_record_free(r->record);
}

static reservation_request *request_new(http_exchange *ex, worker *w)
{
    _Static_assert(offsetof(reservation_request, api) == 0, "api_request must come first");
    return api_request_new(sizeof(reservation_request), ex, w, request_release);
}

/* The contract's IPaymentReservation (one type per vendor). */
static json_t *reservation_json(const reservation_record *rec, const seal_ring *ring, app_error *err)
{
    json_t *data = sealed_json_open(ring, rec->data);
    if (!data) {
        app_error_set(err, 500, "the stored payment reservation cannot be read");
        return NULL;
    }
    json_t *doc = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:s}", "id", rec->id, "vendor_code", rec->vendor_code,
                            "vendor", history_json_vendor(rec->vendor_code, rec->vendor_store_id, rec->vendor_uid),
                            "source", history_json_source(rec->source_schema, rec->source_table, rec->source_id),
                            "title", rec->title, "data", data, "created_at", rec->created_at);
    if (!doc)
        app_error_set(err, 500, "out of memory");
    return doc;
}

/* Answers the reservation, or err when there is none, and ends the request. */
static void answer(reservation_request *r, int status, reservation_record *record, const app_error *err)
{
    app_error json_err = {0};
    json_t *doc = err ? NULL : reservation_json(record, &r->api.app->reservation_seal, &json_err);
    reservation_record_free(record);
    api_request_answer(&r->api, status, doc, err ? err : &json_err);
}

/* ---- PATCH /payments/reservations/get and /payments/reservations/:id ---- */

static void on_checked(const app_error *err, void *data)
{
    reservation_request *r = data;
    reservation_record *record = r->record;
    r->record = NULL;
    answer(r, 200, record, err);
}

static void on_found(reservation_record *record, const app_error *err, void *data)
{
    reservation_request *r = data;
    if (err) {
        api_request_fail(&r->api, err);
        return;
    }
    r->record = record;
    record_password check = {r->api.ex, record->id, record->password_hash, r->lookup.password,
                             reservation_store_upgrade_password};
    record_password_check(r->api.app, &check, on_checked, r);
}

void reservations_get(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    reservation_request *r = request_new(ex, context);
    if (r && api_lookup_read(&r->api, NULL, &r->lookup))
        reservation_store_find_by_source(r->api.app->db, &r->lookup.source, on_found, r);
}

void reservations_at(http_exchange *ex, const http_route_params *params, void *context)
{
    const char *id = api_lookup_path_id(ex, params);
    reservation_request *r = id ? request_new(ex, context) : NULL;
    if (r && api_lookup_read(&r->api, id, &r->lookup))
        reservation_store_find_by_id(r->api.app->db, r->lookup.id, on_found, r);
}

/* ---- POST /payments/reservations ---- */

static void on_inserted(reservation_record *record, const app_error *err, void *data)
{
    answer(data, 201, record, err);
}

static void on_billing(vendor_billing *billing, const app_error *err, void *data)
{
    reservation_request *r = data;
    if (err) {
        api_request_fail_vendor(&r->api, err); /* the vendor does not know this billing key */
        return;
    }
    worker *w = r->api.app;
    r->data = sealed_json_seal(&w->reservation_seal, billing->data);
    vendor_billing_free(billing);
    r->password_hash = password_hash(&w->password, r->password);
    if (!r->data || !r->password_hash) {
        app_error seal_err;
        app_error_set(&seal_err, 500, "cannot seal the billing document or hash the password");
        api_request_fail(&r->api, &seal_err);
        return;
    }
    r->insert = (reservation_new){&r->vendor, &r->source, r->title, r->password_hash, r->data};
    reservation_store_insert(w->db, &r->insert, on_inserted, r);
}

static void on_checked_new(const app_error *err, void *data)
{
    reservation_request *r = data;
    if (err) {
        api_request_fail(&r->api, err);
        return;
    }
    const vendor_adapter *adapter = vendor_find(r->vendor.code);
    adapter->fetch_billing(r->api.app->vendors, r->store, r->vendor.uid, r->source.id, on_billing, r);
}

/* Once the caller's Idempotency-Key, if any, is held. */
static void start_create(api_request *api)
{
    reservation_request *r = (reservation_request *)api;
    reservation_store_check_new(r->api.app->db, &r->source, &r->vendor, on_checked_new, r);
}

static bool read_create_input(api_request *api, const api_input *in)
{
    reservation_request *r = (reservation_request *)api;
    return route_input_vendor(in, api->app, &r->vendor) && payment_input_source(in, &r->source) &&
           api_input_string(in, "title", PAYMENT_TEXT_MAX, &r->title) && payment_input_password(in, &r->password) &&
           (r->store = payment_input_store(api->app->stores, &r->vendor, in->err));
}

void reservations_create(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    reservation_request *r = request_new(ex, context);
    if (r && api_request_input(&r->api, read_create_input))
        idempotency_begin(&r->api, &r->source, r->password, start_create);
}
