/* payment_unique: the two uniqueness rules every table of payment records
 * keeps (histories, reservations): one record per source, one per vendor
 * uid. They are checked before the vendor is asked, so that a duplicate never
 * reaches it, and enforced again by the table's unique keys at the INSERT (a
 * duplicate recorded meanwhile); both ways end in the same 409s. */
#ifndef PAYMENTS_PAYMENT_UNIQUE_H
#define PAYMENTS_PAYMENT_UNIQUE_H

#include "payment_input.h"
#include "pg_pool.h"

/* The check's SELECT on table: $1..$3 the source, $4 and $5 the vendor code
 * and uid. */
#define PAYMENT_UNIQUE_CHECK_SQL(table)                                                                \
    "SELECT coalesce(bool_or(source_schema = $1 AND source_table = $2 AND source_id = $3), false)"     \
    " AS source_taken, coalesce(bool_or(vendor_code = $4 AND vendor_uid = $5), false) AS vendor_taken" \
    " FROM " table " WHERE (source_schema = $1 AND source_table = $2 AND source_id = $3)"              \
    " OR (vendor_code = $4 AND vendor_uid = $5)"

/* One table's rules. */
typedef struct payment_unique {
    const char *check_sql;  /* PAYMENT_UNIQUE_CHECK_SQL of the table */
    const char *source_key; /* the unique keys, as a violation names them */
    const char *vendor_key;
    const char *source_taken; /* the 409 messages */
    const char *vendor_taken;
} payment_unique;

/* err is NULL when neither the source nor the vendor uid is recorded yet;
 * else 409 saying which one is. */
typedef void (*payment_unique_cb)(const app_error *err, void *data);

void payment_unique_check(pg_pool *pool, const payment_unique *rules, const payment_source_input *source,
                          const payment_vendor_input *vendor, payment_unique_cb cb, void *data);

/* A failed INSERT's error in the API's words: the 409 of the key it
 * violated, else err as it is. */
void payment_unique_explain(const payment_unique *rules, const app_error *err, app_error *out);

#endif
