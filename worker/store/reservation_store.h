/* reservation_store: reservations (billing keys, as each vendor names
 * them) in PostgreSQL. Reads are one statement; the insert is one
 * transaction that also reads the row back. */
#ifndef PAYMENTS_RESERVATION_STORE_H
#define PAYMENTS_RESERVATION_STORE_H

#include "payment_input.h"
#include "payment_unique.h"
#include "pg_pool.h"

typedef struct reservation_record {
    char *id;
    char *vendor_code;
    char *vendor_store_id;
    char *vendor_uid;
    char *source_schema;
    char *source_table;
    char *source_id;
    char *title;
    char *password_hash;
    char *data;       /* the vendor's billing document, sealed */
    char *created_at; /* ISO-8601 UTC with milliseconds */
} reservation_record;

void reservation_record_free(reservation_record *record);

/* record is the callback's to free; NULL with err on failure (404 when there
 * is no such reservation). */
typedef void (*reservation_record_cb)(reservation_record *record, const app_error *err, void *data);

void reservation_store_find_by_id(pg_pool *pool, const char *id, reservation_record_cb cb, void *data);
void reservation_store_find_by_source(pg_pool *pool, const payment_source_input *source, reservation_record_cb cb,
                                      void *data);
/* err is NULL when neither the source nor the billing key is recorded yet;
 * else 409 saying which one is (payment_unique). */
void reservation_store_check_new(pg_pool *pool, const payment_source_input *source, const payment_vendor_input *vendor,
                                 payment_unique_cb cb, void *data);

typedef struct reservation_new {
    const payment_vendor_input *vendor;
    const payment_source_input *source;
    const char *title;
    const char *password_hash;
    const char *data; /* sealed */
} reservation_new;

/* Inserts and answers the stored record (409 when recorded meanwhile).
 * input and what it points to must stay valid until cb runs. */
void reservation_store_insert(pg_pool *pool, const reservation_new *input, reservation_record_cb cb, void *data);

/* As history_store_upgrade_password. */
void reservation_store_upgrade_password(pg_pool *pool, const char *id, const char *old_hash, const char *new_hash);

#endif
