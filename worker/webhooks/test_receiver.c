/* The test receiver of the original server, POST /payments/internal/webhook:
 * histories of local setups and of our tests point their webhook_url at it.
 * It keeps what it receives in a table (workers share no memory), with
 * whether the signature verified, and GET /payments/internal/webhook
 * ?history_id= reads that back. Both answer 404 unless PAYMENT_MODE=local. */
#include "worker.h"

#include "api_body.h"
#include "api_input.h"
#include "log.h"
#include "query_param.h"
#include "sealed_json.h"
#include "webhook_signature.h"
#include "webhook_store.h"

#include <stdlib.h>
#include <string.h>

typedef struct receiver_call {
    http_exchange *ex;
    worker *app;
} receiver_call;

static receiver_call *call_new(http_exchange *ex, worker *w)
{
    if (w->config.mode != CFG_MODE_LOCAL) {
        http_respond_error(ex, 404, "the test receiver exists in local mode only");
        return NULL;
    }
    receiver_call *call = malloc(sizeof *call);
    if (!call) {
        http_respond_error(ex, 500, "out of memory");
        return NULL;
    }
    *call = (receiver_call){ex, w};
    return call;
}

/* ---- POST: keep one notification ---- */

static void on_kept(const app_error *err, void *data)
{
    receiver_call *call = data;
    size_t len = 0;
    /* The original answers an empty encrypted body. */
    char *sealed = err ? NULL : crypto_cbc_encrypt_base64(&call->app->connection_key, "", 0, &len);
    if (err)
        api_respond_error(call->ex, err);
    else if (!sealed)
        http_respond_error(call->ex, 500, "cannot encrypt the answer");
    else
        http_respond(call->ex, 201, "text/plain; charset=utf-8", sealed, len);
    free(sealed);
    free(call);
}

static bool signature_verifies(const worker *w, const http_request *request)
{
    return webhook_signature_verify(w->config.webhook_secret, http_request_header(request, WEBHOOK_TIMESTAMP_HEADER),
                                    request->body, request->body_len,
                                    http_request_header(request, WEBHOOK_SIGNATURE_HEADER));
}

static bool read_ids(const json_t *doc, webhook_received *out, app_error *err)
{
    api_input in, current;
    api_input_init(&in, doc, err);
    return api_input_uuid(&in, "id", &out->webhook_id) && api_input_object(&in, "current", &current) &&
           api_input_uuid(&current, "id", &out->history_id);
}

void test_receiver_keep(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    receiver_call *call = call_new(ex, context);
    if (!call)
        return;
    worker *w = call->app;
    const http_request *request = http_exchange_request(ex);
    app_error err = {0};
    webhook_received received = {0};
    json_t *doc = api_body_read(&w->connection_key, request, &err);
    char *sealed = doc && read_ids(doc, &received, &err) ? sealed_json_seal(&w->history_seal, doc) : NULL;
    if (!sealed) {
        if (!err.status)
            app_error_set(&err, 500, "cannot seal the notification");
        json_decref(doc);
        on_kept(&err, call);
        return;
    }
    received.signed_ok = signature_verifies(w, request);
    received.body = sealed;
    webhook_store_keep_received(w->db, &received, on_kept, call);
    free(sealed);
    json_decref(doc);
}

/* ---- GET: what was kept for a history ---- */

static json_t *received_json(PGresult *res, const seal_ring *ring)
{
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(res); i++) {
        json_t *webhook = sealed_json_open(ring, PQgetvalue(res, i, 1));
        bool signed_ok = strcmp(PQgetvalue(res, i, 0), "t") == 0;
        json_t *item = webhook ? json_pack("{s:b, s:o}", "signed", signed_ok, "webhook", webhook) : NULL;
        if (!item || json_array_append_new(list, item) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static void on_listed(PGresult *res, const app_error *err, void *data)
{
    receiver_call *call = data;
    json_t *list = err ? NULL : received_json(res, &call->app->history_seal);
    if (err)
        api_respond_error(call->ex, err);
    else if (!list)
        http_respond_error(call->ex, 500, "the kept notifications cannot be read");
    else
        api_body_respond(call->ex, &call->app->connection_key, 200, list);
    json_decref(list);
    free(call);
}

void test_receiver_list(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    char history_id[40];
    const http_request *request = http_exchange_request(ex);
    worker *w = context;
    if (w->config.mode == CFG_MODE_LOCAL &&
        (!query_param(request->query, "history_id", history_id, sizeof history_id) || !api_input_is_uuid(history_id))) {
        http_respond_error(ex, 400, "history_id must be a UUID");
        return;
    }
    receiver_call *call = call_new(ex, w);
    if (call)
        webhook_store_list_received(w->db, history_id, on_listed, call);
}
