/* Charge attempts: every answer a vendor gave to a charge, paid or refused,
 * read back with the reservation's password (its limits apply, as to any
 * record's): PATCH /payments/charges/attempts/:id one attempt, PATCH
 * /payments/charges/attempts a reservation's, newest first. The vendor's
 * answer is stored sealed and opened only for an answer. */
#include "worker.h"

#include "api_lookup.h"
#include "charge_store.h"
#include "record_password.h"
#include "reservation_store.h"
#include "sealed_json.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most attempts one list answers: a reservation charged monthly for years. */
#define CHARGE_ATTEMPTS_LIMIT 500

typedef struct attempts_request {
    api_request api; /* first: the request is answered and freed through it */
    char id[40];     /* the attempt's, or the reservation's for a list */
    const char *password;
    bool list;
    json_t *found; /* the attempt or the list, awaiting the password check */
    char *password_hash;
    char reservation_id[40];
} attempts_request;

static void request_release(api_request *api)
{
    attempts_request *r = (attempts_request *)api;
    json_decref(r->found);
    free(r->password_hash);
}

/* Replaces an attempt's sealed answer with the document, or null. */
static void open_answer(json_t *attempt, const seal_ring *ring)
{
    const char *sealed = json_string_value(json_object_get(attempt, "answer"));
    json_t *answer = sealed ? sealed_json_open(ring, sealed) : NULL;
    json_object_set_new(attempt, "answer", answer ? answer : json_null());
}

static void on_password(const app_error *err, void *data)
{
    attempts_request *r = data;
    if (err) {
        api_request_fail(&r->api, err);
        return;
    }
    const seal_ring *ring = &r->api.app->history_seal;
    if (r->list) {
        size_t i;
        json_t *attempt;
        json_array_foreach(r->found, i, attempt) open_answer(attempt, ring);
    } else {
        open_answer(r->found, ring);
    }
    json_t *doc = r->found;
    r->found = NULL;
    api_request_answer(&r->api, 200, doc, NULL);
}

static void on_found(PGresult *res, const app_error *err, void *data)
{
    attempts_request *r = data;
    app_error failed = {0};
    if (!err && PQntuples(res) != 1)
        app_error_set(&failed, 404, r->list ? "payment reservation not found" : "charge attempt not found");
    if (!err && !failed.status) {
        r->found = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
        r->password_hash = strdup(PQgetvalue(res, 0, 1));
        snprintf(r->reservation_id, sizeof r->reservation_id, "%s", PQgetvalue(res, 0, 2));
        if (!r->found || !r->password_hash)
            app_error_set(&failed, 500, "cannot read the charge attempts");
    }
    if (err || failed.status) {
        api_request_fail(&r->api, err ? err : &failed);
        return;
    }
    record_password check = {r->api.ex, r->reservation_id, r->password_hash, r->password,
                             reservation_store_upgrade_password};
    record_password_check(r->api.app, &check, on_password, r);
}

static attempts_request *request_new(http_exchange *ex, worker *w)
{
    _Static_assert(offsetof(attempts_request, api) == 0, "api_request must come first");
    return api_request_new(sizeof(attempts_request), ex, w, request_release);
}

void charge_attempts_at(http_exchange *ex, const http_route_params *params, void *context)
{
    const char *id = api_lookup_path_id(ex, params);
    attempts_request *r = id ? request_new(ex, context) : NULL;
    if (!r)
        return;
    app_error err = {0};
    api_input in;
    api_input_init(&in, r->api.body, &err);
    if (!payment_input_password(&in, &r->password)) {
        api_request_fail(&r->api, &err);
        return;
    }
    snprintf(r->id, sizeof r->id, "%s", id);
    charge_store_attempt(r->api.app->db, r->id, on_found, r);
}

void charge_attempts_list(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    attempts_request *r = request_new(ex, context);
    if (!r)
        return;
    app_error err = {0};
    api_input in;
    api_input_init(&in, r->api.body, &err);
    const char *reservation_id;
    if (!api_input_uuid(&in, "reservation_id", &reservation_id) || !payment_input_password(&in, &r->password)) {
        api_request_fail(&r->api, &err);
        return;
    }
    snprintf(r->id, sizeof r->id, "%s", reservation_id);
    r->list = true;
    charge_store_attempts(r->api.app->db, r->id, CHARGE_ATTEMPTS_LIMIT, on_found, r);
}
