/* Access tokens: /users/getToken trades the configured imp_key/imp_secret for
 * a token that expires after token_ttl_ms; every other vendor route wants it
 * in the Authorization header (raw, as the SDK sends it, or after "Bearer "). */
#include "fake_iamport.h"

#include <string.h>
#include <strings.h>

/* Compares without an early exit, so timing does not reveal a prefix. */
static bool secret_equal(const char *given, const char *expected)
{
    size_t given_len = strlen(given), expected_len = strlen(expected);
    unsigned char diff = given_len != expected_len;
    for (size_t i = 0; i < given_len; i++)
        diff |= (unsigned char)given[i] ^ (unsigned char)expected[i % (expected_len ? expected_len : 1)];
    return diff == 0;
}

void fake_iamport_get_token(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_server *fs = context;
    fake_iamport_state *st = fs->vendor;
    json_t *body = fake_iamport_read_body(ex, NULL);
    if (!body)
        return;
    app_error err = {0};
    const char *key = NULL, *secret = NULL;
    if (!fake_iamport_input_string(body, "imp_key", true, &key, &err) ||
        !fake_iamport_input_string(body, "imp_secret", true, &secret, &err)) {
        json_decref(body);
        fake_iamport_fail_error(ex, &err);
        return;
    }
    bool accepted = fs->settings.key && fs->settings.secret && secret_equal(key, fs->settings.key) &&
                    secret_equal(secret, fs->settings.secret);
    json_decref(body);
    if (!accepted) {
        fake_iamport_fail(ex, 401, "imp_key or imp_secret is wrong");
        return;
    }
    char token[41];
    if (fake_iamport_random_hex(token, 40) != 0) {
        fake_iamport_fail(ex, 500, "cannot make a token");
        return;
    }
    int64_t now = fake_iamport_now();
    int64_t expires = now + (int64_t)(fs->settings.token_ttl_ms / 1000);
    json_t *user =
        json_pack("{s:I, s:I, s:s}", "now", (json_int_t)now, "expired_at", (json_int_t)expires, "access_token", token);
    if (!user || fake_store_put(st->tokens, token, json_incref(user)) != 0) {
        json_decref(user);
        fake_iamport_fail(ex, 500, "cannot keep the token");
        return;
    }
    fake_iamport_reply(ex, 201, user);
    json_decref(user);
}

fake_iamport_state *fake_iamport_authorize(http_exchange *ex, fake_server *fs)
{
    fake_iamport_state *st = fs->vendor;
    const char *token = http_request_header(http_exchange_request(ex), "Authorization");
    if (!token || !*token) {
        fake_iamport_fail(ex, 401, "the Authorization header with an access token is missing");
        return NULL;
    }
    if (strncasecmp(token, "Bearer ", 7) == 0)
        token += 7;
    if (!fake_store_get(st->tokens, token)) {
        fake_iamport_fail(ex, 401, "the access token is unknown or has expired");
        return NULL;
    }
    return st;
}
