/* Reservations (billing keys): POST /payments/reservations records a billing
 * key the vendor vouches for (iamport customer_uid; Toss billingKey, whose
 * customerKey must be source.id); PATCH /payments/reservations/get and /:id
 * read one back with its password. */
#include "worker.h"

#include "api_body.h"
#include "history_json.h"
#include "log.h"
#include "payment_input.h"
#include "reservation_store.h"
#include "sealed_json.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct reservation_request {
    http_exchange *ex;
    worker *app;
    json_t *body; /* the decrypted request: the input strings live in it */
    payment_vendor_input vendor;
    payment_source_input source;
    const char *title;
    const char *password;
    char id[40]; /* PATCH /:id */
    const vendor_store *store;
    char *password_hash;
    char *data; /* the vendor's billing document, sealed */
    reservation_new insert;
    reservation_record *record; /* found, awaiting the password check */
} reservation_request;

static reservation_request *request_new(http_exchange *ex, worker *w)
{
    reservation_request *r = calloc(1, sizeof *r);
    if (!r) {
        http_respond_error(ex, 500, "out of memory");
        return NULL;
    }
    r->ex = ex;
    r->app = w;
    app_error err = {0};
    r->body = api_body_read(&w->connection_key, http_exchange_request(ex), &err);
    if (!r->body) {
        api_respond_error(ex, &err);
        free(r);
        return NULL;
    }
    return r;
}

static void request_free(reservation_request *r)
{
    json_decref(r->body);
    free(r->password_hash);
    free(r->data);
    reservation_record_free(r->record);
    free(r);
}

static void fail(reservation_request *r, const app_error *err)
{
    api_respond_error(r->ex, err);
    request_free(r);
}

/* The contract's IPaymentReservation (IamportType / TossType). */
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

static void answer(reservation_request *r, int status, reservation_record *record)
{
    app_error err = {0};
    json_t *doc = reservation_json(record, &r->app->reservation_seal, &err);
    reservation_record_free(record);
    if (!doc) {
        fail(r, &err);
        return;
    }
    api_body_respond(r->ex, &r->app->connection_key, status, doc);
    json_decref(doc);
    request_free(r);
}

/* ---- reads: find, then the password ---- */

static void on_verified(bool match, void *data)
{
    reservation_request *r = data;
    reservation_record *record = r->record;
    r->record = NULL;
    if (!match) {
        reservation_record_free(record);
        app_error err;
        app_error_set(&err, 403, "wrong password");
        fail(r, &err);
        return;
    }
    if (!password_is_current(record->password_hash)) {
        char *hash = password_hash(&r->app->password, r->password);
        if (hash)
            reservation_store_upgrade_password(r->app->db, record->id, record->password_hash, hash);
        free(hash);
    }
    answer(r, 200, record);
}

static void on_found(reservation_record *record, const app_error *err, void *data)
{
    reservation_request *r = data;
    if (err) {
        fail(r, err);
        return;
    }
    r->record = record;
    password_verify(r->app->loop, &r->app->password, record->password_hash, r->password, on_verified, r);
}

void reservations_get(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    reservation_request *r = request_new(ex, context);
    if (!r)
        return;
    app_error err = {0};
    api_input in;
    api_input_init(&in, r->body, &err);
    if (!payment_input_source_fields(&in, &r->source) || !payment_input_password(&in, &r->password)) {
        fail(r, &err);
        return;
    }
    reservation_store_find_by_source(r->app->db, &r->source, on_found, r);
}

void reservations_at(http_exchange *ex, const http_route_params *params, void *context)
{
    const char *id = http_route_param(params, "id");
    if (!id || !api_input_is_uuid(id)) {
        http_respond_error(ex, 400, "id must be a UUID");
        return;
    }
    reservation_request *r = request_new(ex, context);
    if (!r)
        return;
    app_error err = {0};
    api_input in;
    api_input_init(&in, r->body, &err);
    if (!payment_input_password(&in, &r->password)) {
        fail(r, &err);
        return;
    }
    snprintf(r->id, sizeof r->id, "%s", id);
    reservation_store_find_by_id(r->app->db, r->id, on_found, r);
}

/* ---- POST /payments/reservations ---- */

static void on_inserted(reservation_record *record, const app_error *err, void *data)
{
    reservation_request *r = data;
    if (err)
        fail(r, err);
    else
        answer(r, 201, record);
}

static void on_billing(vendor_billing *billing, const app_error *err, void *data)
{
    reservation_request *r = data;
    if (err) {
        app_error refused = *err;
        if (refused.status == 404)
            refused.status = 422; /* the vendor does not know this billing key: it refuses it */
        fail(r, &refused);
        return;
    }
    worker *w = r->app;
    r->data = sealed_json_seal(&w->reservation_seal, billing->data);
    vendor_billing_free(billing);
    r->password_hash = password_hash(&w->password, r->password);
    if (!r->data || !r->password_hash) {
        app_error seal_err;
        app_error_set(&seal_err, 500, "cannot seal the billing document or hash the password");
        fail(r, &seal_err);
        return;
    }
    r->insert = (reservation_new){&r->vendor, &r->source, r->title, r->password_hash, r->data};
    reservation_store_insert(w->db, &r->insert, on_inserted, r);
}

static void on_checked_new(const app_error *err, void *data)
{
    reservation_request *r = data;
    if (err) {
        fail(r, err);
        return;
    }
    const vendor_adapter *adapter = vendor_find(r->vendor.code);
    adapter->fetch_billing(r->app->vendors, r->store, r->vendor.uid, r->source.id, on_billing, r);
}

void reservations_create(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    reservation_request *r = request_new(ex, context);
    if (!r)
        return;
    app_error err = {0};
    api_input in;
    api_input_init(&in, r->body, &err);
    if (!payment_input_vendor(&in, &r->vendor) || !payment_input_source(&in, &r->source) ||
        !api_input_string(&in, "title", PAYMENT_TEXT_MAX, &r->title) || !payment_input_password(&in, &r->password) ||
        !(r->store = payment_input_store(r->app->stores, &r->vendor, &err))) {
        fail(r, &err);
        return;
    }
    reservation_store_check_new(r->app->db, &r->source, &r->vendor, on_checked_new, r);
}
