/* sealed_json: JSON documents as the database keeps them, sealed with a
 * table's key ring (common/seal.h). Plaintext copies made on the way are
 * wiped before they are freed. */
#ifndef PAYMENTS_SEALED_JSON_H
#define PAYMENTS_SEALED_JSON_H

#include "seal.h"

#include <jansson.h>

/* The sealed text of doc, malloc'd; NULL on failure. */
char *sealed_json_seal(const seal_ring *ring, const json_t *doc);
/* The document inside sealed, owned by the caller; NULL when it cannot be
 * opened or is not JSON (logged, never with its content). */
json_t *sealed_json_open(const seal_ring *ring, const char *sealed);

#endif
