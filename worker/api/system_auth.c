/* system_auth: the password is compared through digests, so neither its
 * content nor its length leaks through timing. */
#include "system_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

static bool same_secret(const char *given, const char *expected)
{
    unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
    unsigned int a_len = 0, b_len = 0;
    if (EVP_Digest(given, strlen(given), a, &a_len, EVP_sha256(), NULL) != 1 ||
        EVP_Digest(expected, strlen(expected), b, &b_len, EVP_sha256(), NULL) != 1)
        return false;
    return a_len == b_len && CRYPTO_memcmp(a, b, a_len) == 0;
}

bool system_auth_check(http_exchange *ex, const worker *w)
{
    const char *header = http_request_header(http_exchange_request(ex), "Authorization");
    if (!header || strncmp(header, "Bearer ", 7) != 0) {
        http_respond_error(ex, 401, "Authorization: Bearer <PAYMENT_SYSTEM_PASSWORD> is required");
        return false;
    }
    if (!same_secret(header + 7, w->config.system_password)) {
        http_respond_error(ex, 403, "wrong system password");
        return false;
    }
    return true;
}
