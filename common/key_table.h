/* key_table: a bounded table of small per-key states (a client address, a
 * record id), for the guessing limiter and the request rate limiter. Its
 * capacity is fixed: an attacker with many addresses cannot make it grow;
 * a new key takes the place of the entry of its set that expires first. */
#ifndef PAYMENTS_KEY_TABLE_H
#define PAYMENTS_KEY_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* Longer keys are cut: an IPv6 address (46) or a UUID (36) fits. */
#define KEY_TABLE_KEY_MAX 64

typedef struct key_table key_table;

/* capacity entries (rounded up to whole sets), each with a zeroed value of
 * value_size bytes. NULL when memory runs out. */
key_table *key_table_create(size_t capacity, size_t value_size);
void key_table_destroy(key_table *t);

/* The value kept for key, or NULL when the key has none or it expired by
 * now_ms. */
void *key_table_find(key_table *t, const char *key, uint64_t now_ms);
/* The value kept for key, made (zeroed) when it has none, possibly in the
 * place of another key's. Never NULL. */
void *key_table_claim(key_table *t, const char *key, uint64_t now_ms);
/* Until when the entry of value matters: after that it counts as absent and
 * is the first to give way. Owners set it at each change. */
void key_table_keep_until(void *value, uint64_t until_ms);
void key_table_remove(key_table *t, const char *key);

#endif
