/* key_table: set-associative, like a processor cache. A key hashes (with a
 * random seed per table, so that nobody can aim many keys at one set) to a
 * set of KEY_TABLE_WAYS entries; each operation looks at that set only, so
 * its cost does not depend on the number of keys. */
#include "key_table.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define KEY_TABLE_WAYS 8

/* Each entry is this header followed by the owner's value. */
typedef struct key_table_entry {
    uint64_t until_ms; /* 0: free */
    char key[KEY_TABLE_KEY_MAX];
    _Alignas(max_align_t) unsigned char value[];
} key_table_entry;

struct key_table {
    size_t sets;
    size_t stride; /* bytes from one entry to the next */
    size_t value_size;
    uint64_t seed;
    unsigned char *entries;
};

key_table *key_table_create(size_t capacity, size_t value_size)
{
    key_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->sets = capacity / KEY_TABLE_WAYS + (capacity % KEY_TABLE_WAYS != 0);
    if (t->sets == 0)
        t->sets = 1;
    size_t align = _Alignof(max_align_t);
    t->stride = (sizeof(key_table_entry) + value_size + align - 1) / align * align;
    t->value_size = value_size;
    if (getrandom(&t->seed, sizeof t->seed, 0) != (ssize_t)sizeof t->seed)
        t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ULL;
    t->entries = calloc(t->sets * KEY_TABLE_WAYS, t->stride);
    if (!t->entries) {
        free(t);
        return NULL;
    }
    return t;
}

void key_table_destroy(key_table *t)
{
    if (!t)
        return;
    free(t->entries);
    free(t);
}

/* FNV-1a over the seed and the key, then mixed (splitmix64's finalizer). */
static uint64_t key_hash(uint64_t seed, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 0x100000001b3ULL;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static key_table_entry *entry_at(const key_table *t, size_t set, size_t way)
{
    return (key_table_entry *)(t->entries + (set * KEY_TABLE_WAYS + way) * t->stride);
}

static void key_copy(char *to, const char *key)
{
    size_t len = strnlen(key, KEY_TABLE_KEY_MAX - 1);
    memcpy(to, key, len);
    to[len] = '\0';
}

static bool entry_is(const key_table_entry *e, const char *key, uint64_t now_ms)
{
    return e->until_ms > now_ms && strncmp(e->key, key, KEY_TABLE_KEY_MAX - 1) == 0;
}

static key_table_entry *find_entry(const key_table *t, const char *key, uint64_t now_ms)
{
    size_t set = key_hash(t->seed, key) % t->sets;
    for (size_t way = 0; way < KEY_TABLE_WAYS; way++) {
        key_table_entry *e = entry_at(t, set, way);
        if (entry_is(e, key, now_ms))
            return e;
    }
    return NULL;
}

void *key_table_find(key_table *t, const char *key, uint64_t now_ms)
{
    key_table_entry *e = find_entry(t, key, now_ms);
    return e ? e->value : NULL;
}

void *key_table_claim(key_table *t, const char *key, uint64_t now_ms)
{
    key_table_entry *e = find_entry(t, key, now_ms);
    if (e)
        return e->value;
    /* The entry that matters for the shortest time gives way (an expired
     * or free one first). */
    size_t set = key_hash(t->seed, key) % t->sets;
    key_table_entry *victim = entry_at(t, set, 0);
    for (size_t way = 1; way < KEY_TABLE_WAYS; way++) {
        key_table_entry *candidate = entry_at(t, set, way);
        if (candidate->until_ms < victim->until_ms)
            victim = candidate;
    }
    memset(victim, 0, t->stride);
    key_copy(victim->key, key);
    victim->until_ms = now_ms + 1;
    return victim->value;
}

void key_table_keep_until(void *value, uint64_t until_ms)
{
    key_table_entry *e = (key_table_entry *)((unsigned char *)value - offsetof(key_table_entry, value));
    e->until_ms = until_ms;
}

void key_table_remove(key_table *t, const char *key)
{
    key_table_entry *e = find_entry(t, key, 0);
    if (e)
        memset(e, 0, t->stride);
}
