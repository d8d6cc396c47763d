/* api_request: the one place a history, cancel or reservation request is
 * freed, so that each answer path (success, refusal, failure) frees it
 * exactly once and the decrypted body, which holds the password, never
 * outlives the answer. A request is work in flight from its allocation to its
 * free, whether or not its client is still there: a drain waits for it. */
#include "api_request.h"

#include "api_body.h"
#include "error_answer.h"
#include "history_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The connection keys a body may come under now: the current one, and the
 * previous one until its grace period ends (wall-clock time, as the
 * operator wrote the instant). */
static size_t connection_keys(const worker *w, const crypto_cbc_key *keys[2])
{
    keys[0] = &w->connection_key;
    struct timespec now;
    if (w->config.connection_grace_until_ms <= 0 || clock_gettime(CLOCK_REALTIME, &now) != 0)
        return 1;
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (now_ms >= w->config.connection_grace_until_ms)
        return 1;
    keys[1] = &w->connection_previous;
    return 2;
}

void *api_request_new(size_t size, http_exchange *ex, worker *w, api_request_release_fn release)
{
    api_request *request = calloc(1, size);
    if (!request) {
        http_respond_error(ex, 500, "out of memory");
        return NULL;
    }
    request->ex = ex;
    request->app = w;
    request->release = release;
    worker_work_begin(w);
    app_error err = {0};
    const crypto_cbc_key *keys[2];
    size_t count = connection_keys(w, keys);
    request->body = api_body_read_any(keys, count, http_exchange_request(ex), &request->key, &err);
    if (!request->body) {
        api_respond_error(ex, &err);
        free(request);
        worker_work_end(w);
        return NULL;
    }
    return request;
}

static void request_free(api_request *request)
{
    worker *w = request->app;
    idempotency_claim_free(request->idempotency);
    if (request->release)
        request->release(request);
    json_decref(request->body);
    free(request);
    worker_work_end(w);
}

static void answer_send(http_exchange *ex, const idempotency_answer *answer)
{
    if (answer->body)
        http_respond(ex, answer->status, answer->content_type, answer->body, answer->len);
    else
        http_respond_error(ex, 500, "cannot encode the answer");
}

static void on_answer_kept(const idempotency_answer *answer, void *data)
{
    api_request *request = data;
    answer_send(request->ex, answer);
    request_free(request);
}

/* Every answer ends here, body taken (NULL: it could not be made, a 500). */
static void request_end(api_request *request, int status, const char *content_type, char *body, size_t len)
{
    idempotency_answer answer = {body ? status : 500, content_type, body, len};
    idempotency_claim *claim = request->idempotency;
    if (claim) {
        request->idempotency = NULL;
        idempotency_finish(claim, &answer, request->operation_id, on_answer_kept, request);
        return;
    }
    answer_send(request->ex, &answer);
    free(body);
    request_free(request);
}

bool api_request_input(api_request *request, api_request_read_fn read)
{
    app_error err = {0};
    api_input in;
    api_input_init(&in, request->body, &err);
    if (!read(request, &in)) {
        api_request_fail(request, &err);
        return false;
    }
    return true;
}

void api_request_fail(api_request *request, const app_error *err)
{
    int status = error_answer_status(err);
    char *body = error_answer_body(err);
    error_answer_headers(request->ex, err);
    request_end(request, status, HTTP_ERROR_CONTENT_TYPE, body, body ? strlen(body) : 0);
}

void api_request_answer(api_request *request, int status, json_t *doc, const app_error *err)
{
    if (!doc) {
        api_request_fail(request, err);
        return;
    }
    size_t len = 0;
    char *sealed = api_body_seal_json(request->key, doc, &len);
    json_decref(doc);
    request_end(request, status, API_BODY_CONTENT_TYPE, sealed, len);
}

void api_request_answer_text(api_request *request, int status, const json_text *text, const app_error *err)
{
    size_t len = 0;
    const char *printed = text ? json_text_result(text, &len) : NULL;
    if (!printed) {
        api_request_fail(request, err);
        return;
    }
    size_t sealed_len = 0;
    char *sealed = api_body_seal(request->key, printed, len, &sealed_len);
    request_end(request, status, API_BODY_CONTENT_TYPE, sealed, sealed_len);
}

void api_request_answer_stored(api_request *request, int status, const char *content_type, const char *body, size_t len)
{
    http_respond(request->ex, status, content_type, body, len);
    request_free(request);
}

void api_request_answer_history(api_request *request, int status, history_record *record, const app_error *err)
{
    app_error print_err = {0};
    json_text text;
    json_text_init(&text);
    if (!err && history_json_text(record, &request->app->history_seal, &text, &print_err) < 0)
        err = &print_err;
    history_record_free(record);
    api_request_answer_text(request, status, err ? NULL : &text, err);
    json_text_free(&text);
}

void api_request_fail_vendor(api_request *request, const app_error *err)
{
    app_error refused = *err;
    if (refused.status == 404)
        refused.status = 422;
    api_request_fail(request, &refused);
}

void api_request_retry_after_reconcile(api_request *request)
{
    uint64_t ms = request->app->config.reconcile_interval_ms;
    char seconds[24];
    snprintf(seconds, sizeof seconds, "%" PRIu64, ms < 1000 ? 1 : (ms + 999) / 1000);
    http_exchange_add_header(request->ex, "Retry-After", seconds);
}
