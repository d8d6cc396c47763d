/* webhook_store: the SQL of webhook records and their outbox (tables in
 * sql/0003_webhooks.sql). A record and its notification are written inside
 * the transaction that changed the history (history_store_apply's
 * observer); deliveries are claimed, finished and re-sent by single
 * statements, so no worker ever holds a transaction open across a network
 * call. */
#ifndef PAYMENTS_WEBHOOK_STORE_H
#define PAYMENTS_WEBHOOK_STORE_H

#include "db_count.h"
#include "db_transaction.h"
#include "pg_pool.h"

#include <stdint.h>

/* ---- recording a change ---- */

typedef struct webhook_new {
    const char *history_id;
    const char *origin;     /* "vendor" or "cancel" */
    const char *event;      /* the vendor's event, sealed; NULL for a cancel */
    const char *previous;   /* the history before the change, sealed */
    const char *current;    /* the history after it, sealed */
    const char *request_id; /* of the request that caused the change, "" when none */
} webhook_new;

#define WEBHOOK_NEW_PARAMS 6

/* The statement inserting the record and, when the history has a
 * webhook_url, its pending notification; its result has one row per
 * notification queued. params (the caller's) is filled from in; both must
 * stay valid until the statement ran. */
void webhook_store_insert_statement(const webhook_new *in, const char *params[WEBHOOK_NEW_PARAMS], db_statement *out);

/* ---- the outbox ---- */

/* A claimed notification, as text, owned by whoever received it. */
typedef struct webhook_claimed {
    char *id;             /* the delivery */
    char *webhook_id;     /* the notification's id, as the receiver sees it */
    char *history_id;     /* or the subscription's id (its event), or the incident's (an alert) */
    char *attempt;        /* this attempt's number, counting all before it */
    char *schedule_start; /* attempts before the current retry schedule */
    char *webhook_url;
    char *source_schema;
    char *source_table;
    char *source_id;
    char *previous; /* sealed */
    char *current;  /* sealed */
    char *event;    /* a subscription's event, sealed; NULL for a history's notification */
    char *alert;    /* an alert's text (sql/0011_alerts.sql), plain; NULL for a notification */
} webhook_claimed;

void webhook_claimed_free(webhook_claimed *row);

/* rows (count of them) are the callback's: each freed with
 * webhook_claimed_free, then the array with free. NULL with err on failure. */
typedef void (*webhook_claim_cb)(webhook_claimed **rows, size_t count, const app_error *err, void *data);

/* How many notifications one claim takes at most: a constant of the SQL
 * text, so that the plan the claim pins (webhook_store.c) is made for a
 * batch this small whatever the backlog. A claim is a transaction of four
 * round trips, so a larger batch spends fewer of them per notification;
 * with slow receivers the fan-out benchmark moved little either way (944/s
 * with 16, 960/s with 64): the claims were not what held it. */
#define WEBHOOK_STORE_CLAIM_BATCH 64

/* Claims up to WEBHOOK_STORE_CLAIM_BATCH due notifications for claim_ms:
 * pending ones whose time has come and claims that expired (their worker
 * stopped; that lost attempt is written down), each only when every earlier
 * notification of its history is delivered or failed. */
void webhook_store_claim(pg_pool *pool, uint64_t claim_ms, webhook_claim_cb cb, void *data);

typedef enum webhook_outcome {
    WEBHOOK_DELIVERED, /* a 2xx answer */
    WEBHOOK_RETRY,     /* try again after delay_ms */
    WEBHOOK_FAILED,    /* the last attempt failed */
    WEBHOOK_RELEASED,  /* interrupted by a stopping worker: again at once, not counted */
} webhook_outcome;

/* One attempt's result, as webhook_store_finish records it. */
typedef struct webhook_attempt {
    const webhook_claimed *row;
    long status;       /* HTTP status; 0 when none came */
    const char *body;  /* the answer (printable, truncated) or NULL */
    const char *error; /* why no answer came, or NULL */
    uint64_t duration_ms;
    webhook_outcome outcome;
    uint64_t delay_ms; /* WEBHOOK_RETRY */
} webhook_attempt;

/* Stores the attempt and moves the notification on, unless its claim was
 * taken over meanwhile (then only the attempt is stored). done runs once;
 * failures are logged there too. */
void webhook_store_finish(pg_pool *pool, const webhook_attempt *attempt, void (*done)(const app_error *err, void *data),
                          void *data);

/* Failed notifications back to pending with a fresh retry schedule; of one
 * history when history_id is not NULL. done gets how many. */
typedef db_count_cb webhook_count_cb;
void webhook_store_retry_failed(pg_pool *pool, const char *history_id, webhook_count_cb done, void *data);

/* ---- the test receiver (local mode) ---- */

typedef struct webhook_received {
    const char *history_id;
    const char *webhook_id;
    bool signed_ok;   /* the signature headers verified */
    const char *body; /* the notification, sealed */
} webhook_received;

void webhook_store_keep_received(pg_pool *pool, const webhook_received *in,
                                 void (*done)(const app_error *err, void *data), void *data);
/* What the receiver kept for a history, oldest first: one row per
 * notification with columns signed ("t"/"f") and body (sealed). res is
 * valid during the callback only. */
void webhook_store_list_received(pg_pool *pool, const char *history_id, pg_result_cb cb, void *data);

#endif
