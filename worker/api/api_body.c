/* api_body: decrypts request bodies and encrypts answers under the
 * connection key. Each failure of a request body gets its own 400 message,
 * since "wrong key" and "bad JSON" need different fixes on the caller's side;
 * none of them echoes the decrypted text, which holds passwords. */
#include "api_body.h"

#include "log.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static json_t *parse_object(const unsigned char *plain, size_t len, app_error *err)
{
    json_error_t parse_error;
    json_t *doc = json_loadb((const char *)plain, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &parse_error);
    if (!doc) {
        app_error_set(err, 400, "request body is not valid JSON (line %d, column %d)", parse_error.line,
                      parse_error.column);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        app_error_set(err, 400, "request body must be a JSON object");
        return NULL;
    }
    return doc;
}

json_t *api_body_read(const crypto_cbc_key *key, const http_request *request, app_error *err)
{
    if (!request->body || request->body_len == 0) {
        app_error_set(err, 400, "request body is empty");
        return NULL;
    }
    /* Decoded apart from decrypting, so that undecodable text gets another
     * message than text our key cannot open. */
    size_t cipher_len = 0;
    unsigned char *cipher_text = crypto_base64_decode(request->body, request->body_len, &cipher_len);
    if (!cipher_text) {
        app_error_set(err, 400, "request body is not valid base64");
        return NULL;
    }
    size_t len = 0;
    unsigned char *plain = cipher_len ? crypto_cbc_decrypt(key, cipher_text, cipher_len, &len) : NULL;
    free(cipher_text);
    if (!plain) {
        app_error_set(err, 400,
                      cipher_len ? "request body cannot be decrypted with the connection key"
                                 : "request body is empty");
        return NULL;
    }
    json_t *doc = parse_object(plain, len, err);
    OPENSSL_cleanse(plain, len);
    free(plain);
    return doc;
}

char *api_body_seal(const crypto_cbc_key *key, const char *text, size_t len, size_t *sealed_len)
{
    char *sealed = crypto_cbc_encrypt_base64(key, text, len, sealed_len);
    if (!sealed)
        log_error("api: cannot encrypt an answer");
    return sealed;
}

char *api_body_seal_json(const crypto_cbc_key *key, const json_t *doc, size_t *sealed_len)
{
    char *text = json_dumps(doc, API_JSON_FLAGS);
    if (!text) {
        log_error("api: cannot encode an answer");
        return NULL;
    }
    size_t len = strlen(text);
    char *sealed = api_body_seal(key, text, len, sealed_len);
    OPENSSL_cleanse(text, len);
    free(text);
    return sealed;
}

/* Answers sealed (taken), or a 500 when there is none. */
static void respond_sealed(http_exchange *ex, int status, char *sealed, size_t len)
{
    if (!sealed) {
        http_respond_error(ex, 500, "cannot encode the answer");
        return;
    }
    http_respond(ex, status, API_BODY_CONTENT_TYPE, sealed, len);
    free(sealed);
}

void api_body_respond_text(http_exchange *ex, const crypto_cbc_key *key, int status, const char *text, size_t len)
{
    size_t sealed_len = 0;
    char *sealed = api_body_seal(key, text, len, &sealed_len);
    respond_sealed(ex, status, sealed, sealed_len);
}

void api_body_respond(http_exchange *ex, const crypto_cbc_key *key, int status, const json_t *doc)
{
    size_t sealed_len = 0;
    char *sealed = api_body_seal_json(key, doc, &sealed_len);
    respond_sealed(ex, status, sealed, sealed_len);
}

void api_respond_error(http_exchange *ex, const app_error *err)
{
    http_respond_error(ex, err->status ? err->status : 500, err->message);
}
