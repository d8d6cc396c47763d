/* One way to call a vendor: JSON (or a form) in, JSON out, and one mapping from what can
 * go wrong to the error the caller sees. Whose fault it is decides the
 * status: the vendor's refusal is the caller's business (422, 404), while an
 * unreachable or confused vendor, or credentials it rejects, are ours (502,
 * 504). Every call passes its vendor and store's circuit breaker, which
 * refuses at once (503) while the vendor is known dead, and the worker's
 * limit on calls waiting at once, which refuses the same way when reached.
 * Headers are built here so the Authorization value is never logged. */
#include "vendor_internal.h"

#include "form_urlencoded.h"
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VENDOR_MESSAGE_MAX 160

typedef struct vendor_call_state {
    vendor_context *ctx;
    const vendor_dialect *dialect;
    const char *code;        /* the dialect's adapter code */
    vendor_circuit *circuit; /* set once the call was admitted: its outcome is recorded */
    bool sent;               /* counted in the context's calls_sent until answered */
    char store_id[128];
    long timeout_ms;
    vendor_call_cb cb;
    void *data;
    char method[8];
    char *url; /* for the log: payment uids, never credentials or billing keys */
    app_error err;
    const char *operation; /* for the observer; static text */
    uint64_t started_ns;   /* uv_hrtime at the call */
} vendor_call_state;

static void call_free(vendor_call_state *call)
{
    free(call->url);
    free(call);
}

/* ---- answering ---- */

static const char *dialect_code(const vendor_dialect *dialect)
{
    return dialect->code ? dialect->code : dialect->name;
}

/* The call that failed: vendor, store, method and URL (no credential, no
 * billing key), the vendor's status and code, and our message. Like the line
 * of a call that succeeded, it carries the ambient request id: the caller's,
 * which the HTTP client and vendor_later bring back to the callback. */
static void call_log(const vendor_call_state *call, const app_error *err, long http_status)
{
    log_level level = err->status >= 500 ? LOG_WARN : LOG_INFO;
    const char *vendor_code = err->vendor.vendor_code[0] ? err->vendor.vendor_code : "-";
    log_write(level, "vendor %s store %s: %s %s: HTTP %ld, code %s: %d %s", call->code,
              call->store_id[0] ? call->store_id : "-", call->method, call->url, http_status, vendor_code, err->status,
              err->message);
}

/* Only the vendor's silence and its own failures count against it. */
static bool call_failed_vendor(const app_error *err, long http_status)
{
    if (http_status)
        return http_status >= 500 || http_status == 408;
    return err != NULL; /* unreachable, timed out, or could not be sent */
}

static void call_record(vendor_call_state *call, const app_error *err, long http_status)
{
    uv_loop_t *loop = call->ctx->loop;
    uv_update_time(loop);
    uv_timeval64_t wall;
    int64_t now_wall = uv_gettimeofday(&wall) == 0 ? wall.tv_sec * 1000 + wall.tv_usec / 1000 : 0;
    vendor_circuit_record(call->circuit, &call->ctx->circuit_policy, call_failed_vendor(err, http_status), uv_now(loop),
                          now_wall);
}

static vendor_call_outcome call_outcome(const app_error *err, long http_status)
{
    if (err && err->not_sent)
        return VENDOR_CALL_NOT_SENT;
    if (call_failed_vendor(err, http_status))
        return VENDOR_CALL_FAILED;
    return err ? VENDOR_CALL_REFUSED : VENDOR_CALL_SUCCEEDED;
}

static void call_observe(const vendor_call_state *call, const app_error *err, long http_status)
{
    vendor_context *ctx = call->ctx;
    if (ctx->observer)
        ctx->observer(ctx->observer_data, call->code, call->operation, call_outcome(err, http_status),
                      (uv_hrtime() - call->started_ns) / 1000);
}

static void call_complete(vendor_call_state *call, json_t *doc, const app_error *err, long http_status)
{
    if (call->sent)
        call->ctx->calls_sent--;
    if (call->circuit)
        call_record(call, err, http_status);
    call_observe(call, err, http_status);
    if (err)
        call_log(call, err, http_status);
    else
        log_info("vendor %s store %s: %s %s: HTTP %ld", call->code, call->store_id[0] ? call->store_id : "-",
                 call->method, call->url, http_status);
    vendor_context *ctx = call->ctx;
    call->cb(doc, err, http_status, call->data);
    call_free(call);
    vendor_context_release(ctx);
}

static void call_deliver_failure(void *data)
{
    vendor_call_state *call = data;
    call_complete(call, NULL, &call->err, 0);
}

