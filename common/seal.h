/* seal: encryption of stored values (vendor documents in the database).
 * New values: AES-256-GCM with a fresh random 96-bit nonce, stored as
 * "v1.<key id>.<base64(nonce | ciphertext | tag)>", the key id naming which
 * key of the ring sealed it, so keys can be rotated. Values in the original
 * server's format (base64 AES-CBC with the table's fixed key and IV) are still
 * opened, so a database migrated from it keeps working. */
#ifndef PAYMENTS_SEAL_H
#define PAYMENTS_SEAL_H

#include "crypto.h"

#include <stdbool.h>
#include <stddef.h>

#define SEAL_MAX_KEYS 4

typedef struct seal_key {
    char id[9];            /* 8 hex characters derived from the key */
    unsigned char key[32]; /* AES-256-GCM key */
    crypto_cbc_key legacy; /* the original server's key and IV for this table */
} seal_key;

typedef struct seal_ring {
    seal_key keys[SEAL_MAX_KEYS]; /* keys[0] seals; all open */
    size_t count;
} seal_ring;

/* Derives the ring's first key from a table's configured key and IV (the
 * PAYMENT_*_ENCRYPTION_KEY/IV pair), with HKDF-SHA-256 and a per-table label
 * ("histories", ...). Further keys (older ones) are added the same way.
 * Returns 0 or -1. */
int seal_ring_add(seal_ring *ring, const char *key, const char *iv, const char *label);
void seal_ring_clear(seal_ring *ring);

/* Returns a NUL-terminated malloc'd sealed string, or NULL. */
char *seal_value(const seal_ring *ring, const void *plain, size_t len);
/* Opens a sealed or legacy value; NULL when it cannot be opened (tampered,
 * unknown key id, wrong key). The result is NUL-terminated (not counted in
 * *out_len). */
unsigned char *seal_open(const seal_ring *ring, const char *sealed, size_t *out_len);

/* True when sealed is in the current format, whose tag proves that a holder
 * of the ring's keys wrote it (a legacy value proves nothing of the kind). */
bool seal_authenticated(const char *sealed);

#endif
