/* The payment API's request envelope: thousands of mutated bodies of every
 * kind that cannot become a JSON object (empty, bad base64, partial blocks,
 * bad padding, bad JSON under good padding, bad UTF-8, not an object, a key
 * twice) get one and the same 400, so no answer can act as a padding oracle. */
#include "api_body.h"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>

static const char KEY[] = "conn-key-0123456789abcdef0123456";
static const char IV[] = "conn-iv-01234567";
static const char UNREADABLE[] = "request body cannot be read with the connection key";

/* How many bodies each kind of failure gets. */
#define BODIES_PER_KIND 2000
#define BLOCK 16

/* A body of any bytes, malloc'd, with its length. */
typedef struct body {
    char *text;
    size_t len;
} body;

/* A fixed xorshift sequence: the same bodies on every run. */
static uint64_t random_state = 0x9e3779b97f4a7c15u;

static uint32_t random_below(uint32_t bound)
{
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return (uint32_t)(random_state % bound);
}

static json_t *read_body(const crypto_cbc_key *key, const body *b, app_error *err)
{
    http_request request = {0};
    request.body = b->text;
    request.body_len = b->len;
    app_error_clear(err);
    return api_body_read(key, &request, err);
}

static body sealed_bytes(const crypto_cbc_key *key, const void *text, size_t len)
{
    body b = {NULL, 0};
    b.text = crypto_cbc_encrypt_base64(key, text, len, &b.len);
    return b;
}

static body sealed(const crypto_cbc_key *key, const char *text)
{
    return sealed_bytes(key, text, strlen(text));
}

static body encoded(const unsigned char *data, size_t len)
{
    body b = {NULL, 0};
    b.text = crypto_base64_encode(data, len, &b.len);
    return b;
}

/* The cipher text of a valid request, decoded, for the kinds that tamper
 * with blocks. */
static const char GOOD_JSON[] = "{\"schema\":\"shopping\",\"table\":\"shopping_orders\","
                                "\"id\":\"3f0a6d5e-8c1b-4f7a-9d2e-1b5c6a7d8e9f\",\"password\":\"secret\"}";

static unsigned char *good_cipher(const crypto_cbc_key *key, size_t *len)
{
    body b = sealed(key, GOOD_JSON);
    unsigned char *cipher = b.text ? crypto_base64_decode(b.text, b.len, len) : NULL;
    free(b.text);
    return cipher;
}

/* Whether the padding of cipher holds, asked of the decryption that checks
 * it, so that each kind is known to be what it claims. */
static bool padding_holds(const crypto_cbc_key *key, const unsigned char *cipher, size_t len)
{
    unsigned char *plain = crypto_cbc_decrypt(key, cipher, len, NULL);
    free(plain);
    return plain != NULL;
}

/* ---- the kinds of unreadable bodies ---- */

typedef body (*body_maker)(const crypto_cbc_key *key, int i);

static body make_empty(const crypto_cbc_key *key, int i)
{
    static const char spaces[] = " \t\r\n\v\f";
    char text[32];
    size_t len = random_below(sizeof text);
    for (size_t j = 0; j < len; j++)
        text[j] = spaces[random_below(sizeof spaces - 1)];
    if (i % 2 == 0) /* nothing, or nothing but spaces, encrypted */
        return sealed_bytes(key, text, len);
    body b = {malloc(len + 1), len};
    if (b.text)
        memcpy(b.text, text, len);
    return b;
}

static body make_bad_base64(const crypto_cbc_key *key, int i)
{
    (void)i;
    static const char outside[] = "*-_.!@#$%^&(){}[]<>?,;:'\"~`|\\\x01\x7f\x80\xff";
    body b = sealed(key, GOOD_JSON);
    if (!b.text)
        return b;
    switch (random_below(3)) {
    case 0: /* one character from outside the alphabet */
        b.text[random_below((uint32_t)b.len)] = outside[random_below(sizeof outside - 1)];
        break;
    case 1: /* a length that no base64 text has */
        b.len = 4 * random_below((uint32_t)b.len / 4) + 1;
        break;
    default: /* padding where data must be */
        b.text[random_below((uint32_t)b.len - 4)] = '=';
        break;
    }
    return b;
}