static void call_fail_later(vendor_call_state *call, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void call_fail_later(vendor_call_state *call, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char message[sizeof call->err.message];
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    app_error_set(&call->err, status, "%s", message);
    vendor_later(call->ctx, call_deliver_failure, call);
}

/* The vendor's own words, short, on one line, cut on a UTF-8 boundary. */
static void vendor_message(const vendor_dialect *dialect, const json_t *doc, char *out, size_t cap)
{
    const char *member = dialect->message_member ? dialect->message_member : "message";
    const char *text = json_is_object(doc) ? vendor_json_string(doc, member) : NULL;
    if (!text || !*text)
        text = "no message";
    size_t full = strlen(text), len = full < cap ? full : cap - 1;
    while (len > 0 && len < full && ((unsigned char)text[len] & 0xC0) == 0x80)
        len--;
    for (size_t i = 0; i < len; i++)
        out[i] = (unsigned char)text[i] < 0x20 ? ' ' : text[i];
    out[len] = '\0';
}

/* A 2xx answer of a vendor that puts its result code in the document: the
 * document, with err set unless the code is the success's. */
static json_t *answer_result(const vendor_dialect *dialect, json_t *doc, app_error *err)
{
    const char *code = vendor_json_string(doc, dialect->result_member);
    if (!code) {
        app_error_set(err, 502, "%s sent an answer without its %s", dialect->name, dialect->result_member);
        return NULL;
    }
    if (strcmp(code, dialect->result_success) == 0)
        return doc;
    char message[VENDOR_MESSAGE_MAX];
    vendor_message(dialect, doc, message, sizeof message);
    int status = dialect->result_status ? dialect->result_status(code) : 422;
    if (status == 422)
        app_error_set(err, 422, "%s refused (%s %s): %s", dialect->name, dialect->result_member, code, message);
    else if (status == 404)
        app_error_set(err, 404, "%s: %s", dialect->name, message);
    else
        app_error_set(err, status, "%s refused this server's request (%s %s): %s", dialect->name,
                      dialect->result_member, code, message);
    return doc;
}

/* A 2xx answer: the document the caller wants, or NULL with err set. */
static json_t *answer_success(const vendor_dialect *dialect, json_t *doc, app_error *err)
{
    const char *name = dialect->name;
    if (!json_is_object(doc)) {
        app_error_set(err, 502, "%s sent an answer that is not a JSON object", name);
        return NULL;
    }
    if (dialect->result_member)
        return answer_result(dialect, doc, err);
    if (!dialect->enveloped)
        return doc;
    json_t *code = json_object_get(doc, "code");
    if (!json_is_integer(code)) {
        app_error_set(err, 502, "%s sent an answer without its result code", name);
        return NULL;
    }
    if (json_integer_value(code) != 0) {
        char message[VENDOR_MESSAGE_MAX];
        vendor_message(dialect, doc, message, sizeof message);
        app_error_set(err, 422, "%s refused: %s", name, message);
        return doc;
    }
    json_t *response = json_object_get(doc, "response");
    if (!json_is_object(response)) {
        app_error_set(err, 502, "%s sent an answer without a response object", name);
        return NULL;
    }
    return response;
}

/* A non-2xx answer: always an error; the document is passed on for its code. */
static json_t *answer_failure(const vendor_dialect *dialect, json_t *doc, long status, app_error *err)
{
    const char *name = dialect->name;
    char message[VENDOR_MESSAGE_MAX];
    vendor_message(dialect, doc, message, sizeof message);
    if (status == 401 || (status == 403 && !dialect->forbidden_is_refusal))
        app_error_set(err, 502, "%s rejected this server's credentials (check the store's key and secret): %s", name,
                      message);
    else if (status == 404)
        app_error_set(err, 404, "%s: %s", name, message);
    else if (status == 408)
        app_error_set(err, 504, "%s timed out: %s", name, message);
    else if (status == 429)
        app_error_set(err, 502, "%s is throttling this server: %s", name, message);
    else if (status >= 400 && status < 500)
        app_error_set(err, 422, "%s refused: %s", name, message);
    else
        app_error_set(err, 502, "%s failed (HTTP %ld): %s", name, status, message);
    return json_is_object(doc) ? doc : NULL;
}

/* The vendor's own code of an error document: a string, or an integer as
 * text; "" when it gave none. */
static void vendor_error_code(const vendor_dialect *dialect, const json_t *doc, char *out, size_t cap)
{
    const json_t *code =
        json_is_object(doc) ? json_object_get(doc, dialect->code_member ? dialect->code_member : "code") : NULL;
    if (json_is_string(code))
        snprintf(out, cap, "%s", json_string_value(code));
    else if (json_is_integer(code))
        snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(code));
    else
        out[0] = '\0';
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
}

