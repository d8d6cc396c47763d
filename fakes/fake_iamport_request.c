/* The steps iamport handlers share around their own work: the token checked
 * first, the body read and checked, the record a path names found (or a 404
 * naming what is missing) and the answer, each answering itself on failure. */
#include "fake_iamport.h"

static json_t *read_json_object(http_exchange *ex)
{
    const http_request *req = http_exchange_request(ex);
    if (!req->body || req->body_len == 0) {
        fake_iamport_fail(ex, 400, "the request body must be a JSON object");
        return NULL;
    }
    json_error_t error;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &error);
    if (!body) {
        char message[256];
        snprintf(message, sizeof message, "the request body is not valid JSON: %s", error.text);
        fake_iamport_fail(ex, 400, message);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        fake_iamport_fail(ex, 400, "the request body must be a JSON object");
        return NULL;
    }
    return body;
}

json_t *fake_iamport_read_body(http_exchange *ex, fake_iamport_body_check check)
{
    json_t *body = read_json_object(ex);
    app_error err = {0};
    if (!body || !check || check(body, &err))
        return body;
    json_decref(body);
    fake_iamport_fail_error(ex, &err);
    return NULL;
}

json_t *fake_iamport_lookup(fake_store *store, const char *key, const char *missing, app_error *err)
{
    json_t *record = fake_store_get(store, key);
    if (!record)
        app_error_set(err, 404, "%s", missing);
    return record;
}

json_t *fake_iamport_find(http_exchange *ex, fake_store *store, const char *key, const char *missing)
{
    app_error err = {0};
    json_t *record = fake_iamport_lookup(store, key, missing, &err);
    if (!record)
        fake_iamport_fail_error(ex, &err);
    return record;
}

void fake_iamport_reply_found(http_exchange *ex, fake_store *store, const char *key, const char *missing)
{
    json_t *record = fake_iamport_find(ex, store, key, missing);
    if (record)
        fake_iamport_reply(ex, 200, record);
}

void fake_iamport_reply_removed(http_exchange *ex, fake_store *store, const char *key, const char *missing)
{
    json_t *record = json_incref(fake_iamport_find(ex, store, key, missing));
    if (!record)
        return;
    fake_store_remove(store, key);
    fake_iamport_reply(ex, 200, record);
    json_decref(record);
}

void fake_iamport_call_answer(http_exchange *ex, const http_route_params *params, fake_server *fs,
                              const fake_iamport_call *call)
{
    json_t *body = fake_iamport_authorize(ex, fs) ? fake_iamport_read_body(ex, call->check) : NULL;
    if (!body)
        return;
    app_error err = {0};
    json_t *record = call->work(fs, body, params, &err);
    json_decref(body);
    if (!record) {
        fake_iamport_fail_error(ex, &err);
        return;
    }
    fake_iamport_reply(ex, call->status, record);
    json_decref(record);
}
