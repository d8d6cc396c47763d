/* charge_store: the SQL of charges (sql/0008_charges.sql): the refusals an
 * order has had, which choose its next key, and the settlement of a charge
 * operation, which records its attempt in the same statement, so that an
 * operation is never settled without its attempt nor recorded twice. */
#ifndef PAYMENTS_CHARGE_STORE_H
#define PAYMENTS_CHARGE_STORE_H

#include "db_count.h"
#include "db_transaction.h"
#include "pg_pool.h"

/* count is the number of refused charge attempts of the order (source). */
typedef db_count_cb charge_store_count_cb;
void charge_store_count_refusals(pg_pool *pool, const char *schema, const char *table, const char *id,
                                 charge_store_count_cb cb, void *data);

/* A charge operation's settlement and its attempt. The attempt's id is the
 * operation's; its history is the order's (found by source) when the
 * charge succeeded. */
typedef struct charge_settle {
    const char *operation_id;
    const char *result;   /* "succeeded" or "refused" */
    const char *answer;   /* the vendor's answer, sealed, or NULL */
    const char *decision; /* in words, no secrets */
    const char *reservation_id;
    const char *source_schema;
    const char *source_table;
    const char *source_id;
    const char *currency;
    const char *vendor_error; /* the vendor's own code of a refusal, "" */
    const char *message;      /* what the caller was told, "" */
} charge_settle;

#define CHARGE_SETTLE_PARAMS 11

/* The statement, for the transaction that records the history; an
 * operation already settled is left as it is and records nothing. params
 * (the caller's) and in must stay valid until it ran. */
void charge_store_settle_statement(const charge_settle *in, const char *params[CHARGE_SETTLE_PARAMS],
                                   db_statement *out);
/* The same on its own; done runs once. */
void charge_store_settle(pg_pool *pool, const charge_settle *in, void (*done)(const app_error *err, void *data),
                         void *data);

/* One attempt with its reservation's password hash (to check), or a
 * reservation's attempts, newest first, as one JSON text; res (one row:
 * "attempt" or "attempts" and "password_hash"; none when the id is
 * unknown) is valid during cb only. Answers are sealed (the "answer"
 * member) and are opened by the caller. */
void charge_store_attempt(pg_pool *pool, const char *id, pg_result_cb cb, void *data);
void charge_store_attempts(pg_pool *pool, const char *reservation_id, int limit, pg_result_cb cb, void *data);

#endif