/* A failure the vendor answered keeps the vendor's identity. */
static void answer_identify(const vendor_dialect *dialect, const json_t *doc, long http_status, app_error *err)
{
    char code[sizeof err->vendor.vendor_code];
    char message[VENDOR_MESSAGE_MAX];
    vendor_error_code(dialect, doc, code, sizeof code);
    const char *member = dialect->message_member ? dialect->message_member : "message";
    if (json_is_object(doc) && vendor_json_string(doc, member))
        vendor_message(dialect, doc, message, sizeof message);
    else
        message[0] = '\0';
    app_error_set_vendor(err, dialect_code(dialect), code, (int)http_status, message);
}

json_t *vendor_answer_read(const vendor_dialect *dialect, long http_status, const char *body, size_t len, json_t **doc,
                           app_error *err)
{
    *doc = len ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *result = http_status >= 200 && http_status < 300 ? answer_success(dialect, *doc, err)
                                                             : answer_failure(dialect, *doc, http_status, err);
    if (err->status)
        answer_identify(dialect, *doc, http_status, err);
    return result;
}

static void call_answered(const http_client_response *res, void *data)
{
    vendor_call_state *call = data;
    app_error err = {0};
    if (res->error) {
        if (res->timed_out)
            app_error_set(&err, 504, "%s did not answer within %ld ms", call->dialect->name, call->timeout_ms);
        else
            app_error_set(&err, 502, "%s unreachable: %s", call->dialect->name, res->error);
        app_error_set_vendor(&err, call->code, NULL, 0, NULL);
        call_complete(call, NULL, &err, 0);
        return;
    }
    json_t *doc;
    json_t *result = vendor_answer_read(call->dialect, res->status, res->body, res->body_len, &doc, &err);
    call_complete(call, result, err.status ? &err : NULL, res->status);
    json_decref(doc);
}

/* ---- sending ---- */

static char *call_authorization_header(const char *value)
{
    size_t len = strlen("Authorization: ") + strlen(value) + 1;
    char *header = malloc(len);
    if (header)
        snprintf(header, len, "Authorization: %s", value);
    return header;
}

static void wipe_free(char *text)
{
    if (!text)
        return;
    explicit_bzero(text, strlen(text));
    free(text);
}

static int call_send(vendor_call_state *call, const vendor_request *req, const char *body)
{
    char *authorization = req->authorization ? call_authorization_header(req->authorization) : NULL;
    if (req->authorization && !authorization)
        return -1;
    char idempotency[384];
    if (req->idempotency_key && snprintf(idempotency, sizeof idempotency, "Idempotency-Key: %s",
                                         req->idempotency_key) >= (int)sizeof idempotency) {
        wipe_free(authorization);
        return -1;
    }
    const char *headers[5];
    size_t n = 0;
    headers[n++] = "Accept: application/json";
    if (body)
        headers[n++] =
            req->form_body ? "Content-Type: application/x-www-form-urlencoded" : "Content-Type: application/json";
    if (authorization)
        headers[n++] = authorization;
    if (req->idempotency_key)
        headers[n++] = idempotency;
    headers[n] = NULL;
    http_client_request hreq = {
        .method = req->method,
        .url = req->url,
        .headers = headers,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = call->timeout_ms,
    };
    int rc = http_client_send(call->ctx->client, &hreq, call_answered, call);
    wipe_free(authorization);
    return rc;
}

/* The url as the log may show it: a billing key's last segment hidden. */
static char *call_log_url(const vendor_request *req)
{
    if (!req->url_is_secret)
        return strdup(req->url);
    const char *slash = strrchr(req->url, '/');
    int kept = slash ? (int)(slash - req->url) + 1 : 0;
    size_t len = (size_t)kept + sizeof "(hidden)";
    char *url = malloc(len);
    if (url)
        snprintf(url, len, "%.*s(hidden)", kept, req->url);
    return url;
}

/* Refuses a call, from the loop, without sending anything: what the
 * caller sees (503, Retry-After) and what an operation settles (not sent)
 * are the same whether the circuit is open or the worker is full. */
static void call_refuse(vendor_call_state *call, unsigned retry_s, const char *why)
{
    app_error_set(&call->err, 503, "%s is unavailable (%s); retry after %u s", call->dialect->name, why, retry_s);
    app_error_set_vendor(&call->err, call->code, NULL, 0, NULL);
    call->err.retry_after_s = retry_s;
    call->err.not_sent = true;
    vendor_later(call->ctx, call_deliver_failure, call);
}

