/* api_request: what every /payments request of histories, cancels and
 * reservations carries from its route to its answer: the exchange, the
 * worker and the decrypted body. A resource's request embeds it as its first
 * member and ends only through api_request_fail or an api_request_answer
 * function, which answer the exchange and free the whole request, once;
 * when it holds an Idempotency-Key, the answer is kept for its retries
 * before it goes out (idempotency.h). */
#ifndef PAYMENTS_API_REQUEST_H
#define PAYMENTS_API_REQUEST_H

#include "api_input.h"
#include "history_store.h"
#include "idempotency.h"
#include "json_text.h"
#include "worker.h"

#include <jansson.h>

typedef struct api_request api_request;

/* Frees what the embedding request owns besides the api_request (records,
 * hashes); the request itself is freed after it. */
typedef void (*api_request_release_fn)(api_request *request);

struct api_request {
    http_exchange *ex;
    worker *app;
    json_t *body; /* the decrypted request: the input strings live in it */
    /* The connection key the body came under, which its answer uses (a key
     * being rolled: the current one or, in its grace period, the previous). */
    const crypto_cbc_key *key;
    api_request_release_fn release;
    idempotency_claim *idempotency; /* the Idempotency-Key it holds, or NULL */
    /* The operation it committed (a cancel, a confirm), or NULL; owned by
     * the embedding request. A key whose request fails after committing
     * one follows that operation rather than being released. */
    const char *operation_id;
};

/* Allocates a zeroed request of size bytes (a struct whose first member is an
 * api_request) and reads the encrypted body into it. NULL when ex is already
 * answered: out of memory, or a body that cannot be read (400). */
void *api_request_new(size_t size, http_exchange *ex, worker *w, api_request_release_fn release);

/* Reads the request's fields from its body with read, which fails through
 * in (api_input.h). false after failing the request. */
typedef bool (*api_request_read_fn)(api_request *request, const api_input *in);
bool api_request_input(api_request *request, api_request_read_fn read);

/* Answers err as plain JSON and frees the request. */
void api_request_fail(api_request *request, const app_error *err);

/* Answers doc encrypted with status, or err when doc is NULL; takes doc and
 * frees the request. */
void api_request_answer(api_request *request, int status, json_t *doc, const app_error *err);
/* The same for an answer printed as text (json_text.h), which stays the
 * caller's; err is answered when text is NULL. */
void api_request_answer_text(api_request *request, int status, const json_text *text, const app_error *err);

/* Answers with an answer made before, as it was (a replay of an
 * Idempotency-Key): never stored again. Frees the request. */
void api_request_answer_stored(api_request *request, int status, const char *content_type, const char *body,
                               size_t len);

/* Answers record (taken) as the contract's IPaymentHistory with status, or
 * err when record is NULL. */
void api_request_answer_history(api_request *request, int status, history_record *record, const app_error *err);

/* Adds the Retry-After of a 409 that waits for an operation to settle:
 * the reconciler's pace, which settles it at the latest. */
void api_request_retry_after_reconcile(api_request *request);

/* A vendor's error while we ask it about a uid the caller gave: the vendor
 * not knowing it is a refusal (422), since our 404 means a record of ours is
 * unknown. Fails the request. */
void api_request_fail_vendor(api_request *request, const app_error *err);

#endif
