/* history_store: payment histories and their cancels in PostgreSQL. Reads
 * are one statement; each write is one transaction (db_transaction), so a
 * history never exists without its cancels or with half an update. */
#ifndef PAYMENTS_HISTORY_STORE_H
#define PAYMENTS_HISTORY_STORE_H

#include "db_transaction.h"
#include "history_values.h"
#include "payment_input.h"
#include "payment_unique.h"
#include "pg_pool.h"

/* A stored history as text, owned by whoever received it. */
typedef struct history_record {
    char *id;
    char *vendor_code;
    char *vendor_store_id;
    char *vendor_uid;
    char *source_schema;
    char *source_table;
    char *source_id;
    char *webhook_url; /* NULL when none */
    char *currency;
    char *price;  /* numeric text */
    char *refund; /* numeric text; NULL when nothing was refunded */
    char *password_hash;
    char *data;       /* the vendor's document, sealed */
    char *created_at; /* ISO-8601 UTC with milliseconds */
    char *paid_at;    /* NULL when unpaid */
    char *cancelled_at;
    char *cancels; /* JSON array text: [{reason, price, created_at}] in the vendor's order */
} history_record;

void history_record_free(history_record *record);

/* record is the callback's to free; NULL with err set on failure (404 when
 * there is no such history). */
typedef void (*history_record_cb)(history_record *record, const app_error *err, void *data);

void history_store_find_by_id(pg_pool *pool, const char *id, history_record_cb cb, void *data);
void history_store_find_by_source(pg_pool *pool, const payment_source_input *source, history_record_cb cb, void *data);
/* The history of a vendor payment (a vendor's webhook names only that). */
void history_store_find_by_vendor(pg_pool *pool, const char *vendor_code, const char *vendor_uid, history_record_cb cb,
                                  void *data);

/* err is NULL when neither the source nor the vendor payment is recorded
 * yet; else 409 saying which one is (payment_unique). */
void history_store_check_new(pg_pool *pool, const payment_source_input *source, const payment_vendor_input *vendor,
                             payment_unique_cb cb, void *data);

typedef struct history_new {
    const payment_vendor_input *vendor;
    const payment_source_input *source;
    const char *webhook_url;
    const char *password_hash;
    const char *price; /* numeric text */
    const history_values *values;
    /* Run last in the same transaction (an operation's settlement), or NULL. */
    const db_statement *also;
} history_new;

/* Inserts the history and its cancels; answers the stored record (409 when
 * the source or vendor payment was recorded meanwhile). input and what it
 * points to must stay valid until cb runs. */
void history_store_insert(pg_pool *pool, const history_new *input, history_record_cb cb, void *data);

/* Watches history_store_apply from inside its transaction, so that what a
 * change leaves behind (a webhook record, a notification) commits with it. */
typedef struct history_observer {
    /* previous: the history as locked before the update; current: as it
     * reads after it (both borrowed for the call). May fill *extra with a
     * statement to run before COMMIT (its parameters the observer's, valid
     * until the apply's callback) or leave extra->sql NULL. Returns 0, or -1
     * with err set to roll the whole write back. */
    int (*observe)(const history_record *previous, const history_record *current, db_statement *extra, app_error *err,
                   void *data);
    /* Reads the extra statement's result, like any db_statement read; may be NULL. */
    db_read_fn read_extra;
    void *data;
    /* Run last in the same transaction whatever changed (an operation's
     * settlement), or NULL; valid until the apply's callback. */
    const db_statement *also;
} history_observer;

/* Records a newer vendor answer on an existing history: refund, times and
 * document, and the cancels not stored yet. An answer with fewer cancels
 * than already stored is older than what we have and changes nothing, and
 * an answer without a paid time keeps the one stored (a payment is never
 * unpaid again). observer may be NULL. Answers the stored record. id, values
 * and observer must stay valid until cb runs. */
void history_store_apply(pg_pool *pool, const char *id, const history_values *values, const history_observer *observer,
                         history_record_cb cb, void *data);

/* Replaces a password hash in an older format after a successful check;
 * nothing happens if the hash changed meanwhile. Failures are only logged. */
void history_store_upgrade_password(pg_pool *pool, const char *id, const char *old_hash, const char *new_hash);

#endif