/* The worker's limit on calls waiting at once: each holds a socket, a
 * request and its caller's state, so past it a call is refused at once
 * rather than letting memory and descriptors grow with a slow vendor. */
static bool call_within_limit(vendor_call_state *call)
{
    vendor_context *ctx = call->ctx;
    if (ctx->calls_limit == 0 || ctx->calls_sent < ctx->calls_limit)
        return true;
    call_refuse(call, 1, "too many calls waiting");
    return false;
}

/* Passes the circuit of the call's vendor and store, or answers 503 from
 * the loop without sending anything. */
static bool call_admit(vendor_call_state *call)
{
    vendor_circuit *circuit = vendor_circuit_for(&call->ctx->circuits, call->code, call->store_id);
    if (!circuit)
        return true; /* out of memory: unguarded beats refused */
    uv_update_time(call->ctx->loop);
    uint64_t retry_ms;
    if (vendor_circuit_admit(circuit, &call->ctx->circuit_policy, uv_now(call->ctx->loop), &retry_ms)) {
        call->circuit = circuit;
        return true;
    }
    unsigned retry_s = retry_ms < 1000 ? 1 : (unsigned)((retry_ms + 999) / 1000);
    call_refuse(call, retry_s, "circuit open");
    return false;
}

void vendor_call(vendor_context *ctx, const vendor_request *req, vendor_call_cb cb, void *data)
{
    vendor_call_state *call = calloc(1, sizeof *call);
    char *url = call_log_url(req);
    if (!call || !url) {
        free(call);
        free(url);
        app_error err;
        app_error_set(&err, 500, "out of memory calling %s", req->dialect->name);
        cb(NULL, &err, 0, data);
        return;
    }
    call->ctx = ctx;
    call->dialect = req->dialect;
    call->code = dialect_code(req->dialect);
    call->timeout_ms = vendor_context_timeout(ctx, call->code);
    snprintf(call->store_id, sizeof call->store_id, "%s", req->store_id ? req->store_id : "");
    call->cb = cb;
    call->data = data;
    call->url = url;
    call->operation = req->operation ? req->operation : "call";
    call->started_ns = uv_hrtime();
    snprintf(call->method, sizeof call->method, "%s", req->method);
    vendor_context_hold(ctx);
    if (ctx->closed) {
        call_fail_later(call, 502, "%s not called: the server is shutting down", req->dialect->name);
        return;
    }
    char *body = !req->body       ? NULL
                 : req->form_body ? form_urlencoded_encode(req->body)
                                  : json_dumps(req->body, JSON_COMPACT);
    if (req->body && !body) {
        call_fail_later(call, 500, "cannot encode the request to %s", req->dialect->name);
        return;
    }
    /* Last, so that every admitted call is sent or fails sending: its
     * outcome is the vendor's, which the circuit records (the limit comes
     * first: a half-open circuit's trial call must not then be refused). */
    if (!call_within_limit(call) || !call_admit(call)) {
        wipe_free(body);
        return;
    }
    call->sent = true; /* counted until call_complete, whichever way it ends */
    ctx->calls_sent++;
    int rc = call_send(call, req, body);
    wipe_free(body); /* may hold a refund account or a secret */
    if (rc != 0)
        call_fail_later(call, 502, "cannot send a request to %s", req->dialect->name);
}

/* ---- URLs ---- */

/* RFC 3986 unreserved characters travel as they are, the rest as %XX; so
 * does '.', so that a uid of ".." cannot climb out of its path. */
static bool url_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '~';
}

static size_t url_escaped_length(const char *segment)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)segment; *p; p++)
        n += url_unreserved(*p) ? 1 : 3;
    return n;
}

static char *url_append_segment(char *out, const char *segment)
{
    static const char hex[] = "0123456789ABCDEF";
    *out++ = '/';
    for (const unsigned char *p = (const unsigned char *)segment; *p; p++) {
        if (url_unreserved(*p)) {
            *out++ = (char)*p;
        } else {
            *out++ = '%';
            *out++ = hex[*p >> 4];
            *out++ = hex[*p & 15];
        }
    }
    return out;
}

char *vendor_url(const char *base, ...)
{
    size_t base_len = strlen(base);
    while (base_len > 0 && base[base_len - 1] == '/')
        base_len--;
    size_t len = base_len + 1;
    va_list ap;
    va_start(ap, base);
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
        len += 1 + url_escaped_length(s);
    va_end(ap);
    char *url = malloc(len);
    if (!url)
        return NULL;
    memcpy(url, base, base_len);
    char *out = url + base_len;
    va_start(ap, base);
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
        out = url_append_segment(out, s);
    va_end(ap);
    *out = '\0';
    return url;
}
