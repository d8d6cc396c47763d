/* webhook_signature: HMAC-SHA-256 through OpenSSL's one-shot HMAC(), over
 * the timestamp, a dot and the body, fed in pieces so the body is never
 * copied. */
#include "webhook_signature.h"

#include "crypto_fetch.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

static int signature_digest(const char *secret, const char *timestamp, const char *body, size_t body_len,
                            unsigned char out[32])
{
    EVP_MAC *mac = crypto_fetch_hmac();
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0), OSSL_PARAM_construct_end()};
    size_t len = 0;
    int ok = ctx && EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)timestamp, strlen(timestamp)) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)body, body_len) == 1 &&
             EVP_MAC_final(ctx, out, &len, 32) == 1 && len == 32;
    EVP_MAC_CTX_free(ctx);
    return ok ? 0 : -1;
}

int webhook_signature_make(const char *secret, const char *timestamp, const char *body, size_t body_len,
                           char out[WEBHOOK_SIGNATURE_SIZE])
{
    unsigned char digest[32];
    if (signature_digest(secret, timestamp, body, body_len, digest) < 0)
        return -1;
    memcpy(out, "v1=", 3);
    for (size_t i = 0; i < sizeof digest; i++)
        snprintf(out + 3 + 2 * i, 3, "%02x", digest[i]);
    return 0;
}

bool webhook_signature_verify(const char *secret, const char *timestamp, const char *body, size_t body_len,
                              const char *header)
{
    char expected[WEBHOOK_SIGNATURE_SIZE];
    if (!secret || !timestamp || !header || webhook_signature_make(secret, timestamp, body, body_len, expected) < 0)
        return false;
    const size_t want = WEBHOOK_SIGNATURE_SIZE - 1;
    bool match = false;
    for (const char *item = header; *item;) {
        while (*item == ' ' || *item == ',')
            item++;
        size_t len = strcspn(item, ", ");
        if (len == want && CRYPTO_memcmp(item, expected, want) == 0)
            match = true;
        item += len;
    }
    return match;
}
