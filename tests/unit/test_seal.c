/* Unit tests of seal: round trips, tamper detection, key rotation, values
 * written by the original server (AES-CBC) and by an independent
 * implementation of the v1 format, and garbage that must never open. */
#include "seal.h"
#include "unit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The history key and IV of the legacy vector below, ASCII as the original
 * server's PAYMENT_HISTORY_ENCRYPTION_KEY / _IV. */
#define HISTORY_KEY "A7fQ2mZx9LpR4tWv8KcN3bHs6JdE1yGu"
#define HISTORY_IV "pQ7rT2vX9zB4nM6k"
#define OTHER_KEY "Zq8Wm3Xc7Vb1Nk5Lp9Rt2Yh6Gf4Dj0Sa"
#define OTHER_IV "Hy3Jk8Lm1Np6Qr4S"

/* A stored value in the original server's format, made with Node 20:
 *   node -e "const c=require('crypto').createCipheriv('aes-256-cbc',
 *     'A7fQ2mZx9LpR4tWv8KcN3bHs6JdE1yGu', 'pQ7rT2vX9zB4nM6k');
 *     console.log(c.update(doc,'utf8','base64') + c.final('base64'))"
 * with doc = JSON.stringify of the document in LEGACY_JSON. */
static const char legacy_sealed[] =
    "GtcR1vrWClw44NVwV6q6nEl0y9UyqtS8euXX3h3s+2w5JyMKAddbyeAO1ik5c+QDss+EdZ+zcuOys9dBZmalkSZ0bOtkJOf4HqvCae"
    "jaUAiQVjZFU+59QPt4bospgC+gHq5ZuB63HkD5f1/nzzarwRZ6aH51cnjuKdhxNIAhY2E=";
#define LEGACY_JSON                                                                                        \
    "{\"imp_uid\":\"imp_123456789012\",\"merchant_uid\":\"order-1\",\"amount\":10000,\"status\":\"paid\"," \
    "\"name\":\"\xea\xb2\xb0\xec\xa0\x9c \xed\x85\x8c\xec\x8a\xa4\xed\x8a\xb8\"}"

/* A v1 value made independently with Python's cryptography package, pinning
 * the derivation and format (stored values must keep opening):
 *   k  = HKDF(SHA256, length=32, salt=b'payments seal salt v1',
 *             info=b'payments seal v1 histories').derive(key + iv)
 *   id = sha256(b'payments key id' + k).hexdigest()[:8]
 *   v  = 'v1.' + id + '.' + b64encode(nonce + AESGCM(k).encrypt(nonce, pt,
 *        b'v1.' + id))   with nonce = bytes(range(12)). */
static const char python_sealed[] =
    "v1.68192b6d.AAECAwQFBgcICQoL178cAWV0XiFwbTlUdAPGDmUMybO+PfuWb/dEvhnUQlIGxsOFFnAt12ETttIzV/SD";
static const char python_plain[] = "{\"status\":\"paid\",\"amount\":10000}";

static seal_ring ring_of(const char *key, const char *iv)
{
    seal_ring ring = {0};
    CHECK(seal_ring_add(&ring, key, iv, "histories") == 0);
    return ring;
}

/* Opens and compares with the expected bytes; frees. */
static int opens_to(const seal_ring *ring, const char *sealed, const void *expected, size_t expected_len)
{
    size_t len = 0;
    unsigned char *plain = seal_open(ring, sealed, &len);
    int ok = plain && len == expected_len && memcmp(plain, expected, len) == 0 && plain[len] == '\0';
    free(plain);
    return ok;
}

static int opens_not(const seal_ring *ring, const char *sealed)
{
    unsigned char *plain = seal_open(ring, sealed, NULL);
    free(plain);
    return plain == NULL;
}

UNIT_CASE(round_trip, NULL)
{
    seal_ring ring = ring_of(HISTORY_KEY, HISTORY_IV);
    const char text[] = "{\"card\":\"4111-1111\"}";
    char *sealed = seal_value(&ring, text, strlen(text));
    CHECK(sealed != NULL);
    if (!sealed)
        return;
    /* "v1.<8 lower-case hex>.<base64>" naming the ring's first key. */
    CHECK(strncmp(sealed, "v1.", 3) == 0 && strncmp(sealed + 3, ring.keys[0].id, 8) == 0 && sealed[11] == '.');
    for (int i = 3; i < 11; i++)
        CHECK(isxdigit((unsigned char)sealed[i]) && !isupper((unsigned char)sealed[i]));
    CHECK(strstr(sealed, "4111") == NULL);
    CHECK(opens_to(&ring, sealed, text, strlen(text)));
    /* Same text, fresh nonce: a different value each time. */
    char *again = seal_value(&ring, text, strlen(text));
    CHECK(again && strcmp(again, sealed) != 0);
    CHECK(again && opens_to(&ring, again, text, strlen(text)));
    free(again);
    free(sealed);

    /* Empty and binary (embedded NUL) values. */
    sealed = seal_value(&ring, "", 0);
    CHECK(sealed && opens_to(&ring, sealed, "", 0));
    free(sealed);
    const unsigned char binary[] = {0, 1, 2, 0, 255, 0};
    sealed = seal_value(&ring, binary, sizeof binary);
    CHECK(sealed && opens_to(&ring, sealed, binary, sizeof binary));
    free(sealed);
    seal_ring_clear(&ring);
}

