/* Subscriptions: POST /payments/subscriptions charges a reservation's billing
 * key on a schedule; PATCH /payments/subscriptions/:id reads one; PUT
 * .../:id/pause, /resume and /cancel change it. Every route takes the
 * reservation's password, checked as a record's password (limits included). */
#include "subscription_routes.h"

#include "api_request.h"
#include "db_row.h"
#include "payment_input.h"
#include "record_password.h"
#include "reservation_store.h"
#include "subscription_clock.h"
#include "subscription_schedule.h"
#include "subscription_store.h"
#include "webhook_outbox.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct subscription_request {
    api_request api; /* first: the request is answered and freed through it */
    char id[40];     /* the subscription's, for the routes under :id */
    const char *password;
    const char *reservation_id;  /* as given, or NULL when by source */
    payment_source_input source; /* the reservation's, when by source */
    subscription_schedule schedule;
    double amount;
    char amount_text[32];
    const char *currency;
    const char *name;
    const char *webhook_url;
    char now[SUBSCRIPTION_CLOCK_MAX];
    subscription_new insert;
    subscription_change change;
    void (*after_check)(struct subscription_request *r); /* once the password matched */
    reservation_record *reservation;                     /* POST: found, awaiting the password check */
    subscription_record *subscription;                   /* the routes under :id */
} subscription_request;

static void request_release(api_request *api)
{
    subscription_request *r = (subscription_request *)api;
    reservation_record_free(r->reservation);
    subscription_record_free(r->subscription);
}

static subscription_request *request_new(http_exchange *ex, worker *w)
{
    _Static_assert(offsetof(subscription_request, api) == 0, "api_request must come first");
    return api_request_new(sizeof(subscription_request), ex, w, request_release);
}

/* Answers record's document with status, or err, and ends the request. */
static void answer(subscription_request *r, int status, subscription_record *record, const app_error *err)
{
    json_t *doc = NULL;
    app_error json_err = {0};
    if (!err && !(doc = json_loads(record->document, 0, NULL)))
        app_error_set(&json_err, 500, "the subscription cannot be read");
    subscription_record_free(record);
    api_request_answer(&r->api, status, doc, err ? err : doc ? NULL : &json_err);
}

static void on_checked(const app_error *err, void *data)
{
    subscription_request *r = data;
    if (err)
        api_request_fail(&r->api, err);
    else
        r->after_check(r);
}

/* ---- the routes under /payments/subscriptions/:id ---- */

static void answer_found(subscription_request *r)
{
    subscription_record *record = r->subscription;
    r->subscription = NULL;
    answer(r, 200, record, NULL);
}

/* A change may have queued its notification: the outbox goes at once. */
static void on_changed(subscription_record *record, const app_error *err, void *data)
{
    subscription_request *r = data;
    if (!err)
        webhook_outbox_kick(r->api.app->outbox);
    answer(r, 200, record, err);
}

static void apply_change(subscription_request *r)
{
    worker *w = r->api.app;
    const char *now = subscription_clock_read(&w->config, r->now, NULL);
    subscription_store_change(w->db, &w->history_seal, r->id, r->change, now, on_changed, r);
}

static void on_found(subscription_record *record, const app_error *err, void *data)
{
    subscription_request *r = data;
    if (err) {
        api_request_fail(&r->api, err);
        return;
    }
    r->subscription = record;
    record_password check = {r->api.ex, record->reservation_id, record->password_hash, r->password,
                             reservation_store_upgrade_password};
    record_password_check(r->api.app, &check, on_checked, r);
}

static bool read_password(api_request *api, const api_input *in)
{
    return payment_input_password(in, &((subscription_request *)api)->password);
}

/* Reads the :id and the password, then finds the subscription and checks
 * the password; after_check runs once it matched. */
