/* idempotency: a request's key is claimed in the database before its work
 * starts, so that concurrent duplicates on any worker see it in flight; its
 * answer is stored before it is sent, so that a client retrying the moment
 * it reads the answer gets the same bytes back rather than a 409. */
#include "idempotency.h"

#include "api_request.h"
#include "idempotency_key.h"
#include "idempotency_store.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

struct idempotency_claim {
    api_request *request; /* while claiming */
    idempotency_next_fn next;
    pg_pool *db;
    uint64_t ttl_ms; /* PAYMENT_IDEMPOTENCY_TTL */
    char key[IDEMPOTENCY_HEX_SIZE];
    char body_hash[IDEMPOTENCY_HEX_SIZE];
    char *lease;               /* once claimed */
    idempotency_answer answer; /* while it is being stored */
    idempotency_done_fn done;
    void *done_data;
};

/* A request may make up to three vendor calls in a row (a token, a fetch, a
 * confirm), each bounded by the vendor timeout; the lease outlasts them with
 * room for the database, so that a key is taken over only when the request
 * holding it is surely gone (its worker crashed). */
static uint64_t lease_ms(const cfg *config)
{
    return 3 * config->vendor_timeout_ms + 10000;
}

void idempotency_claim_free(idempotency_claim *claim)
{
    if (!claim)
        return;
    free(claim->lease);
    free(claim->answer.body);
    free(claim);
}

/* The claim of header for request, its key and body hash computed; NULL
 * with err set when they cannot be. */
static idempotency_claim *claim_new(api_request *request, const char *header, const payment_source_input *source,
                                    const char *password, app_error *err)
{
    idempotency_claim *claim = calloc(1, sizeof *claim);
    if (!claim) {
        app_error_set(err, 500, "out of memory");
        return NULL;
    }
    const http_request *http = http_exchange_request(request->ex);
    const idempotency_scope scope = {http->method_name, http->path, header, source, password};
    const password_secret *secret = &request->app->password;
    if (idempotency_key_derive(secret, &scope, claim->key) < 0 ||
        idempotency_body_hash(secret, request->body, claim->body_hash) < 0) {
        free(claim);
        app_error_set(err, 500, "cannot derive the idempotency key");
        return NULL;
    }
    claim->request = request;
    claim->db = request->app->db;
    claim->ttl_ms = request->app->config.idempotency_ttl_ms;
    return claim;
}

/* The key is another request's: answer what it says about this one. */
static void answer_collision(api_request *request, const char *body_hash, const idempotency_row *row)
{
    app_error err = {0};
    if (row->body_hash && strcmp(row->body_hash, body_hash) != 0) {
        app_error_set(&err, 422, "Idempotency-Key was used with another request body");
    } else if (!row->status || !row->body) {
        /* Not visible yet means claimed at this very moment. */
        http_exchange_add_header(request->ex, "Retry-After", "1");
        app_error_set(&err, 409, "a request with this Idempotency-Key is still in progress; retry later");
    } else {
        http_exchange_add_header(request->ex, "Idempotent-Replayed", "true");
        api_request_answer_stored(request, atoi(row->status), row->content_type, row->body, strlen(row->body));
        return;
    }
    api_request_fail(request, &err);
}

static void on_claimed(idempotency_row *row, const app_error *err, void *data)
{
    idempotency_claim *claim = data;
    api_request *request = claim->request;
    claim->request = NULL;
    if (err) {
        idempotency_claim_free(claim);
        api_request_fail(request, err);
        return;
    }
    if (!row->lease) {
        answer_collision(request, claim->body_hash, row);
        idempotency_row_free(row);
        idempotency_claim_free(claim);
        return;
    }
    claim->lease = row->lease;
    row->lease = NULL;
    idempotency_row_free(row);
    request->idempotency = claim;
    claim->next(request);
}

void idempotency_begin(api_request *request, const payment_source_input *source, const char *password,
                       idempotency_next_fn next)
{
    const char *header = http_request_header(http_exchange_request(request->ex), IDEMPOTENCY_KEY_HEADER);
    if (!header) {
        next(request);
        return;
    }
    app_error err = {0};
    idempotency_claim *claim = NULL;
    if (!idempotency_key_valid(header))
        app_error_set(&err, 400, IDEMPOTENCY_KEY_HEADER " must be 1 to %d printable ASCII characters",
                      IDEMPOTENCY_KEY_MAX);
    else
        claim = claim_new(request, header, source, password, &err);
    if (!claim) {
        api_request_fail(request, &err);
        return;
    }
    claim->next = next;
    /* Kept at least as long as it may be in flight, so that a purge never
     * takes a key from under the request holding it. */
    uint64_t lease = lease_ms(&request->app->config);
    const idempotency_claim_input input = {claim->key, claim->body_hash, lease,
                                           claim->ttl_ms > lease ? claim->ttl_ms : lease};
    idempotency_store_claim(claim->db, &input, on_claimed, claim);
}

/* 2xx and 4xx are the request's outcome; a 5xx says it could not finish,
 * so its retry must run rather than read the failure back. */
static bool answer_is_kept(const idempotency_answer *answer)
{
    return answer->body && answer->status >= 200 && answer->status < 500;
}

static void on_finished(const app_error *err, void *data)
{
    idempotency_claim *claim = data;
    /* The first hex digits tell the rows apart in the log; the key is an
     * HMAC, so they say nothing of the header or the password. */
    if (err)
        log_warn("idempotency: cannot %s key %.12s... (%d %s); a retry runs again once its lease ends",
                 answer_is_kept(&claim->answer) ? "keep the answer of" : "release", claim->key, err->status,
                 err->message);
    claim->done(&claim->answer, claim->done_data);
    idempotency_claim_free(claim);
}

void idempotency_finish(idempotency_claim *claim, const idempotency_answer *answer, idempotency_done_fn done,
                        void *data)
{
    claim->answer = *answer;
    claim->done = done;
    claim->done_data = data;
    if (!answer_is_kept(answer)) {
        idempotency_store_release(claim->db, claim->key, claim->lease, on_finished, claim);
        return;
    }
    const idempotency_answer_row row = {claim->key,           claim->lease, answer->status,
                                        answer->content_type, answer->body, claim->ttl_ms};
    idempotency_store_keep(claim->db, &row, on_finished, claim);
}