/* Decodes the body of a v1 value, flips one bit at index (negative: from the
 * end) and re-encodes it, so only the authentication can catch it. */
static char *flip_body_bit(const char *sealed, long index)
{
    size_t box_len = 0;
    unsigned char *box = crypto_base64_decode(sealed + 12, strlen(sealed + 12), &box_len);
    if (!box)
        return NULL;
    box[index >= 0 ? (size_t)index : box_len - (size_t)-index] ^= 0x01;
    char *text = crypto_base64_encode(box, box_len, NULL);
    free(box);
    char *out = text ? malloc(12 + strlen(text) + 1) : NULL;
    if (out) {
        memcpy(out, sealed, 12);
        strcpy(out + 12, text);
    }
    free(text);
    return out;
}

UNIT_CASE(tampering, NULL)
{
    seal_ring ring = ring_of(HISTORY_KEY, HISTORY_IV);
    CHECK(seal_ring_add(&ring, OTHER_KEY, OTHER_IV, "histories") == 0);
    const char text[] = "{\"amount\":10000,\"status\":\"paid\"}";
    char *sealed = seal_value(&ring, text, strlen(text));
    CHECK(sealed != NULL);
    if (!sealed)
        return;
    const long where[] = {0 /* nonce */, 12 /* first ciphertext byte */, 20, -1 /* last tag byte */, -16};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        char *bad = flip_body_bit(sealed, where[i]);
        CHECK(bad && opens_not(&ring, bad));
        free(bad);
    }
    /* The header names the other ring key: AAD and key both differ. */
    char *relabelled = strdup(sealed);
    memcpy(relabelled + 3, ring.keys[1].id, 8);
    CHECK(opens_not(&ring, relabelled));
    /* An id no ring key has. */
    memcpy(relabelled + 3, strcmp(ring.keys[0].id, "00000000") ? "00000000" : "11111111", 8);
    CHECK(opens_not(&ring, relabelled));
    free(relabelled);
    /* Every truncation, and an appended byte. */
    size_t len = strlen(sealed);
    char *cut = malloc(len + 2);
    for (size_t n = 0; n < len; n++) {
        memcpy(cut, sealed, n);
        cut[n] = '\0';
        CHECK(opens_not(&ring, cut));
    }
    free(cut);
    char *longer = malloc(len + 5);
    memcpy(longer, sealed, len);
    strcpy(longer + len, "AAAA");
    CHECK(opens_not(&ring, longer));
    free(longer);
    CHECK(opens_to(&ring, sealed, text, strlen(text)));
    free(sealed);
    seal_ring_clear(&ring);
}

UNIT_CASE(rotation, NULL)
{
    seal_ring old_ring = ring_of(OTHER_KEY, OTHER_IV);
    const char text[] = "{\"sealed\":\"before rotation\"}";
    char *old_sealed = seal_value(&old_ring, text, strlen(text));
    CHECK(old_sealed != NULL);

    /* The new key seals; the old one, added after it, still opens. */
    seal_ring rotated = ring_of(HISTORY_KEY, HISTORY_IV);
    CHECK(seal_ring_add(&rotated, OTHER_KEY, OTHER_IV, "histories") == 0);
    CHECK(rotated.count == 2);
    CHECK(strcmp(rotated.keys[0].id, rotated.keys[1].id) != 0);
    CHECK(old_sealed && opens_to(&rotated, old_sealed, text, strlen(text)));
    char *new_sealed = seal_value(&rotated, text, strlen(text));
    CHECK(new_sealed && strncmp(new_sealed + 3, rotated.keys[0].id, 8) == 0);
    /* A ring without the old key cannot open what it sealed. */
    seal_ring new_only = ring_of(HISTORY_KEY, HISTORY_IV);
    CHECK(old_sealed && opens_not(&new_only, old_sealed));
    CHECK(new_sealed && opens_to(&new_only, new_sealed, text, strlen(text)));
    CHECK(new_sealed && opens_not(&old_ring, new_sealed));
    free(old_sealed);
    free(new_sealed);
    seal_ring_clear(&old_ring);
    seal_ring_clear(&rotated);
    seal_ring_clear(&new_only);
}

/* The same key and IV give each table its own key (label), and the same
 * label always the same key. */
