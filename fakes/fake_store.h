/* fake_store: the fakes' records, kept in memory with an expiry (ttl) and a
 * capacity; past capacity the oldest record goes first. Keys are strings,
 * values jansson documents. Expired records are dropped lazily, when a record
 * is stored (and, expiring on read, on every access), and by
 * fake_store_sweep. */
#ifndef PAYMENTS_FAKE_STORE_H
#define PAYMENTS_FAKE_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fake_store fake_store;

/* When a record past its ttl stops being readable. */
typedef enum fake_store_expiry {
    /* The original fakes: expired records are dropped when a record is
     * stored, never when one is read, so the newest stays readable. */
    FAKE_EXPIRY_ON_STORE,
    /* The real vendors (and --strict): past its ttl a record is gone. */
    FAKE_EXPIRY_ON_READ,
} fake_store_expiry;

fake_store *fake_store_create(size_t capacity, uint64_t ttl_ms, fake_store_expiry expiry);
void fake_store_destroy(fake_store *s);
/* Inserts or replaces; takes the caller's reference to value. A replaced
 * record keeps its place in age order. Returns 0 or -1. */
int fake_store_put(fake_store *s, const char *key, json_t *value);
/* Borrowed reference, or NULL when absent (or expired, expiring on read). */
json_t *fake_store_get(fake_store *s, const char *key);
/* Returns 1 when a record was removed, 0 when there was none. */
int fake_store_remove(fake_store *s, const char *key);
size_t fake_store_count(fake_store *s);
/* Drops expired records, whatever the expiry. */
void fake_store_sweep(fake_store *s);

#endif
