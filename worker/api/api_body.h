/* api_body: the encrypted envelope of every /payments route. Requests and
 * answers travel as base64(AES-CBC(JSON)) under the connection key, as the
 * original server's SDK speaks; errors stay plain JSON, so a caller with a
 * wrong key can still read why it failed. */
#ifndef PAYMENTS_API_BODY_H
#define PAYMENTS_API_BODY_H

#include "crypto.h"
#include "error.h"
#include "http_server.h"

#include <jansson.h>

/* How every answer of ours prints numbers: 15 significant digits, so amounts
 * read from decimal text come back as written (0.1, not 0.1000000000000001). */
#define API_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* The request body decrypted and parsed into a JSON object, owned by the
 * caller; NULL with a 400 in err. Every way a body can fail (empty, not
 * base64, not whole blocks, bad padding, not UTF-8, not JSON, a key twice,
 * not an object) gets the same message, so that the answer cannot serve as
 * a padding oracle. */
json_t *api_body_read(const crypto_cbc_key *key, const http_request *request, app_error *err);
/* The same with several keys (a connection key being rolled: the current
 * one, then the previous one), tried in that order: the first that yields a
 * JSON object wins, and *used names it, so that the answer goes back under
 * the key its request came in. A failure costs every key's work and gets
 * the one 400 whatever each key made of the body. */
json_t *api_body_read_any(const crypto_cbc_key *const *keys, size_t count, const http_request *request,
                          const crypto_cbc_key **used, app_error *err);

/* The content type of every encrypted answer. */
#define API_BODY_CONTENT_TYPE "text/plain; charset=utf-8"

/* text encrypted as an answer's body: base64, malloc'd, its length in
 * *sealed_len; NULL (logged) when it cannot be. */
char *api_body_seal(const crypto_cbc_key *key, const char *text, size_t len, size_t *sealed_len);
/* The same for doc, printed with API_JSON_FLAGS. */
char *api_body_seal_json(const crypto_cbc_key *key, const json_t *doc, size_t *sealed_len);

/* Encrypts doc and answers with status as text/plain; a 500 when it cannot.
 * doc stays the caller's. ex is answered either way. */
void api_body_respond(http_exchange *ex, const crypto_cbc_key *key, int status, const json_t *doc);
/* The same for an answer printed as JSON text already. */
void api_body_respond_text(http_exchange *ex, const crypto_cbc_key *key, int status, const char *text, size_t len);

/* Answers err as plain JSON {statusCode, message, error}. */
void api_respond_error(http_exchange *ex, const app_error *err);

#endif