static body make_partial_blocks(const crypto_cbc_key *key, int i)
{
    (void)i;
    size_t len = 0;
    unsigned char *cipher = good_cipher(key, &len);
    if (!cipher)
        return (body){NULL, 0};
    size_t cut = len;
    while (cut % BLOCK == 0)
        cut = 1 + random_below((uint32_t)len - 1);
    body b = encoded(cipher, cut);
    free(cipher);
    return b;
}

/* Bits flipped in the last block or at the end of the one before it, kept
 * only when they break the padding. */
static body make_bad_padding(const crypto_cbc_key *key, int i)
{
    (void)i;
    size_t len = 0;
    unsigned char *cipher = good_cipher(key, &len);
    if (!cipher)
        return (body){NULL, 0};
    do {
        size_t at = len - 1 - random_below(i % 2 ? BLOCK : 2 * BLOCK);
        cipher[at] ^= (unsigned char)(1 + random_below(255));
    } while (padding_holds(key, cipher, len));
    body b = encoded(cipher, len);
    free(cipher);
    return b;
}

/* Printable garbage, a cut valid document, or a block garbled by a bit flip
 * in the one after it: the padding holds, the JSON does not. */
static body make_bad_json(const crypto_cbc_key *key, int i)
{
    char text[sizeof GOOD_JSON];
    size_t len = 1 + random_below(sizeof GOOD_JSON - 2);
    if (i % 3 == 0) { /* no space and no '{': never an object */
        for (size_t j = 0; j < len; j++) {
            char c = (char)('!' + random_below(94));
            text[j] = c == '{' ? '(' : c;
        }
        return sealed_bytes(key, text, len);
    }
    if (i % 3 == 1)
        return sealed_bytes(key, GOOD_JSON, len);
    size_t cipher_len = 0;
    unsigned char *cipher = good_cipher(key, &cipher_len);
    if (!cipher)
        return (body){NULL, 0};
    cipher[random_below((uint32_t)cipher_len - BLOCK)] ^= (unsigned char)(1 + random_below(255));
    body b = padding_holds(key, cipher, cipher_len) ? encoded(cipher, cipher_len) : (body){NULL, 0};
    free(cipher);
    return b;
}

static body make_bad_utf8(const crypto_cbc_key *key, int i)
{
    static const char *const invalid[] = {
        "\xff",                 /* never in UTF-8 */
        "\xfe",                 /* never in UTF-8 */
        "\x80",                 /* a continuation byte alone */
        "\xbf",                 /* a continuation byte alone */
        "\xc0\xaf",             /* '/' in two bytes (overlong) */
        "\xe3\x81",             /* a three-byte sequence cut short */
        "\xed\xa0\x80",         /* a UTF-16 surrogate */
        "\xf8\x88\x80\x80\x80", /* five bytes */
        "\xf4\x90\x80\x80",     /* above U+10FFFF */
        "\xc3",                 /* a lead byte at the end */
    };
    const char *bad = invalid[i % (int)(sizeof invalid / sizeof invalid[0])];
    char text[128];
    int len = snprintf(text, sizeof text, "{\"password\":\"%.*s%s%.*s\"}", (int)random_below(8), "abcdefgh", bad,
                       (int)random_below(8), "ijklmnop");
    return sealed_bytes(key, text, (size_t)len);
}

static body make_not_object(const crypto_cbc_key *key, int i)
{
    char text[64];
    switch (i % 5) {
    case 0:
        snprintf(text, sizeof text, "[%u, %u]", random_below(1000), random_below(1000));
        break;
    case 1:
        snprintf(text, sizeof text, "%u.%u", random_below(100000), random_below(100));
        break;
    case 2:
        snprintf(text, sizeof text, "\"password %u\"", random_below(100000));
        break;
    case 3:
        snprintf(text, sizeof text, "%s", (const char *[]){"true", "false", "null"}[random_below(3)]);
        break;
    default:
        snprintf(text, sizeof text, "[{\"password\":\"%u\"}]", random_below(100000));
        break;
    }
    return sealed(key, text);
}

static body make_duplicate_key(const crypto_cbc_key *key, int i)
{
    (void)i;
    char text[96];
    unsigned name = random_below(1000);
    snprintf(text, sizeof text, "{\"k%u\":%u,\"other\":1,\"k%u\":\"%u\"}", name, random_below(1000), name,
             random_below(1000));
    return sealed(key, text);
}

/* A valid request sealed under another key: its padding holds about once
 * in 256, its JSON never. */