static void start_by_id(http_exchange *ex, const http_route_params *params, void *context,
                        void (*after_check)(subscription_request *r), subscription_change change)
{
    const char *id = http_route_param(params, "id");
    if (!id || !api_input_is_uuid(id)) {
        http_respond_error(ex, 400, "id must be a UUID");
        return;
    }
    subscription_request *r = request_new(ex, context);
    if (!r || !api_request_input(&r->api, read_password))
        return;
    snprintf(r->id, sizeof r->id, "%s", id);
    r->after_check = after_check;
    r->change = change;
    subscription_store_find(r->api.app->db, r->id, on_found, r);
}

void subscriptions_at(http_exchange *ex, const http_route_params *params, void *context)
{
    start_by_id(ex, params, context, answer_found, SUBSCRIPTION_PAUSE);
}

void subscriptions_pause(http_exchange *ex, const http_route_params *params, void *context)
{
    start_by_id(ex, params, context, apply_change, SUBSCRIPTION_PAUSE);
}

void subscriptions_resume(http_exchange *ex, const http_route_params *params, void *context)
{
    start_by_id(ex, params, context, apply_change, SUBSCRIPTION_RESUME);
}

void subscriptions_cancel(http_exchange *ex, const http_route_params *params, void *context)
{
    start_by_id(ex, params, context, apply_change, SUBSCRIPTION_CANCEL);
}

/* ---- POST /payments/subscriptions ---- */

static void on_inserted(subscription_record *record, const app_error *err, void *data)
{
    answer(data, 201, record, err);
}

static void insert(subscription_request *r)
{
    db_amount_text(r->amount, r->amount_text, sizeof r->amount_text);
    r->insert = (subscription_new){
        r->reservation->id, r->amount_text,
        r->currency,        r->name,
        r->schedule.days,   r->schedule.last_day ? "true" : "false",
        r->schedule.time,   r->schedule.zone,
        r->webhook_url,     subscription_clock_read(&r->api.app->config, r->now, NULL),
    };
    subscription_store_insert(r->api.app->db, &r->insert, on_inserted, r);
}

static void on_reservation(reservation_record *record, const app_error *err, void *data)
{
    subscription_request *r = data;
    if (err) {
        api_request_fail(&r->api, err);
        return;
    }
    r->reservation = record;
    r->after_check = insert;
    record_password check = {r->api.ex, record->id, record->password_hash, r->password,
                             reservation_store_upgrade_password};
    record_password_check(r->api.app, &check, on_checked, r);
}

/* The reservation: reservation_id, or the reservation's source. */
static bool read_reservation(const api_input *in, subscription_request *r)
{
    if (json_object_get(in->object, "reservation_id"))
        return api_input_uuid(in, "reservation_id", &r->reservation_id);
    return payment_input_source(in, &r->source);
}

static bool read_currency(const api_input *in, const char **out)
{
    if (!api_input_string(in, "currency", 3, out))
        return false;
    const char *c = *out;
    bool code =
        strlen(c) == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] >= 'A' && c[2] <= 'Z';
    return code || api_input_refuse(in, "currency", "must be an ISO 4217 code (three capital letters)");
}

static bool read_create_input(api_request *api, const api_input *in)
{
    subscription_request *r = (subscription_request *)api;
    webhook_destination_policy destinations = webhook_destination_policy_of(&api->app->config);
    if (!read_reservation(in, r) || !payment_input_password(in, &r->password) ||
        !api_input_number(in, "amount", 0, PAYMENT_PRICE_MAX, &r->amount) || !read_currency(in, &r->currency) ||
        !api_input_string(in, "name", PAYMENT_TEXT_MAX, &r->name) || !subscription_schedule_read(in, &r->schedule) ||
        !payment_input_webhook_url(in, &destinations, &r->webhook_url))
        return false;
    return r->amount > 0 || api_input_refuse(in, "amount", "must be more than 0");
}

void subscriptions_create(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    subscription_request *r = request_new(ex, context);
    if (!r || !api_request_input(&r->api, read_create_input))
        return;
    if (r->reservation_id)
        reservation_store_find_by_id(r->api.app->db, r->reservation_id, on_reservation, r);
    else
        reservation_store_find_by_source(r->api.app->db, &r->source, on_reservation, r);
}
