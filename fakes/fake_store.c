/* fake_store: records in one list kept in age order (oldest at the head) and a
 * chained hash table for lookup. A record's age counts from its first insert,
 * so the list is also expiry order: sweeping and evicting only ever look at
 * the head, and every operation is O(1) on average. */
#include "fake_store.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAKE_STORE_INITIAL_BUCKETS 64

typedef struct fake_record {
    char *key;
    json_t *value;
    uint64_t expires_at_ms;            /* 0: never */
    struct fake_record *older, *newer; /* age list */
    struct fake_record *chain;         /* hash bucket */
} fake_record;

struct fake_store {
    size_t capacity; /* 0: unbounded */
    uint64_t ttl_ms; /* 0: records never expire */
    fake_store_expiry expiry;
    size_t count;
    fake_record *oldest, *newest;
    fake_record **buckets;
    size_t bucket_count; /* a power of two */
};

static uint64_t store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* FNV-1a: short keys, no adversary worth a keyed hash in a test fake. */
static uint64_t store_hash(const char *key)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h;
}

static fake_record **store_slot(fake_store *s, const char *key)
{
    fake_record **slot = &s->buckets[store_hash(key) & (s->bucket_count - 1)];
    while (*slot && strcmp((*slot)->key, key) != 0)
        slot = &(*slot)->chain;
    return slot;
}

fake_store *fake_store_create(size_t capacity, uint64_t ttl_ms, fake_store_expiry expiry)
{
    fake_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->buckets = calloc(FAKE_STORE_INITIAL_BUCKETS, sizeof *s->buckets);
    if (!s->buckets) {
        free(s);
        return NULL;
    }
    s->bucket_count = FAKE_STORE_INITIAL_BUCKETS;
    s->capacity = capacity;
    s->ttl_ms = ttl_ms;
    s->expiry = expiry;
    return s;
}

static void record_free(fake_record *r)
{
    json_decref(r->value);
    free(r->key);
    free(r);
}

void fake_store_destroy(fake_store *s)
{
    if (!s)
        return;
    fake_record *r = s->oldest;
    while (r) {
        fake_record *next = r->newer;
        record_free(r);
        r = next;
    }
    free(s->buckets);
    free(s);
}

/* Unlinks the record from its bucket and the age list, then frees it. */
static void store_unlink(fake_store *s, fake_record *r)
{
    fake_record **slot = store_slot(s, r->key);
    *slot = r->chain;
    if (r->older)
        r->older->newer = r->newer;
    else
        s->oldest = r->newer;
    if (r->newer)
        r->newer->older = r->older;
    else
        s->newest = r->older;
    s->count--;
    record_free(r);
}

static bool record_expired(const fake_record *r, uint64_t now)
{
    return r->expires_at_ms != 0 && r->expires_at_ms <= now;
}

void fake_store_sweep(fake_store *s)
{
    uint64_t now = store_now_ms();
    while (s->oldest && record_expired(s->oldest, now))
        store_unlink(s, s->oldest);
}

/* Before a read: the sweep that expiring on read asks for. */
static void store_sweep_for_read(fake_store *s)
{
    if (s->expiry == FAKE_EXPIRY_ON_READ)
        fake_store_sweep(s);
}

/* Doubles the table when records outnumber buckets; on failure the table
 * simply stays smaller, which is slower but still correct. */
static void store_grow(fake_store *s)
{
    if (s->count < s->bucket_count)
        return;
    size_t new_count = s->bucket_count * 2;
    fake_record **buckets = calloc(new_count, sizeof *buckets);
    if (!buckets)
        return;
    for (fake_record *r = s->oldest; r; r = r->newer) {
        size_t i = store_hash(r->key) & (new_count - 1);
        r->chain = buckets[i];
        buckets[i] = r;
    }
    free(s->buckets);
    s->buckets = buckets;
    s->bucket_count = new_count;
}

static int store_insert(fake_store *s, const char *key, json_t *value)
{
    fake_record *r = calloc(1, sizeof *r);
    char *copy = strdup(key);
    if (!r || !copy) {
        free(r);
        free(copy);
        json_decref(value);
        return -1;
    }
    r->key = copy;
    r->value = value;
    r->expires_at_ms = s->ttl_ms ? store_now_ms() + s->ttl_ms : 0;
    fake_record **slot = store_slot(s, key);
    *slot = r;
    r->older = s->newest;
    if (s->newest)
        s->newest->newer = r;
    else
        s->oldest = r;
    s->newest = r;
    s->count++;
    store_grow(s);
    return 0;
}

int fake_store_put(fake_store *s, const char *key, json_t *value)
{
    if (!s || !key || !value) {
        json_decref(value);
        return -1;
    }
    fake_store_sweep(s);
    fake_record *existing = *store_slot(s, key);
    if (existing) {
        if (existing->value != value) {
            json_decref(existing->value);
            existing->value = value;
        } else {
            json_decref(value); /* the store already held this reference */
        }
        return 0;
    }
    while (s->capacity && s->count >= s->capacity)
        store_unlink(s, s->oldest);
    return store_insert(s, key, value);
}

json_t *fake_store_get(fake_store *s, const char *key)
{
    if (!s || !key)
        return NULL;
    store_sweep_for_read(s);
    fake_record *r = *store_slot(s, key);
    return r ? r->value : NULL;
}

int fake_store_remove(fake_store *s, const char *key)
{
    if (!s || !key)
        return 0;
    store_sweep_for_read(s);
    fake_record *r = *store_slot(s, key);
    if (!r)
        return 0;
    store_unlink(s, r);
    return 1;
}

size_t fake_store_count(fake_store *s)
{
    if (!s)
        return 0;
    store_sweep_for_read(s);
    return s->count;
}
