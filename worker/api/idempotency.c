/* idempotency: a request's key is claimed in the database before its work
 * starts, so that concurrent duplicates on any worker see it in flight; its
 * answer is stored before it is sent, so that a client retrying the moment
 * it reads the answer gets the same bytes back rather than a 409. A key
 * whose request committed an operation and then failed (5xx) follows that
 * operation: one key, one effect, whatever the retries. */
#include "idempotency.h"

#include "api_request.h"
#include "history_access.h"
#include "idempotency_decide.h"
#include "idempotency_key.h"
#include "idempotency_store.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct idempotency_claim {
    api_request *request; /* while claiming */
    idempotency_next_fn next;
    pg_pool *db;
    uint64_t ttl_ms; /* PAYMENT_IDEMPOTENCY_TTL */
    char key[IDEMPOTENCY_HEX_SIZE];
    char body_hash[IDEMPOTENCY_HEX_SIZE];
    const char *password;  /* the record password, in the request's body */
    char *lease;           /* once claimed */
    char operation_id[40]; /* a first request's, succeeded, answered by this one */
    char operation_history[40];
    int operation_status;      /* what the first request would have answered */
    idempotency_answer answer; /* while it is being stored */
    const char *action;        /* what is done with it, for the log */
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
    claim->password = password;
    claim->db = request->app->db;
    claim->ttl_ms = request->app->config.idempotency_ttl_ms;
    return claim;
}

/* The key is another request's: answer what it says about this one. None
 * of these answers is stored, since none is this key's outcome. */
static void answer_collision(api_request *request, idempotency_outcome outcome, const idempotency_row *row)
{
    app_error err = {0};
    switch (outcome) {
    case IDEMPOTENCY_REPLAY:
        http_exchange_add_header(request->ex, "Idempotent-Replayed", "true");
        api_request_answer_stored(request, atoi(row->status), row->content_type, row->body, strlen(row->body));
        return;
    case IDEMPOTENCY_OTHER_BODY:
        app_error_set(&err, 422, "Idempotency-Key was used with another request body");
        break;
    case IDEMPOTENCY_OPERATION_PENDING:
        api_request_retry_after_reconcile(request);
        app_error_set(&err, 409,
                      "the vendor operation of the first request with this Idempotency-Key is not settled yet; "
                      "retry later");
        break;
    case IDEMPOTENCY_OPERATION_UNKNOWN:
        app_error_set(&err, 409,
                      "the vendor never told the outcome of operation %s, made by the first request with this "
                      "Idempotency-Key; an operator must settle it",
                      row->awaited_operation);
        break;
    default:
        http_exchange_add_header(request->ex, "Retry-After", "1");
        app_error_set(&err, 409, "a request with this Idempotency-Key is still in progress; retry later");
        break;
    }
    api_request_fail(request, &err);
}

static void on_operation_history(history_record *record, const app_error *err, void *data)
{
    api_request *request = data;
    api_request_answer_history(request, request->idempotency->operation_status, record, err);
}

/* The first request's operation succeeded after it gave up: this one
 * answers what it would have, the history as recorded now, and keeps it. */
static void answer_operation(api_request *request, idempotency_claim *claim)
{
    log_info("idempotency: key %.12s... answers the history of its settled operation %s", claim->key,
             claim->operation_id);
    if (!claim->operation_history[0]) {
        app_error err;
        app_error_set(&err, 500, "the operation of this Idempotency-Key has no history yet");
        api_request_fail(request, &err);
        return;
    }
    history_access_by_id(request->app, request->ex, claim->operation_history, claim->password, on_operation_history,
                         request);
}

/* The key is ours: with the operation a first request left, if any. */
static void hold(idempotency_claim *claim, idempotency_row *row)
{
    claim->lease = row->lease;
    row->lease = NULL;
    if (row->operation_id) {
        snprintf(claim->operation_id, sizeof claim->operation_id, "%s", row->operation_id);
        snprintf(claim->operation_history, sizeof claim->operation_history, "%s",
                 row->operation_history ? row->operation_history : "");
        /* What creates a history answers 201: a confirm, a charge. */
        claim->operation_status = row->operation_kind && (strcmp(row->operation_kind, "confirm") == 0 ||
                                                          strcmp(row->operation_kind, "charge") == 0)
                                      ? 201
                                      : 200;
    }
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
    idempotency_outcome outcome = idempotency_decide(row, claim->body_hash);
    if (outcome != IDEMPOTENCY_RUN && outcome != IDEMPOTENCY_ANSWER_OPERATION) {
        answer_collision(request, outcome, row);
        idempotency_row_free(row);
        idempotency_claim_free(claim);
        return;
    }
    hold(claim, row);
    idempotency_row_free(row);
    request->idempotency = claim;
    if (outcome == IDEMPOTENCY_ANSWER_OPERATION)
        answer_operation(request, claim);
    else
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
 * so its retry must run rather than read the failure back; a 409 says
 * something else was running, which a retry must see end; a 429 says a
 * limit held it back until a time that a retry must reach. */
static bool answer_is_kept(const idempotency_answer *answer)
{
    return answer->body && answer->status >= 200 && answer->status < 500 && answer->status != 409 &&
           answer->status != 429;
}

static void on_finished(const app_error *err, void *data)
{
    idempotency_claim *claim = data;
    /* The first hex digits tell the rows apart in the log; the key is an
     * HMAC, so they say nothing of the header or the password. */
    if (err)
        log_warn("idempotency: cannot %s key %.12s... (%d %s); a retry runs again once its lease ends", claim->action,
                 claim->key, err->status, err->message);
    claim->done(&claim->answer, claim->done_data);
    idempotency_claim_free(claim);
}

void idempotency_finish(idempotency_claim *claim, const idempotency_answer *answer, const char *operation_id,
                        idempotency_done_fn done, void *data)
{
    claim->answer = *answer;
    claim->done = done;
    claim->done_data = data;
    if (!operation_id && claim->operation_id[0])
        operation_id = claim->operation_id;
    if (answer_is_kept(answer)) {
        claim->action = "keep the answer of";
        const idempotency_answer_row row = {claim->key,           claim->lease, answer->status,
                                            answer->content_type, answer->body, claim->ttl_ms};
        idempotency_store_keep(claim->db, &row, on_finished, claim);
    } else if (operation_id && (!answer->body || answer->status >= 500)) {
        /* The operation may have happened: running the retry afresh could
         * make it twice, so the key waits for what it became. */
        claim->action = "bind to its operation";
        log_info("idempotency: key %.12s... awaits operation %s after a %d", claim->key, operation_id, answer->status);
        idempotency_store_bind(claim->db, claim->key, claim->lease, operation_id, on_finished, claim);
    } else {
        claim->action = "release";
        idempotency_store_release(claim->db, claim->key, claim->lease, on_finished, claim);
    }
}
