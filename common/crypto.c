/* Crypto: the body encryption the SDK clients speak (Node's createCipheriv
 * with AES-CBC, PKCS#7, base64). The cipher is OpenSSL EVP; base64 is our own
 * so that decoding is strict (alphabet, length, canonical padding) and never
 * limited to int-sized buffers. */
#include "crypto.h"
#include "crypto_fetch.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define CRYPTO_BLOCK_SIZE 16

static const char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int crypto_cbc_key_init(crypto_cbc_key *k, const char *key, const char *iv)
{
    if (!k || !key || !iv)
        return -1;
    size_t key_len = strlen(key);
    if ((key_len != 16 && key_len != 32) || strlen(iv) != sizeof k->iv)
        return -1;
    memset(k, 0, sizeof *k);
    memcpy(k->key, key, key_len);
    k->key_len = key_len;
    memcpy(k->iv, iv, sizeof k->iv);
    return 0;
}

void crypto_cbc_key_clear(crypto_cbc_key *k)
{
    if (k)
        OPENSSL_cleanse(k, sizeof *k);
}

void crypto_secret_free(char *secret)
{
    if (secret)
        OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
}

static const EVP_CIPHER *cbc_cipher(const crypto_cbc_key *k)
{
    if (k->key_len == 16)
        return crypto_fetch_cipher(CRYPTO_AES_128_CBC);
    if (k->key_len == 32)
        return crypto_fetch_cipher(CRYPTO_AES_256_CBC);
    return NULL;
}

/* Runs one whole CBC pass into out, which must hold len + one block. With
 * padded set, PKCS#7 padding is added on encrypt and checked on decrypt by
 * OpenSSL; without it, decrypting returns every block as it is, and the
 * padding is ours to check (crypto_pkcs7_unpadded_length). Returns the output
 * length, or -1. */
static int cbc_run(const crypto_cbc_key *k, int encrypt, int padded, const unsigned char *in, int len,
                   unsigned char *out)
{
    const EVP_CIPHER *cipher = cbc_cipher(k);
    if (!cipher)
        return -1;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return -1;
    int total = -1, update_len = 0, final_len = 0;
    if (EVP_CipherInit_ex(ctx, cipher, NULL, k->key, k->iv, encrypt) == 1 &&
        EVP_CIPHER_CTX_set_padding(ctx, padded) == 1 && EVP_CipherUpdate(ctx, out, &update_len, in, len) == 1 &&
        EVP_CipherFinal_ex(ctx, out + update_len, &final_len) == 1)
        total = update_len + final_len;
    EVP_CIPHER_CTX_free(ctx); /* cleanses the expanded key schedule */
    return total;
}

char *crypto_cbc_encrypt_base64(const crypto_cbc_key *k, const void *plain, size_t len, size_t *out_len)
{
    if (!k || (!plain && len > 0) || len > (size_t)INT_MAX - 2 * CRYPTO_BLOCK_SIZE)
        return NULL;
    unsigned char *cipher_text = malloc(len + CRYPTO_BLOCK_SIZE);
    if (!cipher_text)
        return NULL;
    static const unsigned char nothing[1];
    int cipher_len = cbc_run(k, 1, 1, plain ? plain : nothing, (int)len, cipher_text);
    char *text = NULL;
    if (cipher_len > 0)
        text = crypto_base64_encode(cipher_text, (size_t)cipher_len, out_len);
    free(cipher_text);
    return text;
}

unsigned char *crypto_cbc_decrypt_unpadded(const crypto_cbc_key *k, const unsigned char *cipher_text, size_t cipher_len)
{
    if (!k || !cipher_text || cipher_len == 0 || cipher_len % CRYPTO_BLOCK_SIZE != 0 ||
        cipher_len > (size_t)INT_MAX - CRYPTO_BLOCK_SIZE)
        return NULL;
    unsigned char *plain = malloc(cipher_len + CRYPTO_BLOCK_SIZE);
    if (!plain)
        return NULL;
    if (cbc_run(k, 0, 0, cipher_text, (int)cipher_len, plain) != (int)cipher_len) {
        OPENSSL_cleanse(plain, cipher_len + CRYPTO_BLOCK_SIZE);
        free(plain);
        return NULL;
    }
    plain[cipher_len] = '\0';
    return plain;
}

/* Branch-free helpers over size_t: each answers with all bits set (true) or
 * none, so that the padding check runs the same instructions whatever the
 * bytes hold. */
#define CRYPTO_TOP_BIT(x) ((x) >> (sizeof(size_t) * CHAR_BIT - 1))

static size_t mask_is_zero(size_t a)
{
    return (size_t)0 - CRYPTO_TOP_BIT(~a & (a - 1));
}

static size_t mask_less_than(size_t a, size_t b)
{
    return (size_t)0 - CRYPTO_TOP_BIT(a ^ ((a ^ b) | ((a - b) ^ b)));
}

size_t crypto_pkcs7_unpadded_length(const unsigned char *plain, size_t len, bool *valid)
{
    /* The length is public (it is the cipher text's): branching on it tells
     * nothing. */
    if (!plain || len < CRYPTO_BLOCK_SIZE || len % CRYPTO_BLOCK_SIZE != 0) {
        *valid = false;
        return len;
    }
    size_t padding = plain[len - 1];
    size_t good = ~mask_is_zero(padding) & ~mask_less_than(CRYPTO_BLOCK_SIZE, padding);
    /* Every byte of the last block is read; those inside the claimed
     * padding must equal it. */
    for (size_t i = 1; i <= CRYPTO_BLOCK_SIZE; i++) {
        size_t inside = mask_less_than(i - 1, padding);
        size_t differs = ~mask_is_zero((size_t)(plain[len - i] ^ padding));
        good &= ~(inside & differs);
    }
    *valid = (good & 1) != 0;
    return len - (padding & good);
}

