/* The steps Toss handlers share around their own work: the Basic auth and the
 * body, the record a path names (or Toss's 404), and keeping a new record and
 * answering with it. Each step answers the request itself when it fails. */
#include "fake_stats.h"
#include "fake_toss.h"

json_t *fake_toss_authorized_body(fake_server *fs, http_exchange *ex)
{
    return fake_toss_authorized(fs, ex) ? fake_toss_read_body(ex, false) : NULL;
}

json_t *fake_toss_find_record(http_exchange *ex, fake_store *store, const char *key, const char *code,
                              const char *message)
{
    json_t *record = fake_store_get(store, key);
    if (record == NULL)
        fake_toss_respond_error(ex, 404, code, message);
    return record;
}

json_t *fake_toss_find_payment(fake_server *fs, http_exchange *ex, const char *payment_key)
{
    return fake_toss_find_record(ex, fake_toss_state_of(fs)->payments, payment_key, "NOT_FOUND_PAYMENT",
                                 "No payment has this paymentKey.");
}

json_t *fake_toss_authorized_payment(fake_server *fs, http_exchange *ex, const http_route_params *params)
{
    if (!fake_toss_authorized(fs, ex))
        return NULL;
    return fake_toss_find_payment(fs, ex, http_route_param(params, "paymentKey"));
}

json_t *fake_toss_payment_body(fake_server *fs, http_exchange *ex, const http_route_params *params, json_t **payment)
{
    *payment = fake_toss_authorized_payment(fs, ex, params);
    return *payment != NULL ? fake_toss_read_body(ex, false) : NULL;
}

int fake_toss_store_record(http_exchange *ex, fake_store *store, const char *key, json_t *record)
{
    if (fake_store_put(store, key, json_incref(record)) == 0)
        return 0;
    fake_toss_respond_error(ex, 500, "FAILED_INTERNAL_SYSTEM_PROCESSING", "The record could not be stored.");
    return -1;
}

int fake_toss_store_new(http_exchange *ex, fake_store *store, const char *key_field, json_t *record,
                        const char *failure)
{
    if (record != NULL)
        return fake_toss_store_record(ex, store, fake_toss_record_string(record, key_field), record);
    fake_toss_respond_error(ex, 500, "FAILED_INTERNAL_SYSTEM_PROCESSING", failure);
    return -1;
}

void fake_toss_create(fake_server *fs, http_exchange *ex, fake_store *store, const fake_toss_creation *how)
{
    json_t *body = fake_toss_authorized_body(fs, ex);
    if (body == NULL)
        return;
    app_error err = {0};
    json_t *record = how->build(fake_toss_state_of(fs), body, &err);
    json_decref(body);
    if (err.status != 0) {
        fake_toss_respond_app_error(ex, &err);
    } else if (fake_toss_store_new(ex, store, how->key_field, record, how->failure) == 0) {
        fake_stats_count(fs, how->counter);
        if (how->announce)
            fake_toss_send_status_webhook(fs, record);
        fake_respond_json(ex, 201, json_incref(record));
    }
    json_decref(record);
}
