/* Toss's Idempotency-Key, as Toss documents it (docs.tosspayments.com, "인증
 * 및 기타 헤더 설정 > 멱등키 헤더"): every POST may carry one, GET ignores it.
 * A request whose key, secret key, URL and method repeat an earlier one is
 * not made again: it gets the first answer, status and body, errors too. A
 * key over 300 characters: 400 INVALID_IDEMPOTENCY_KEY ("멱등키는 300자 이하여야
 * 합니다."). A repeat while the first is still being processed: 409
 * IDEMPOTENT_REQUEST_PROCESSING ("이전 멱등 요청이 처리중입니다."). A key lives 15
 * days; here it lives the fake's record lifetime (--ttl-ms), within its
 * capacity. Toss documents nothing for the same key with another body
 * (merchants report getting the first answer); the fake refuses it with 400
 * INVALID_IDEMPOTENCY_KEY, so that a client that reuses a key for another
 * request fails its tests instead of reading another request's answer. */
#include "fake_stats.h"
#include "fake_toss.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_TOSS_IDEMPOTENCY_KEY_MAX 300

static bool idempotency_applies(const http_request *req)
{
    return strcmp(req->method_name, "POST") == 0 && strncmp(req->path, "/v1/", 4) == 0;
}

/* Toss counts characters (300자), so UTF-8 continuation bytes do not count. */
static size_t idempotency_key_length(const char *key)
{
    size_t count = 0;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if ((*p & 0xC0) != 0x80)
            count++;
    return count;
}

/* The scope Toss keys on: the secret key (as the Authorization header carries
 * it), the method, the URL and the key. malloc'd, or NULL. */
static char *idempotency_scope(const http_request *req, const char *key)
{
    const char *authorization = http_request_header(req, "Authorization");
    if (!authorization)
        authorization = "";
    int len = snprintf(NULL, 0, "%s\n%s %s\n%s", authorization, req->method_name, req->target, key);
    char *scope = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (scope)
        snprintf(scope, (size_t)len + 1, "%s\n%s %s\n%s", authorization, req->method_name, req->target, key);
    return scope;
}

/* The request as a repeat is compared with: its JSON in one canonical form,
 * so that the order of members and the spacing do not matter, else its
 * bytes. NULL when it cannot be kept (bytes that are no UTF-8). */
static json_t *idempotency_request_text(const http_request *req)
{
    json_t *parsed = req->body_len > 0 ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
    char *canonical = parsed ? json_dumps(parsed, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    json_decref(parsed);
    json_t *text = canonical ? json_string(canonical) : json_stringn(req->body ? req->body : "", req->body_len);
    free(canonical);
    return text;
}

static void idempotency_refuse(fake_server *fs, http_exchange *ex, const char *counter, int status, const char *code,
                               const char *message)
{
    fake_stats_count(fs, counter);
    fake_toss_respond_error(ex, status, code, message);
}

/* A repeat of first: refused, or answered as first was, without its effect. */
static void idempotency_repeat(fake_server *fs, http_exchange *ex, const json_t *first, const json_t *request)
{
    if (!json_equal(json_object_get(first, "request"), request)) {
        idempotency_refuse(fs, ex, "idempotent_mismatches", 400, "INVALID_IDEMPOTENCY_KEY",
                           "This Idempotency-Key was used for another request.");
        return;
    }
    /* The first answer is still held (the latency setting): for its client
     * the first request is still being processed. */
    if ((int64_t)uv_now(fs->loop) < fake_toss_record_integer(first, "ready_at")) {
        idempotency_refuse(fs, ex, "idempotent_in_progress", 409, "IDEMPOTENT_REQUEST_PROCESSING",
                           "The first request of this Idempotency-Key is still being processed.");
        return;
    }
    fake_stats_count(fs, "idempotent_replays");
    const json_t *answer = json_object_get(first, "answer");
    fake_respond(ex, (int)fake_toss_record_integer(first, "status"), json_string_value(json_object_get(first, "type")),
                 json_string_value(answer), json_string_length(answer));
}

static void idempotency_keep(fake_server *fs, const char *scope, json_t *request, const fake_answer_capture *capture)
{
    const fake_answer_copy *answer = &capture->answer;
    json_int_t ready_at = (json_int_t)(uv_now(fs->loop) + capture->delay_ms);
    json_t *record = json_pack("{s:O, s:i, s:s?, s:s%, s:I}", "request", request, "status", answer->status, "type",
                               answer->content_type, "answer", answer->body, answer->body_len, "ready_at", ready_at);
    if (!record || fake_store_put(fake_toss_state_of(fs)->answers, scope, record) != 0)
        log_error("the answer to an Idempotency-Key could not be kept: a repeat would be made again");
}

/* The first request of a scope: made, and its answer kept for repeats. */
static void idempotency_first(const fake_server_spec *spec, http_exchange *ex, fake_server *fs, const char *scope,
                              json_t *request)
{
    fake_answer_capture capture;
    fake_answer_capture_begin(fs, &capture, ex);
    fake_server_route(spec, ex, fs);
    if (capture.taken)
        idempotency_keep(fs, scope, request, &capture);
    fake_answer_capture_end(fs, &capture);
}

void fake_toss_serve(const fake_server_spec *spec, http_exchange *ex, fake_server *fs)
{
    const http_request *req = http_exchange_request(ex);
    const char *key = http_request_header(req, "Idempotency-Key");
    if (!key || !idempotency_applies(req)) {
        fake_server_route(spec, ex, fs);
        return;
    }
    if (*key == '\0' || idempotency_key_length(key) > FAKE_TOSS_IDEMPOTENCY_KEY_MAX) {
        idempotency_refuse(fs, ex, "idempotent_invalid_keys", 400, "INVALID_IDEMPOTENCY_KEY",
                           "Idempotency-Key must be 1 to 300 characters.");
        return;
    }
    char *scope = idempotency_scope(req, key);
    json_t *request = scope ? idempotency_request_text(req) : NULL;
    if (!scope) {
        fake_toss_respond_error(ex, 500, "FAILED_INTERNAL_SYSTEM_PROCESSING", "Out of memory.");
    } else if (!request) {
        /* A body that is no UTF-8 is refused by the route without an effect. */
        fake_server_route(spec, ex, fs);
    } else {
        json_t *first = fake_store_get(fake_toss_state_of(fs)->answers, scope);
        if (first)
            idempotency_repeat(fs, ex, first, request);
        else
            idempotency_first(spec, ex, fs, scope, request);
    }
    free(scope);
    json_decref(request);
}
