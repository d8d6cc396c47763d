/* sealed_json: JSON documents as the database keeps them, sealed with a
 * table's key ring (common/seal.h). Plaintext copies made on the way are
 * wiped before they are freed. */
#ifndef PAYMENTS_SEALED_JSON_H
#define PAYMENTS_SEALED_JSON_H

#include "json_text.h"
#include "seal.h"

#include <jansson.h>

/* The sealed text of doc, malloc'd; NULL on failure. */
char *sealed_json_seal(const seal_ring *ring, const json_t *doc);
/* The document inside sealed, owned by the caller; NULL when it cannot be
 * opened or is not JSON (logged, never with its content). */
json_t *sealed_json_open(const seal_ring *ring, const char *sealed);
/* The document inside sealed as JSON text, malloc'd and NUL-terminated
 * (length in *len), for copying into an answer unparsed: what sealed_json_seal
 * wrote (authenticated) is JSON by construction; a legacy value is parsed
 * once to make sure. NULL as sealed_json_open. Wipe it before freeing. */
char *sealed_json_open_text(const seal_ring *ring, const char *sealed, size_t *len);
/* Appends the document inside sealed to out as sealed_json_open_text gives
 * it, wiping the copy. Returns 0, or -1 (logged) when it cannot be opened. */
int sealed_json_append(json_text *out, const seal_ring *ring, const char *sealed);

#endif
