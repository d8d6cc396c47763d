/* fuzz_split: cuts a fuzz input into the chunks a stream would deliver. The
 * input's first four bytes seed the cut points, so libFuzzer explores where a
 * stream breaks as it explores what it carries, and a saved input always
 * replays with the same chunks. */
#ifndef PAYMENTS_FUZZ_SPLIT_H
#define PAYMENTS_FUZZ_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_SPLIT_SEED_BYTES 4

typedef struct fuzz_split {
    const uint8_t *data; /* what is left to hand out */
    size_t left;
    uint32_t state; /* xorshift32, never 0 */
} fuzz_split;

/* Takes the seed from the first FUZZ_SPLIT_SEED_BYTES bytes (fewer: all of
 * them); the rest of the input is the stream. */
void fuzz_split_init(fuzz_split *split, const uint8_t *data, size_t size);
/* The next chunk, at least one byte, in *chunk; returns its length, 0 once
 * the stream is used up. */
size_t fuzz_split_next(fuzz_split *split, const uint8_t **chunk);

#endif
