/* operation_store: the SQL of payment_operations (sql/0005_operations.sql),
 * the vendor calls that move money. An operation is committed pending
 * before its call; it is settled either inside the transaction that records
 * the vendor's answer (a statement the caller adds) or by a single UPDATE,
 * and the reconciler claims the ones left pending with a lease. */
#ifndef PAYMENTS_OPERATION_STORE_H
#define PAYMENTS_OPERATION_STORE_H

#include "db_transaction.h"
#include "pg_pool.h"

#include <stdint.h>

typedef struct operation_new {
    const char *kind; /* "confirm", "cancel", "mismatch_cancel" */
    const char *vendor_code;
    const char *vendor_store_id;
    const char *vendor_uid;
    const char *history_id; /* NULL for a confirm and a mismatch cancel */
    const char *amount;     /* numeric text */
    const char *reason;
    const char *refund_before; /* numeric text */
    const char *input;         /* sealed, or NULL */
    const char *idempotency_key;
} operation_new;

/* id is borrowed for the call. A 409 when another operation on the same
 * vendor payment is still pending. */
typedef void (*operation_created_cb)(const char *id, const app_error *err, void *data);
void operation_store_create(pg_pool *pool, const operation_new *in, operation_created_cb cb, void *data);

typedef struct operation_settle {
    const char *id;
    const char *state;    /* "succeeded", "refused" or "unknown" */
    const char *answer;   /* the vendor's document, sealed, or NULL */
    const char *decision; /* in words, no secrets */
} operation_settle;

#define OPERATION_SETTLE_PARAMS 4

/* The UPDATE settling a pending operation (a settled one is left as it is);
 * a confirm's history is found by its vendor payment. params (the caller's)
 * and in must stay valid until the statement ran. */
void operation_store_settle_statement(const operation_settle *in, const char *params[OPERATION_SETTLE_PARAMS],
                                      db_statement *out);
/* The same UPDATE on its own; done runs once (failures are logged there). */
void operation_store_settle(pg_pool *pool, const operation_settle *in, void (*done)(const app_error *err, void *data),
                            void *data);

/* A claimed operation, as text, owned by whoever received it. */
typedef struct operation_claimed {
    char *id;
    char *kind;
    char *vendor_code;
    char *vendor_store_id;
    char *vendor_uid;
    char *history_id; /* NULL when none */
    char *amount;
    char *reason;
    char *refund_before;
    char *input; /* sealed, or NULL */
    char *idempotency_key;
    char *attempts; /* counting this one */
} operation_claimed;

void operation_claimed_free(operation_claimed *row);

typedef void (*operation_claim_cb)(operation_claimed **rows, size_t count, const app_error *err, void *data);

#define OPERATION_STORE_CLAIM_BATCH 8

/* Claims for lease_ms up to a batch of operations pending for at least
 * after_ms whose earlier claim (if any) expired. rows and the array are the
 * callback's (operation_claimed_free, then free). */
void operation_store_claim(pg_pool *pool, uint64_t after_ms, uint64_t lease_ms, operation_claim_cb cb, void *data);

/* Gives a claimed operation back after a try that settled nothing (the
 * vendor did not answer), with why, to be claimed again after its attempts
 * times backoff_ms, so that a long vendor outage is not hammered; after
 * max_attempts it becomes "unknown". done gets the state it is left in. */
typedef void (*operation_state_cb)(const char *state, const app_error *err, void *data);
void operation_store_release(pg_pool *pool, const char *id, const char *decision, int max_attempts, uint64_t backoff_ms,
                             operation_state_cb done, void *data);

/* The operations in state (all when NULL), newest first, at most limit, as
 * one JSON array text without secrets; res is valid during cb only
 * (one row, one column). */
void operation_store_list(pg_pool *pool, const char *state, int limit, pg_result_cb cb, void *data);

#endif
