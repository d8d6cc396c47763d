/* idempotency_key: what a request's Idempotency-Key header becomes before it
 * is stored: the header's syntax, the stored key (an HMAC binding the header
 * to the route, the body's source and the record password, so that one
 * service cannot read another's answer by guessing its key) and the hash by
 * which a retry's body is compared with the first one's. Pure functions. */
#ifndef PAYMENTS_IDEMPOTENCY_KEY_H
#define PAYMENTS_IDEMPOTENCY_KEY_H

#include "password.h"
#include "payment_input.h"

#include <jansson.h>
#include <stdbool.h>

#define IDEMPOTENCY_KEY_HEADER "Idempotency-Key"
#define IDEMPOTENCY_KEY_MAX 255
/* A key or body hash as stored: 64 hex digits and a NUL. */
#define IDEMPOTENCY_HEX_SIZE 65

/* True when value is 1 to IDEMPOTENCY_KEY_MAX printable ASCII characters. */
bool idempotency_key_valid(const char *value);

/* What one stored key stands for. */
typedef struct idempotency_scope {
    const char *method;                 /* "PUT" */
    const char *path;                   /* "/payments/histories/cancel" */
    const char *header;                 /* the Idempotency-Key value */
    const payment_source_input *source; /* the body's source */
    const char *password;               /* the record password */
} idempotency_scope;

/* hex(HMAC-SHA-256(secret, label and every field of scope, each prefixed by
 * its length so that no two scopes feed the same bytes)). 0, or -1 when
 * OpenSSL fails. */
int idempotency_key_derive(const password_secret *secret, const idempotency_scope *scope,
                           char out[IDEMPOTENCY_HEX_SIZE]);

/* The hash of a decrypted body: HMAC-SHA-256 under the same secret (the body
 * holds the password, so a bare digest would let a reader of the table test
 * guesses) of its JSON with sorted keys, so a retry that orders its fields
 * otherwise is the same body. 0, or -1. */
int idempotency_body_hash(const password_secret *secret, const json_t *body, char out[IDEMPOTENCY_HEX_SIZE]);

#endif