static body make_foreign_key(const crypto_cbc_key *key, int i)
{
    (void)key;
    char other[33];
    snprintf(other, sizeof other, "another-key-%020d", i);
    crypto_cbc_key foreign;
    if (crypto_cbc_key_init(&foreign, other, IV) < 0)
        return (body){NULL, 0};
    body b = sealed(&foreign, GOOD_JSON);
    crypto_cbc_key_clear(&foreign);
    return b;
}

/* Reads BODIES_PER_KIND bodies of one kind; each must get the 400 with
 * exactly the message every other unreadable body gets. */
static void check_kind(const char *kind, body_maker make)
{
    crypto_cbc_key key;
    if (!CHECK(crypto_cbc_key_init(&key, KEY, IV) == 0))
        return;
    int made = 0, different = 0;
    for (int i = 0; i < BODIES_PER_KIND; i++) {
        body b = make(&key, i);
        if (!b.text)
            continue;
        made++;
        app_error err;
        json_t *doc = read_body(&key, &b, &err);
        if (doc || err.status != 400 || strcmp(err.message, UNREADABLE) != 0) {
            if (different++ == 0)
                fprintf(stderr, "  %s body %d: %d \"%s\"\n", kind, i, err.status, err.message);
        }
        json_decref(doc);
        free(b.text);
    }
    if (different)
        fprintf(stderr, "  %s: %d of %d bodies answered otherwise\n", kind, different, made);
    CHECK(different == 0);
    CHECK(made >= BODIES_PER_KIND * 9 / 10);
}

UNIT_CASE(empty_bodies, NULL)
{
    check_kind("empty", make_empty);
}

UNIT_CASE(bad_base64, NULL)
{
    check_kind("bad base64", make_bad_base64);
}

UNIT_CASE(partial_blocks, NULL)
{
    check_kind("partial blocks", make_partial_blocks);
}

UNIT_CASE(bad_padding, NULL)
{
    check_kind("bad padding", make_bad_padding);
}

UNIT_CASE(bad_json_under_good_padding, NULL)
{
    check_kind("bad JSON", make_bad_json);
}

UNIT_CASE(bad_utf8, NULL)
{
    check_kind("bad UTF-8", make_bad_utf8);
}

UNIT_CASE(not_an_object, NULL)
{
    check_kind("not an object", make_not_object);
}

UNIT_CASE(duplicate_keys, NULL)
{
    check_kind("duplicate keys", make_duplicate_key);
}

UNIT_CASE(foreign_key, NULL)
{
    check_kind("foreign key", make_foreign_key);
}

/* The same read path still opens every valid body, whatever its length
 * and so its padding (1 to 16 bytes), and keeps what it held. */
UNIT_CASE(valid_bodies_read, NULL)
{
    crypto_cbc_key key;
    if (!CHECK(crypto_cbc_key_init(&key, KEY, IV) == 0))
        return;
    int wrong = 0;
    for (int n = 0; n < 64; n++) {
        char password[80], text[160];
        snprintf(password, sizeof password, "%.*s", n, "password-0123456789abcdefghijklmnopqrstuvwxyz0123456789-end");
        snprintf(text, sizeof text, "{\"password\":\"%s\",\"name\":\"결제\",\"n\":%d}", password, n);
        body b = sealed(&key, text);
        app_error err;
        json_t *doc = b.text ? read_body(&key, &b, &err) : NULL;
        const char *read = json_string_value(json_object_get(doc, "password"));
        if (!doc || err.status != 0 || !read || strcmp(read, password) != 0 ||
            json_integer_value(json_object_get(doc, "n")) != n)
            wrong++;
        json_decref(doc);
        free(b.text);
    }
    CHECK(wrong == 0);
}

/* The message names no cause and echoes nothing of the body. */
UNIT_CASE(message_names_no_cause, NULL)
{
    crypto_cbc_key key;
    if (!CHECK(crypto_cbc_key_init(&key, KEY, IV) == 0))
        return;
    body b = sealed(&key, "{\"password\": \"hunter2\"");
    app_error err;
    CHECK(b.text && read_body(&key, &b, &err) == NULL);
    CHECK(err.status == 400);
    CHECK_STR(err.message, UNREADABLE);
    CHECK(strstr(err.message, "hunter2") == NULL);
    free(b.text);
}
