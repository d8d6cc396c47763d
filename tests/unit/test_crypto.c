/* Unit test for common/crypto: round trips for both key sizes, ciphertexts
 * produced by Node (what the SDK clients run), RFC 4648 base64 vectors, and
 * rejection of malformed or foreign input. */
#include "crypto.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#define KEY_256 "A7kQ2mZx9vLp4RtN8cWe3HyJ6uBd1FgS"
#define KEY_128 "Hs5Dk2Wq8Zp3Lm7T"
#define IV "Pq8Lm2Vx7Nc4Rt9K"
#define JSON_PLAIN "{\"uid\":\"imp_1234\",\"amount\":1000,\"name\":\"결제 테스트\"}"

/* Expected ciphertexts, produced with Node v20 (what @nestia/fetcher runs):
 *   const c = require("crypto");
 *   const x = c.createCipheriv("aes-256-cbc", KEY_256, IV);   // or aes-128-cbc, KEY_128
 *   Buffer.concat([x.update(plain, "utf8"), x.final()]).toString("base64")
 */
typedef struct known_vector {
    const char *key;
    const char *plain;
    const char *cipher_base64;
} known_vector;

static const known_vector known_vectors[] = {
    {KEY_256, "", "3K0/NlPu/S0+9boTLUs0CA=="},
    {KEY_256, "a", "zwYmmbBKpdkxB3RWNHT/zA=="},
    {KEY_256, "0123456789abcdef", "FE8EmHlPw0KUjXw08rfh0OSrr1G6vMXN7zr2W3uZH40="},
    {KEY_256, JSON_PLAIN, "qS6c6BJGa1TdF2xk7oDEm6Q9cHgBk1ZRRDjz1Bo/UBEBzVjovZfySoccWJnu2AGrCZYBjy4yLCWTbFTXyeBx8A=="},
    {KEY_128, "", "okSvuLkKIZqs7c9IcyVfGQ=="},
    {KEY_128, "a", "NXK4/0iSmFUDb/xi/ybd0Q=="},
    {KEY_128, "0123456789abcdef", "PsG27EmhzfMzxn3dP8SUxA+fFSoa6a1jxoc0ikDTpBs="},
    {KEY_128, JSON_PLAIN, "5N1SvoB708LhYjKyP+eZNOEdv5o5Nwlopt+MGSIhemtbaXeEo9+Ro2DvNNEp34FjKgcWChYx18xpxyfapzPZfQ=="},
};

UNIT_CASE(key_init, NULL)
{
    crypto_cbc_key k;
    CHECK(crypto_cbc_key_init(&k, KEY_256, IV) == 0 && k.key_len == 32);
    CHECK(memcmp(k.key, KEY_256, 32) == 0 && memcmp(k.iv, IV, 16) == 0);
    CHECK(crypto_cbc_key_init(&k, KEY_128, IV) == 0 && k.key_len == 16);
    CHECK(crypto_cbc_key_init(&k, "short", IV) == -1);
    CHECK(crypto_cbc_key_init(&k, "0123456789abcdef0123", IV) == -1);
    CHECK(crypto_cbc_key_init(&k, KEY_256, "short-iv") == -1);
    CHECK(crypto_cbc_key_init(&k, KEY_256, IV "x") == -1);
    CHECK(crypto_cbc_key_init(&k, NULL, IV) == -1);
    crypto_cbc_key_init(&k, KEY_256, IV);
    crypto_cbc_key_clear(&k);
    static const crypto_cbc_key zero;
    CHECK(memcmp(&k, &zero, sizeof k) == 0);
}

UNIT_CASE(known_vectors, NULL)
{
    for (size_t i = 0; i < sizeof known_vectors / sizeof known_vectors[0]; i++) {
        const known_vector *v = &known_vectors[i];
        crypto_cbc_key k;
        CHECK(crypto_cbc_key_init(&k, v->key, IV) == 0);
        size_t len = 0;
        char *text = crypto_cbc_encrypt_base64(&k, v->plain, strlen(v->plain), &len);
        CHECK_STR(text, v->cipher_base64);
        CHECK(text && len == strlen(v->cipher_base64));
        free(text);
        unsigned char *plain = crypto_cbc_decrypt_base64(&k, v->cipher_base64, strlen(v->cipher_base64), &len);
        CHECK_STR((const char *)plain, v->plain);
        CHECK(plain && len == strlen(v->plain));
        free(plain);
    }
}

