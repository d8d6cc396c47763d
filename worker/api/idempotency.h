/* idempotency: the Idempotency-Key header of our writing routes (POST
 * /payments/histories, PUT /payments/histories/cancel, POST
 * /payments/reservations), with Stripe's semantics: a retry with the same
 * key and body gets the first answer again without running twice, another
 * body gets 422, a retry while the first still runs gets 409. 2xx and 4xx
 * answers but 409 are kept PAYMENT_IDEMPOTENCY_TTL; 5xx release the key,
 * so a retry runs again, unless the request committed an operation: then
 * the key awaits it, and a retry answers what the operation became. */
#ifndef PAYMENTS_IDEMPOTENCY_H
#define PAYMENTS_IDEMPOTENCY_H

#include "payment_input.h"

#include <stddef.h>

typedef struct api_request api_request;
/* A key a request holds while it runs; owned by the request. */
typedef struct idempotency_claim idempotency_claim;

/* What the route does once its key, if any, is held. */
typedef void (*idempotency_next_fn)(api_request *request);

/* Called by each writing route once its body is read, before anything
 * else. Without the header next runs at once, as if this did not exist.
 * With one, the key is claimed and next runs holding it; otherwise the
 * request is answered here: the first answer again, 409, 422, or 400 for a
 * header that is not 1 to 255 printable ASCII characters. */
void idempotency_begin(api_request *request, const payment_source_input *source, const char *password,
                       idempotency_next_fn next);

/* An answer as it goes out. */
typedef struct idempotency_answer {
    int status;
    const char *content_type;
    char *body; /* NULL when it could not be made */
    size_t len;
} idempotency_answer;

typedef void (*idempotency_done_fn)(const idempotency_answer *answer, void *data);

/* The answer of a request holding claim: kept for retries (2xx, 4xx but
 * 409), or, for a 5xx (or no body), the key bound to operation_id (the
 * operation the request committed, NULL for none) or else released; then
 * done runs with the answer, which is freed after it. Takes claim and
 * answer->body. A failed write is logged: the answer still goes out. */
void idempotency_finish(idempotency_claim *claim, const idempotency_answer *answer, const char *operation_id,
                        idempotency_done_fn done, void *data);

/* For a request freed while holding a key (never the normal path). */
void idempotency_claim_free(idempotency_claim *claim);

#endif
