/* idempotency_key: both digests start from the password secret's keyed HMAC
 * and a label of their own, so a stored key, a body hash and a password hash
 * can never be mistaken for one another even though one secret keys them. */
#include "idempotency_key.h"

#include "hex.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_LEN 32

static const char key_label[] = "payments idempotency key v1";
static const char body_label[] = "payments idempotency body v1";

bool idempotency_key_valid(const char *value)
{
    size_t len = 0;
    for (; value && value[len]; len++)
        if (value[len] < 0x20 || value[len] > 0x7e || len == IDEMPOTENCY_KEY_MAX)
            return false;
    return len > 0;
}

/* Feeds one field as a 4-byte big-endian length and its bytes. */
static int mac_field(EVP_MAC_CTX *ctx, const char *text, size_t len)
{
    unsigned char prefix[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                               (unsigned char)len};
    return EVP_MAC_update(ctx, prefix, sizeof prefix) == 1 && EVP_MAC_update(ctx, (const unsigned char *)text, len) == 1
               ? 0
               : -1;
}

static int mac_string(EVP_MAC_CTX *ctx, const char *text)
{
    return mac_field(ctx, text ? text : "", text ? strlen(text) : 0);
}

/* A copy of the secret's keyed HMAC with label fed in, or NULL. */
static EVP_MAC_CTX *labelled_mac(const password_secret *secret, const char *label)
{
    EVP_MAC_CTX *ctx = secret->keyed ? EVP_MAC_CTX_dup(secret->keyed) : NULL;
    if (ctx && mac_string(ctx, label) < 0) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Finishes ctx (and frees it) into out as hex. */
static int mac_hex(EVP_MAC_CTX *ctx, int ok, char out[IDEMPOTENCY_HEX_SIZE])
{
    unsigned char digest[DIGEST_LEN];
    size_t len = 0;
    ok = ok && EVP_MAC_final(ctx, digest, &len, sizeof digest) == 1 && len == sizeof digest;
    EVP_MAC_CTX_free(ctx);
    if (!ok)
        return -1;
    hex_encode(digest, sizeof digest, out);
    return 0;
}

int idempotency_key_derive(const password_secret *secret, const idempotency_scope *scope,
                           char out[IDEMPOTENCY_HEX_SIZE])
{
    EVP_MAC_CTX *ctx = labelled_mac(secret, key_label);
    const payment_source_input *source = scope->source;
    int ok = ctx && mac_string(ctx, scope->method) == 0 && mac_string(ctx, scope->path) == 0 &&
             mac_string(ctx, scope->header) == 0 && mac_string(ctx, source->schema) == 0 &&
             mac_string(ctx, source->table) == 0 && mac_string(ctx, source->id) == 0 &&
             mac_string(ctx, scope->password) == 0;
    return ctx ? mac_hex(ctx, ok, out) : -1;
}

int idempotency_body_hash(const password_secret *secret, const json_t *body, char out[IDEMPOTENCY_HEX_SIZE])
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!text)
        return -1;
    size_t len = strlen(text);
    EVP_MAC_CTX *ctx = labelled_mac(secret, body_label);
    int ok = ctx && mac_field(ctx, text, len) == 0;
    OPENSSL_cleanse(text, len); /* it holds the password */
    free(text);
    return ctx ? mac_hex(ctx, ok, out) : -1;
}