static void check_round_trip(const crypto_cbc_key *k, size_t size)
{
    unsigned char *data = malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++)
        data[i] = (unsigned char)(i * 7 + size);
    size_t text_len = 0, plain_len = 0;
    char *text = crypto_cbc_encrypt_base64(k, data, size, &text_len);
    CHECK(text != NULL);
    /* PKCS#7 always adds padding: one full block when size is a multiple of 16. */
    CHECK(text && text_len == (size / 16 + 1) * 16 / 3 * 4 + 4 && strlen(text) == text_len);
    unsigned char *plain = text ? crypto_cbc_decrypt_base64(k, text, text_len, &plain_len) : NULL;
    CHECK(plain != NULL && plain_len == size);
    CHECK(plain && memcmp(plain, data, size) == 0 && plain[size] == '\0');
    free(plain);
    free(text);
    free(data);
}

UNIT_CASE(round_trips, NULL)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 1024 * 1024};
    const char *keys[] = {KEY_256, KEY_128};
    for (size_t k = 0; k < 2; k++) {
        crypto_cbc_key key;
        CHECK(crypto_cbc_key_init(&key, keys[k], IV) == 0);
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            check_round_trip(&key, sizes[i]);
    }
}

static void check_decrypt_fails(const crypto_cbc_key *k, const char *text)
{
    size_t len = 12345;
    unsigned char *plain = crypto_cbc_decrypt_base64(k, text, strlen(text), &len);
    CHECK(plain == NULL);
    if (plain)
        fprintf(stderr, "  decrypted garbage from \"%s\"\n", text);
    free(plain);
}

UNIT_CASE(decrypt_rejects, NULL)
{
    crypto_cbc_key k256, k128, wrong256, wrong128;
    crypto_cbc_key_init(&k256, KEY_256, IV);
    crypto_cbc_key_init(&k128, KEY_128, IV);
    crypto_cbc_key_init(&wrong256, "A7kQ2mZx9vLp4RtN8cWe3HyJ6uBd1FgT", IV);
    crypto_cbc_key_init(&wrong128, "Hs5Dk2Wq8Zp3Lm7U", IV);
    const char *json256 = known_vectors[3].cipher_base64;

    /* Wrong key (last character changed): the padding check fails. Node
     * rejects these same three with "bad decrypt". */
    check_decrypt_fails(&wrong256, json256);
    check_decrypt_fails(&wrong256, known_vectors[1].cipher_base64);
    check_decrypt_fails(&wrong128, known_vectors[7].cipher_base64);
    /* Right ciphertext, wrong key size. */
    check_decrypt_fails(&k128, json256);

    /* Truncated: by a partial block, and by one whole block (the new last
     * block is plaintext, not padding). */
    char buffer[256];
    snprintf(buffer, sizeof buffer, "%.*s", (int)strlen(json256) - 4, json256);
    check_decrypt_fails(&k256, buffer);
    snprintf(buffer, sizeof buffer, "%.64s", json256); /* 48 bytes */
    check_decrypt_fails(&k256, buffer);
    check_decrypt_fails(&k256, "");
    check_decrypt_fails(&k256, "AAAA"); /* 3 bytes: not a block */

    /* Bad base64 inside an otherwise valid ciphertext. */
    snprintf(buffer, sizeof buffer, "%s", json256);
    buffer[10] = '*';
    check_decrypt_fails(&k256, buffer);
    snprintf(buffer, sizeof buffer, "%s", json256);
    buffer[10] = '-'; /* base64url, not ours */
    check_decrypt_fails(&k256, buffer);
    CHECK(crypto_cbc_decrypt_base64(&k256, NULL, 0, NULL) == NULL);

    /* Flipping a bit in the last block breaks the padding. */
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    raw = crypto_base64_decode(json256, strlen(json256), &raw_len);
    CHECK(raw && raw_len == 64);
    if (raw) {
        raw[raw_len - 17] ^= 0x01; /* 58-byte plaintext: padding 06 x6 ends in 07 */
        char *tampered = crypto_base64_encode(raw, raw_len, NULL);
        check_decrypt_fails(&k256, tampered);
        free(tampered);
    }
    free(raw);
}

