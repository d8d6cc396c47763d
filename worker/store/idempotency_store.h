/* idempotency_store: the rows of payment_idempotency_keys (sql/0006). A key
 * is claimed in one statement that also purges a few expired keys and reads
 * the row a retry collides with, so a request with a key costs one round
 * trip before its work and one after. */
#ifndef PAYMENTS_IDEMPOTENCY_STORE_H
#define PAYMENTS_IDEMPOTENCY_STORE_H

#include "pg_pool.h"

#include <stdint.h>

/* What a claim found. lease is set when this request now holds the key,
 * with the operation a first request left succeeded, if any; otherwise the
 * other members describe the row it collided with, all NULL when that row is
 * not visible yet (claimed by a request running at the same moment). */
typedef struct idempotency_row {
    char *lease;             /* uuid of our claim */
    char *operation_id;      /* held with the claim: the first request's, succeeded */
    char *operation_kind;    /* "cancel", "confirm" */
    char *operation_history; /* the history it changed or created */
    char *body_hash;         /* of the body the key was first used with */
    char *status;            /* its stored answer: NULL while still in flight */
    char *content_type;
    char *body;              /* exactly as sent */
    char *awaited_operation; /* the operation the key awaits, without an answer */
    char *awaited_state;     /* "pending", "succeeded", "refused", "unknown" */
} idempotency_row;

void idempotency_row_free(idempotency_row *row);

typedef struct idempotency_claim_input {
    const char *key;       /* idempotency_key_derive */
    const char *body_hash; /* idempotency_body_hash */
    uint64_t lease_ms;     /* in flight for at most this, then free to take over */
    uint64_t keep_ms;      /* until the row may be purged */
} idempotency_claim_input;

/* row is the callback's to free; NULL with err when the statement failed. */
typedef void (*idempotency_claim_cb)(idempotency_row *row, const app_error *err, void *data);

/* Inserts the key in flight, or takes over an expired key or a lapsed lease;
 * else reads the row as it is. */
void idempotency_store_claim(pg_pool *pool, const idempotency_claim_input *input, idempotency_claim_cb cb, void *data);

typedef struct idempotency_answer_row {
    const char *key;
    const char *lease;
    int status; /* 2xx or 4xx */
    const char *content_type;
    const char *body;
    uint64_t keep_ms; /* from now */
} idempotency_answer_row;

/* err is NULL when the statement ran (even when the claim had been taken
 * over meanwhile and nothing changed). */
typedef void (*idempotency_store_cb)(const app_error *err, void *data);

/* Stores the answer of the claim (key, lease) for its retries. */
void idempotency_store_keep(pg_pool *pool, const idempotency_answer_row *answer, idempotency_store_cb cb, void *data);
/* Deletes the claim (key, lease) while in flight, so a retry runs again. */
void idempotency_store_release(pg_pool *pool, const char *key, const char *lease, idempotency_store_cb cb, void *data);
/* Keeps the claim (key, lease) without an answer, awaiting operation_id,
 * which the request committed and whose outcome it could not learn. */
void idempotency_store_bind(pg_pool *pool, const char *key, const char *lease, const char *operation_id,
                            idempotency_store_cb cb, void *data);

#endif
