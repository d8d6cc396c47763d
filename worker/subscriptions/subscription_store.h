/* subscription_store: the SQL of subscriptions as the API reads and changes
 * them; each call is one statement, which answers the row as the API shows
 * it (payment_subscription_document, sql/0009_subscriptions.sql). */
#ifndef PAYMENTS_SUBSCRIPTION_STORE_H
#define PAYMENTS_SUBSCRIPTION_STORE_H

#include "pg_pool.h"
#include "seal.h"

typedef struct subscription_record {
    char *id;
    char *reservation_id;
    char *password_hash; /* the reservation's; NULL in what a change answers */
    char *document;      /* JSON text */
    char *previous;      /* a change of state's: the document before it; else NULL */
} subscription_record;

void subscription_record_free(subscription_record *record);

/* record is the callback's to free; NULL with err on failure. */
typedef void (*subscription_record_cb)(subscription_record *record, const app_error *err, void *data);

typedef struct subscription_new {
    const char *reservation_id;
    const char *amount; /* numeric text */
    const char *currency;
    const char *name;
    const char *days; /* smallint[] literal */
    const char *last_day;
    const char *time;
    const char *zone;
    const char *webhook_url; /* may be NULL */
    const char *now;         /* the test clock, or NULL */
} subscription_new;

/* Inserts with its first due instant after now; 400 naming
 * schedule.time_zone when PostgreSQL knows no such zone (nothing written). */
void subscription_store_insert(pg_pool *pool, const subscription_new *input, subscription_record_cb cb, void *data);

/* 404 when there is none. */
void subscription_store_find(pg_pool *pool, const char *id, subscription_record_cb cb, void *data);

typedef enum subscription_change { SUBSCRIPTION_PAUSE, SUBSCRIPTION_RESUME, SUBSCRIPTION_CANCEL } subscription_change;

/* Pause: an active subscription charges no new period. Resume: a paused
 * or past-due one charges again from its next due instant after now (a
 * past-due one's dunning is over). Cancel: no period is ever charged again
 * (retries waiting are skipped). 409 when the state forbids the change. A
 * change of state queues its notification (sealed with ring) in the same
 * transaction. */
void subscription_store_change(pg_pool *pool, const seal_ring *ring, const char *id, subscription_change change,
                               const char *now, subscription_record_cb cb, void *data);

#endif