static void check_base64(const char *plain, const char *encoded)
{
    size_t len = 0;
    char *text = crypto_base64_encode(plain, strlen(plain), &len);
    CHECK_STR(text, encoded);
    CHECK(text && len == strlen(encoded));
    free(text);
    unsigned char *data = crypto_base64_decode(encoded, strlen(encoded), &len);
    CHECK_STR((const char *)data, plain);
    CHECK(data && len == strlen(plain));
    free(data);
}

static void check_base64_decodes(const char *text, const char *expected)
{
    size_t len = 0;
    unsigned char *data = crypto_base64_decode(text, strlen(text), &len);
    CHECK_STR((const char *)data, expected);
    CHECK(data && len == strlen(expected));
    free(data);
}

static void check_base64_rejects(const char *text, size_t len)
{
    unsigned char *data = crypto_base64_decode(text, len, NULL);
    CHECK(data == NULL);
    if (data)
        fprintf(stderr, "  accepted invalid base64 \"%.*s\"\n", (int)len, text);
    free(data);
}

UNIT_CASE(base64, NULL)
{
    /* RFC 4648, section 10. */
    check_base64("", "");
    check_base64("f", "Zg==");
    check_base64("fo", "Zm8=");
    check_base64("foo", "Zm9v");
    check_base64("foob", "Zm9vYg==");
    check_base64("fooba", "Zm9vYmE=");
    check_base64("foobar", "Zm9vYmFy");

    /* Binary bytes, including '+' and '/' in the output (from Node). */
    static const unsigned char binary[] = {0, 1, 2, 0xfe, 0xff};
    size_t len = 0;
    char *text = crypto_base64_encode(binary, sizeof binary, &len);
    CHECK_STR(text, "AAEC/v8=");
    free(text);
    unsigned char *data = crypto_base64_decode("AAEC/v8=", 8, &len);
    CHECK(data && len == sizeof binary && memcmp(data, binary, sizeof binary) == 0);
    free(data);

    /* Unpadded input and surrounding whitespace are accepted. */
    check_base64_decodes("Zg", "f");
    check_base64_decodes("Zm8", "fo");
    check_base64_decodes("Zm9vYg", "foob");
    check_base64_decodes("  Zm9vYmFy\r\n", "foobar");
    check_base64_decodes("\tZm8=\n", "fo");

    check_base64_rejects("Zm9v*mFy", 8);  /* character outside the alphabet */
    check_base64_rejects("Zm9v-_Fy", 8);  /* base64url alphabet */
    check_base64_rejects("Zm9 vYmFy", 9); /* whitespace inside */
    check_base64_rejects("Zm9vY", 5);     /* 4n+1 characters */
    check_base64_rejects("Z", 1);
    check_base64_rejects("Zg=", 3); /* padding does not complete a group */
    check_base64_rejects("Zm8==", 5);
    check_base64_rejects("Zg===", 5); /* three '=' */
    check_base64_rejects("====", 4);
    check_base64_rejects("Zg==Zg==", 8); /* padding in the middle */
    check_base64_rejects("Zh==", 4);     /* non-zero bits after the last byte */
    check_base64_rejects("Zm9=", 4);
    check_base64_rejects("Zm\0v", 4); /* NUL inside the given length */
    CHECK(crypto_base64_decode(NULL, 0, NULL) == NULL);

    /* Decoding reads only the given length. */
    check_base64_decodes("Zm9v", "foo");
    data = crypto_base64_decode("Zm9vYmFy", 4, &len);
    CHECK_STR((const char *)data, "foo");
    free(data);
}

/* Decrypting without the padding check gives every block, padding included,
 * and the padding check then finds the text's length. */
