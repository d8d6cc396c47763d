/* Unit test of fake_store: the fakes promise records that expire, a capacity
 * that drops the oldest first, and replacement that does not make an old
 * record young again. */
#include "fake_store.h"
#include "unit.h"

#include <stdio.h>
#include <time.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static json_t *number_doc(int n)
{
    return json_pack("{s:i}", "n", n);
}

static int doc_number(json_t *doc)
{
    return doc ? (int)json_integer_value(json_object_get(doc, "n")) : -1;
}

UNIT_CASE(put_get_remove, NULL)
{
    fake_store *s = fake_store_create(10, 0, FAKE_EXPIRY_ON_READ);
    CHECK(s != NULL);
    CHECK(fake_store_put(s, "a", number_doc(1)) == 0);
    CHECK(fake_store_put(s, "b", number_doc(2)) == 0);
    CHECK(doc_number(fake_store_get(s, "a")) == 1);
    CHECK(doc_number(fake_store_get(s, "b")) == 2);
    CHECK(fake_store_get(s, "c") == NULL);
    CHECK(fake_store_count(s) == 2);
    CHECK(fake_store_remove(s, "a") == 1);
    CHECK(fake_store_remove(s, "a") == 0);
    CHECK(fake_store_get(s, "a") == NULL);
    CHECK(fake_store_count(s) == 1);
    /* Putting the very document already stored must not free it. */
    json_t *b = fake_store_get(s, "b");
    CHECK(fake_store_put(s, "b", json_incref(b)) == 0);
    CHECK(doc_number(fake_store_get(s, "b")) == 2);
    fake_store_destroy(s);
}

/* A store of capacity 3 (no expiry) given keys in order, numbered from 1. */
static fake_store *store_of_three(const char *const *keys, int count)
{
    fake_store *s = fake_store_create(3, 0, FAKE_EXPIRY_ON_STORE);
    if (!CHECK(s != NULL))
        return NULL;
    for (int i = 0; i < count; i++)
        CHECK(fake_store_put(s, keys[i], number_doc(i + 1)) == 0);
    return s;
}

UNIT_CASE(capacity_evicts_oldest, NULL)
{
    static const char *const keys[] = {"first", "second", "third", "fourth"};
    fake_store *s = store_of_three(keys, 4);
    if (!s)
        return;
    CHECK(fake_store_count(s) == 3);
    CHECK(fake_store_get(s, "first") == NULL);
    CHECK(doc_number(fake_store_get(s, "second")) == 2);
    CHECK(doc_number(fake_store_get(s, "fourth")) == 4);
    CHECK(fake_store_put(s, "fifth", number_doc(5)) == 0);
    CHECK(fake_store_get(s, "second") == NULL);
    CHECK(doc_number(fake_store_get(s, "third")) == 3);
    fake_store_destroy(s);
}

UNIT_CASE(replace_keeps_order, NULL)
{
    static const char *const keys[] = {"a", "b", "c"};
    fake_store *s = store_of_three(keys, 3);
    if (!s)
        return;
    /* Replacing "a" changes its value, not its age: it is still the oldest. */
    CHECK(fake_store_put(s, "a", number_doc(10)) == 0);
    CHECK(fake_store_count(s) == 3);
    CHECK(doc_number(fake_store_get(s, "a")) == 10);
    CHECK(fake_store_put(s, "d", number_doc(4)) == 0);
    CHECK(fake_store_get(s, "a") == NULL);
    CHECK(doc_number(fake_store_get(s, "b")) == 2);
    CHECK(doc_number(fake_store_get(s, "d")) == 4);
    fake_store_destroy(s);
}

UNIT_CASE(expiry, NULL)
{
    fake_store *s = fake_store_create(100, 100, FAKE_EXPIRY_ON_READ);
    CHECK(fake_store_put(s, "old", number_doc(1)) == 0);
    CHECK(doc_number(fake_store_get(s, "old")) == 1);
    sleep_ms(150);
    CHECK(fake_store_put(s, "young", number_doc(2)) == 0);
    /* "old" is past its 100 ms; "young" was just stored. */
    CHECK(doc_number(fake_store_get(s, "young")) == 2);
    CHECK(fake_store_get(s, "old") == NULL);
    CHECK(fake_store_count(s) == 1);
    sleep_ms(150);
    CHECK(fake_store_get(s, "young") == NULL);
    CHECK(fake_store_count(s) == 0);
    fake_store_destroy(s);
}

/* The original fakes' expiry: a record past its ttl stays readable until a
 * record is stored, which drops every expired one but itself. */
UNIT_CASE(expiry_on_store, NULL)
{
    fake_store *s = fake_store_create(100, 50, FAKE_EXPIRY_ON_STORE);
    CHECK(fake_store_put(s, "old", number_doc(1)) == 0);
    sleep_ms(100);
    CHECK(doc_number(fake_store_get(s, "old")) == 1);
    CHECK(fake_store_count(s) == 1);
    CHECK(fake_store_put(s, "young", number_doc(2)) == 0);
    CHECK(fake_store_get(s, "old") == NULL);
    sleep_ms(100);
    CHECK(doc_number(fake_store_get(s, "young")) == 2);
    fake_store_destroy(s);
}

/* Puts documents 0 to count - 1 under keys prefix0, prefix1, ...: each put
 * succeeds, a full store dropping its oldest. */
static void put_numbered(fake_store *s, const char *prefix, int count)
{
    char key[16];
    for (int i = 0; i < count; i++) {
        snprintf(key, sizeof key, "%s%d", prefix, i);
        CHECK(fake_store_put(s, key, number_doc(i)) == 0);
    }
}

UNIT_CASE(sweep, NULL)
{
    fake_store *s = fake_store_create(0, 30, FAKE_EXPIRY_ON_STORE);
    put_numbered(s, "k", 200);
    CHECK(doc_number(fake_store_get(s, "k0")) == 0);
    CHECK(doc_number(fake_store_get(s, "k199")) == 199);
    sleep_ms(60);
    fake_store_sweep(s);
    CHECK(fake_store_count(s) == 0);
    /* The store is usable after a sweep emptied it. */
    CHECK(fake_store_put(s, "again", number_doc(7)) == 0);
    CHECK(doc_number(fake_store_get(s, "again")) == 7);
    fake_store_destroy(s);
}

UNIT_CASE(many_keys, NULL)
{
    fake_store *s = fake_store_create(5000, 0, FAKE_EXPIRY_ON_STORE);
    put_numbered(s, "key-", 6000);
    CHECK(fake_store_count(s) == 5000);
    CHECK(fake_store_get(s, "key-999") == NULL);
    CHECK(doc_number(fake_store_get(s, "key-1000")) == 1000);
    CHECK(doc_number(fake_store_get(s, "key-5999")) == 5999);
    fake_store_destroy(s);
}