UNIT_CASE(labels, NULL)
{
    seal_ring histories = ring_of(HISTORY_KEY, HISTORY_IV);
    seal_ring again = ring_of(HISTORY_KEY, HISTORY_IV);
    seal_ring reservations = {0};
    CHECK(seal_ring_add(&reservations, HISTORY_KEY, HISTORY_IV, "reservations") == 0);
    CHECK(strcmp(histories.keys[0].id, again.keys[0].id) == 0);
    CHECK(memcmp(histories.keys[0].key, again.keys[0].key, 32) == 0);
    CHECK(strcmp(histories.keys[0].id, reservations.keys[0].id) != 0);
    CHECK(memcmp(histories.keys[0].key, reservations.keys[0].key, 32) != 0);
    char *sealed = seal_value(&histories, "x", 1);
    CHECK(sealed && opens_not(&reservations, sealed));
    free(sealed);
    seal_ring_clear(&histories);
    seal_ring_clear(&again);
    seal_ring_clear(&reservations);
}

UNIT_CASE(known_values, NULL)
{
    /* The original server's format. */
    seal_ring ring = ring_of(HISTORY_KEY, HISTORY_IV);
    CHECK(opens_to(&ring, legacy_sealed, LEGACY_JSON, strlen(LEGACY_JSON)));
    /* After a rotation the legacy key is an older ring entry: still opens. */
    seal_ring rotated = ring_of(OTHER_KEY, OTHER_IV);
    CHECK(seal_ring_add(&rotated, HISTORY_KEY, HISTORY_IV, "histories") == 0);
    CHECK(opens_to(&rotated, legacy_sealed, LEGACY_JSON, strlen(LEGACY_JSON)));
    seal_ring other = ring_of(OTHER_KEY, OTHER_IV);
    CHECK(opens_not(&other, legacy_sealed));

    /* The v1 format, as written by an independent implementation. */
    CHECK_STR(ring.keys[0].id, "68192b6d");
    CHECK(opens_to(&ring, python_sealed, python_plain, strlen(python_plain)));
    CHECK(opens_to(&rotated, python_sealed, python_plain, strlen(python_plain)));
    CHECK(opens_not(&other, python_sealed));
    seal_ring_clear(&ring);
    seal_ring_clear(&rotated);
    seal_ring_clear(&other);
}

UNIT_CASE(garbage, NULL)
{
    seal_ring ring = ring_of(HISTORY_KEY, HISTORY_IV);
    char header[] = "v1.68192b6d.";
    const char *bad[] = {
        "",
        "v",
        "v1",
        "v1.",
        "v1.68192b6d",
        header,
        "v1.68192b6d.!!!!",
        "v1.68192b6d.AAAA",
        "v1.68192b6d.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==", /* nonce + tag, wrong tag */
        "v1.68192b6d.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBka",     /* one byte short of that */
        "v1.68192b6dXAAECAwQFBgcICQoL",
        "v1.6819.AAAA",
        "v2.68192b6d.AAAA",
        "not base64 at all",
        "QUJD",
        "QUJDREVGR0hJSktMTU5PUA==", /* one block, padding (almost surely) wrong */
        "====",
        "A",
        "\xff\xfe\xfd",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(opens_not(&ring, bad[i]));
    CHECK(seal_open(&ring, NULL, NULL) == NULL);
    CHECK(seal_open(NULL, python_sealed, NULL) == NULL);
    seal_ring empty = {0};
    CHECK(opens_not(&empty, python_sealed));
    CHECK(opens_not(&empty, legacy_sealed));
    CHECK(seal_value(&empty, "x", 1) == NULL);
    CHECK(seal_value(&ring, NULL, 1) == NULL);
    /* Random bytes after a valid header and as a legacy value. */
    srand(7);
    char noise[200];
    for (int round = 0; round < 500; round++) {
        size_t n = (size_t)(rand() % (int)(sizeof noise - 13));
        memcpy(noise, header, 12);
        for (size_t i = 0; i < n; i++)
            noise[12 + i] = (char)(1 + rand() % 255);
        noise[12 + n] = '\0';
        CHECK(opens_not(&ring, noise));
        CHECK(opens_not(&ring, noise + 12));
    }
    seal_ring_clear(&ring);
}

UNIT_CASE(ring_limits, NULL)
{
    seal_ring ring = {0};
    CHECK(seal_ring_add(&ring, "short", HISTORY_IV, "histories") == -1);
    CHECK(seal_ring_add(&ring, HISTORY_KEY, "short", "histories") == -1);
    CHECK(seal_ring_add(&ring, HISTORY_KEY, HISTORY_IV, NULL) == -1);
    CHECK(ring.count == 0);
    /* AES-128 keys of the original server are accepted too. */
    CHECK(seal_ring_add(&ring, "0123456789abcdef", HISTORY_IV, "histories") == 0);
    for (int i = 1; i < SEAL_MAX_KEYS; i++)
        CHECK(seal_ring_add(&ring, HISTORY_KEY, HISTORY_IV, "histories") == 0);
    CHECK(ring.count == SEAL_MAX_KEYS);
    CHECK(seal_ring_add(&ring, OTHER_KEY, OTHER_IV, "histories") == -1);
    CHECK(ring.count == SEAL_MAX_KEYS);
    seal_ring_clear(&ring);
    CHECK(ring.count == 0);
    unsigned char zero[32] = {0};
    CHECK(memcmp(ring.keys[0].key, zero, sizeof zero) == 0);
}
