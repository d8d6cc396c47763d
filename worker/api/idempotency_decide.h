/* idempotency_decide: what a request does with the row its Idempotency-Key
 * claim found, as a pure function of that row, so that every case of a key
 * that follows an operation (pending, settled, refused, left unknown) can be
 * checked without a server. */
#ifndef PAYMENTS_IDEMPOTENCY_DECIDE_H
#define PAYMENTS_IDEMPOTENCY_DECIDE_H

#include "idempotency_store.h"

typedef enum idempotency_outcome {
    IDEMPOTENCY_RUN,               /* the key is ours: run the request */
    IDEMPOTENCY_ANSWER_OPERATION,  /* ours, and the first request's operation succeeded: answer it */
    IDEMPOTENCY_REPLAY,            /* the first answer again */
    IDEMPOTENCY_OTHER_BODY,        /* 422 */
    IDEMPOTENCY_IN_PROGRESS,       /* 409, another request holds the key */
    IDEMPOTENCY_OPERATION_PENDING, /* 409, the first request's operation is not settled yet */
    IDEMPOTENCY_OPERATION_UNKNOWN, /* 409, the vendor never told: an operator settles it */
} idempotency_outcome;

/* body_hash is this request's. */
idempotency_outcome idempotency_decide(const idempotency_row *row, const char *body_hash);

#endif
