/* operation_key: SHA-256 over the operation's kind and its facts, each
 * ended by a NUL so that no two lists of facts hash alike. */
#include "operation_key.h"

#include "hex.h"

#include <openssl/evp.h>
#include <string.h>

int operation_key_derive(const char *const *facts, size_t count, char out[OPERATION_KEY_SIZE])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < count; i++)
        ok = EVP_DigestUpdate(ctx, facts[i], strlen(facts[i]) + 1) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, digest, &len) == 1 && len == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    hex_encode(digest, len, out);
    return 0;
}

int operation_key_cancel(const char *history_id, const char *refund_before, const char *amount,
                         char out[OPERATION_KEY_SIZE])
{
    const char *facts[] = {"payments cancel v1", history_id, refund_before, amount};
    return operation_key_derive(facts, 4, out);
}

int operation_key_confirm(const char *payment_key, const char *order_id, const char *amount,
                          char out[OPERATION_KEY_SIZE])
{
    const char *facts[] = {"payments confirm v1", payment_key, order_id, amount};
    return operation_key_derive(facts, 4, out);
}

int operation_key_mismatch(const char *vendor_uid, const char *amount, char out[OPERATION_KEY_SIZE])
{
    const char *facts[] = {"payments mismatch cancel v1", vendor_uid, amount};
    return operation_key_derive(facts, 3, out);
}

double operation_key_checksum(double price, double refunded)
{
    return price > refunded ? price - refunded : 0;
}
