/* system_auth: the password is compared through digests, so neither its
 * content nor its length leaks through timing; a client address that keeps
 * failing is refused before any comparison until its delay passes. */
#include "system_auth.h"

#include "log.h"
#include "too_many.h"

#include <inttypes.h>
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

/* A wrong password counts against the client; the log says when it trips. */
static void count_failure(const worker *w, const char *address)
{
    uint64_t now = uv_now(w->loop);
    if (attempt_limit_failed(w->system_guesses_by_address, address, now))
        log_warn("system_auth: client %s blocked for %" PRIu64 " s after repeated wrong system passwords", address,
                 attempt_limit_seconds(attempt_limit_check(w->system_guesses_by_address, address, now)));
}

bool system_auth_check(http_exchange *ex, const worker *w)
{
    const http_request *request = http_exchange_request(ex);
    const char *address = request->remote_address ? request->remote_address : "";
    uint64_t wait_ms = attempt_limit_check(w->system_guesses_by_address, address, uv_now(w->loop));
    if (wait_ms > 0) {
        too_many_respond(ex, wait_ms, "too many wrong system passwords");
        return false;
    }
    const char *header = http_request_header(request, "Authorization");
    if (!header || strncmp(header, "Bearer ", 7) != 0) {
        http_respond_error(ex, 401, "Authorization: Bearer <PAYMENT_SYSTEM_PASSWORD> is required");
        return false;
    }
    if (!same_secret(header + 7, w->config.system_password)) {
        count_failure(w, address);
        http_respond_error(ex, 403, "wrong system password");
        return false;
    }
    attempt_limit_succeeded(w->system_guesses_by_address, address);
    return true;
}