unsigned char *crypto_cbc_decrypt(const crypto_cbc_key *k, const unsigned char *cipher_text, size_t cipher_len,
                                  size_t *out_len)
{
    unsigned char *plain = crypto_cbc_decrypt_unpadded(k, cipher_text, cipher_len);
    if (!plain)
        return NULL;
    bool padded = false;
    size_t plain_len = crypto_pkcs7_unpadded_length(plain, cipher_len, &padded);
    if (!padded) {
        /* A wrong key leaves near-plaintext garbage behind: wipe it. */
        OPENSSL_cleanse(plain, cipher_len);
        free(plain);
        return NULL;
    }
    OPENSSL_cleanse(plain + plain_len, cipher_len - plain_len);
    plain[plain_len] = '\0';
    if (out_len)
        *out_len = plain_len;
    return plain;
}

unsigned char *crypto_cbc_decrypt_base64(const crypto_cbc_key *k, const char *text, size_t len, size_t *out_len)
{
    if (!k || !text)
        return NULL;
    size_t cipher_len = 0;
    unsigned char *cipher_text = crypto_base64_decode(text, len, &cipher_len);
    if (!cipher_text)
        return NULL;
    unsigned char *plain = crypto_cbc_decrypt(k, cipher_text, cipher_len, out_len);
    free(cipher_text);
    return plain;
}

char *crypto_base64_encode(const void *data, size_t len, size_t *out_len)
{
    if ((!data && len > 0) || len / 3 >= (SIZE_MAX - 1) / 4 - 1)
        return NULL;
    size_t text_len = (len + 2) / 3 * 4;
    char *text = malloc(text_len + 1);
    if (!text)
        return NULL;
    const unsigned char *in = data;
    char *out = text;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *out++ = base64_alphabet[v >> 18 & 63];
        *out++ = base64_alphabet[v >> 12 & 63];
        *out++ = base64_alphabet[v >> 6 & 63];
        *out++ = base64_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        *out++ = base64_alphabet[v >> 18 & 63];
        *out++ = base64_alphabet[v >> 12 & 63];
        *out++ = i + 1 < len ? base64_alphabet[v >> 6 & 63] : '=';
        *out++ = '=';
    }
    *out = '\0';
    if (out_len)
        *out_len = text_len;
    return text;
}

/* Value of each byte as a base64 digit, -1 outside the alphabet (ASCII),
 * sixteen bytes a row. */
/* clang-format off */
static const signed char base64_values[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};
/* clang-format on */

static int base64_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trims whitespace and '=' padding; checks the padding against the length of
 * what remains. Returns 0 with *start and *len set to the data characters. */
static int base64_trim(const char **start, size_t *len)
{
    const char *s = *start;
    size_t n = *len;
    while (n > 0 && base64_is_space(s[0]))
        s++, n--;
    while (n > 0 && base64_is_space(s[n - 1]))
        n--;
    size_t padding = 0;
    while (n > 0 && s[n - 1] == '=' && padding < 2)
        n--, padding++;
    if (n % 4 == 1)
        return -1;
    if (padding > 0 && (n + padding) % 4 != 0)
        return -1;
    *start = s;
    *len = n;
    return 0;
}

/* Value of count digits, most significant first, or -1 if any is not a
 * base64 digit. */
static int32_t base64_digits(const unsigned char *in, size_t count)
{
    int32_t value = 0;
    int invalid = 0;
    for (size_t i = 0; i < count; i++) {
        int digit = base64_values[in[i]];
        invalid |= digit;
        value = value << 6 | (digit & 63);
    }
    return invalid < 0 ? -1 : value;
}

/* Decodes len digits (len % 4 is 0, 2 or 3) into out. Canonical form only:
 * the bits of a final partial group past its last byte must be zero. */
static int base64_decode_into(unsigned char *out, const unsigned char *in, size_t len)
{
    size_t i = 0;
    for (; i + 4 <= len; i += 4, out += 3) {
        int32_t value = base64_digits(in + i, 4);
        if (value < 0)
            return -1;
        out[0] = (unsigned char)(value >> 16);
        out[1] = (unsigned char)(value >> 8);
        out[2] = (unsigned char)value;
    }
    size_t rest = len - i;
    if (rest == 0)
        return 0;
    int32_t value = base64_digits(in + i, rest);
    if (value < 0)
        return -1;
    if (rest == 2) {
        if (value & 0xf)
            return -1;
        out[0] = (unsigned char)(value >> 4);
        return 0;
    }
    if (value & 0x3)
        return -1;
    out[0] = (unsigned char)(value >> 10);
    out[1] = (unsigned char)(value >> 2);
    return 0;
}

unsigned char *crypto_base64_decode(const char *text, size_t len, size_t *out_len)
{
    if (!text || base64_trim(&text, &len) < 0)
        return NULL;
    size_t data_len = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    unsigned char *data = malloc(data_len + 1);
    if (!data)
        return NULL;
    if (base64_decode_into(data, (const unsigned char *)text, len) != 0) {
        free(data);
        return NULL;
    }
    data[data_len] = '\0';
    if (out_len)
        *out_len = data_len;
    return data;
}
