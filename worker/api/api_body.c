/* api_body: decrypts request bodies and encrypts answers under the
 * connection key. A body that cannot be turned into a JSON object gets one
 * and the same 400 whatever went wrong, after the same work: answers that
 * told bad padding from bad JSON would let anyone decrypt a captured body
 * (a padding oracle), password included. */
#include "api_body.h"

#include "error_answer.h"
#include "log.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Names no cause on purpose: see the top of this file. */
#define API_BODY_UNREADABLE "request body cannot be read with the connection key"

/* The decrypted blocks (padding included) parsed as a JSON object, or NULL.
 * The padding is checked without branching, and the parse runs whether it
 * held or not, over the same bytes: bad padding costs what bad JSON costs.
 * Only then is the outcome decided. */
static json_t *parse_blocks(const unsigned char *plain, size_t len)
{
    bool padded = false;
    size_t text_len = crypto_pkcs7_unpadded_length(plain, len, &padded);
    json_error_t parse_error;
    json_t *doc = json_loadb((const char *)plain, text_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &parse_error);
    /* The error's text quotes the body near where parsing stopped. */
    OPENSSL_cleanse(&parse_error, sizeof parse_error);
    if (doc && padded && json_is_object(doc))
        return doc;
    json_decref(doc);
    return NULL;
}

/* The body under one key: whole blocks decrypted, then parse_blocks. */
static json_t *read_with(const crypto_cbc_key *key, const unsigned char *cipher_text, size_t cipher_len)
{
    unsigned char *plain = crypto_cbc_decrypt_unpadded(key, cipher_text, cipher_len);
    if (!plain)
        return NULL;
    json_t *doc = parse_blocks(plain, cipher_len);
    OPENSSL_cleanse(plain, cipher_len);
    free(plain);
    return doc;
}

json_t *api_body_read_any(const crypto_cbc_key *const *keys, size_t count, const http_request *request,
                          const crypto_cbc_key **used, app_error *err)
{
    /* Base64 and the cipher text's length depend only on what the caller
     * sent, never on the key: failing early there tells nothing. */
    size_t cipher_len = 0;
    unsigned char *cipher_text =
        request->body && request->body_len ? crypto_base64_decode(request->body, request->body_len, &cipher_len) : NULL;
    json_t *doc = NULL;
    for (size_t i = 0; cipher_text && !doc && i < count; i++) {
        doc = read_with(keys[i], cipher_text, cipher_len);
        if (doc && used)
            *used = keys[i];
    }
    free(cipher_text);
    if (!doc)
        app_error_set(err, 400, API_BODY_UNREADABLE);
    return doc;
}

json_t *api_body_read(const crypto_cbc_key *key, const http_request *request, app_error *err)
{
    return api_body_read_any(&key, 1, request, NULL, err);
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
    error_answer_respond(ex, err);
}
