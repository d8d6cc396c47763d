/* fuzz_text: fuzz bytes as the NUL-terminated text that the code under test
 * takes (file contents, frame bodies, stored values), as our readers hand it
 * on: bytes after an embedded NUL are still there, but unseen by C strings. */
#ifndef PAYMENTS_FUZZ_TEXT_H
#define PAYMENTS_FUZZ_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* A malloc'd copy of data with a NUL after it; aborts when memory runs out,
 * which is no finding of the target's. */
char *fuzz_text(const uint8_t *data, size_t size);

#endif