UNIT_CASE(unpadded_decrypt, NULL)
{
    for (size_t i = 0; i < sizeof known_vectors / sizeof known_vectors[0]; i++) {
        const known_vector *v = &known_vectors[i];
        crypto_cbc_key k;
        crypto_cbc_key_init(&k, v->key, IV);
        size_t cipher_len = 0;
        unsigned char *cipher = crypto_base64_decode(v->cipher_base64, strlen(v->cipher_base64), &cipher_len);
        unsigned char *plain = cipher ? crypto_cbc_decrypt_unpadded(&k, cipher, cipher_len) : NULL;
        if (!CHECK(plain != NULL)) {
            free(cipher);
            continue;
        }
        size_t text_len = strlen(v->plain), padding = cipher_len - text_len;
        CHECK(padding >= 1 && padding <= 16 && memcmp(plain, v->plain, text_len) == 0);
        bool padding_ok = true;
        for (size_t j = text_len; j < cipher_len; j++)
            padding_ok &= plain[j] == padding;
        CHECK(padding_ok && plain[cipher_len] == '\0');
        bool valid = false;
        CHECK(crypto_pkcs7_unpadded_length(plain, cipher_len, &valid) == text_len && valid);
        free(plain);
        /* Only whole blocks decrypt. */
        CHECK(crypto_cbc_decrypt_unpadded(&k, cipher, cipher_len - 1) == NULL);
        CHECK(crypto_cbc_decrypt_unpadded(&k, cipher, 0) == NULL);
        free(cipher);
    }
}

/* The padding check as OpenSSL and Node make it, written plainly with
 * branches, to compare the branch-free one with. */
static size_t plain_unpadded_length(const unsigned char *block, size_t len, bool *valid)
{
    size_t padding = block[len - 1];
    *valid = padding >= 1 && padding <= 16;
    for (size_t i = 1; *valid && i <= padding; i++)
        *valid = block[len - i] == padding;
    return *valid ? len - padding : len;
}

static void check_unpadded_length(const unsigned char *plain, size_t len)
{
    bool expected_valid = false, valid = !expected_valid;
    size_t expected = plain_unpadded_length(plain, len, &expected_valid);
    size_t actual = crypto_pkcs7_unpadded_length(plain, len, &valid);
    CHECK(actual == expected && valid == expected_valid);
}

UNIT_CASE(pkcs7_unpadded_length, NULL)
{
    unsigned char plain[48];
    bool valid = true;
    /* Each valid padding, over two and three blocks. */
    for (size_t padding = 1; padding <= 16; padding++) {
        memset(plain, 'x', sizeof plain);
        memset(plain + sizeof plain - padding, (int)padding, padding);
        CHECK(crypto_pkcs7_unpadded_length(plain, sizeof plain, &valid) == sizeof plain - padding && valid);
        CHECK(crypto_pkcs7_unpadded_length(plain + 16, 32, &valid) == 32 - padding && valid);
        /* Any one byte of it changed breaks it; the length is then all of it. */
        for (size_t at = 1; at <= padding; at++) {
            plain[sizeof plain - at] ^= 0x40;
            CHECK(crypto_pkcs7_unpadded_length(plain, sizeof plain, &valid) == sizeof plain && !valid);
            plain[sizeof plain - at] ^= 0x40;
        }
    }
    /* A last byte of 0, or above the block size. */
    memset(plain, 0, sizeof plain);
    CHECK(crypto_pkcs7_unpadded_length(plain, sizeof plain, &valid) == sizeof plain && !valid);
    memset(plain, 17, sizeof plain);
    CHECK(crypto_pkcs7_unpadded_length(plain, sizeof plain, &valid) == sizeof plain && !valid);
    /* Not whole blocks. */
    CHECK(crypto_pkcs7_unpadded_length(plain, 15, &valid) == 15 && !valid);
    CHECK(crypto_pkcs7_unpadded_length(plain, 0, &valid) == 0 && !valid);
    /* Every last byte over blocks whose tail repeats it a varying number of
     * times, against the plain check. */
    for (unsigned last = 0; last < 256; last++) {
        for (size_t repeats = 0; repeats <= 16; repeats++) {
            for (size_t i = 0; i < 16; i++)
                plain[i] = (unsigned char)(i * 37 + last);
            memset(plain + 16 - repeats, (int)last, repeats);
            plain[15] = (unsigned char)last;
            check_unpadded_length(plain, 16);
        }
    }
}
