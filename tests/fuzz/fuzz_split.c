/* fuzz_split: chunk lengths drawn from a small generator seeded by the
 * input. Mostly short chunks (a byte or a few, where parsers keep state
 * across calls), sometimes long ones, sometimes all that is left. */
#include "fuzz_split.h"

static uint32_t next_random(fuzz_split *split)
{
    uint32_t x = split->state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    split->state = x;
    return x;
}

void fuzz_split_init(fuzz_split *split, const uint8_t *data, size_t size)
{
    size_t seed_bytes = size < FUZZ_SPLIT_SEED_BYTES ? size : FUZZ_SPLIT_SEED_BYTES;
    uint32_t seed = 0;
    for (size_t i = 0; i < seed_bytes; i++)
        seed = seed << 8 | data[i];
    split->state = seed ^ 0x9e3779b9u;
    if (split->state == 0)
        split->state = 1;
    split->data = data + seed_bytes;
    split->left = size - seed_bytes;
}

size_t fuzz_split_next(fuzz_split *split, const uint8_t **chunk)
{
    if (split->left == 0)
        return 0;
    uint32_t r = next_random(split);
    size_t length;
    switch (r & 3) {
    case 0:
        length = split->left;
        break;
    case 1:
        length = 1 + (r >> 2) % 512;
        break;
    default:
        length = 1 + (r >> 2) % 8;
        break;
    }
    if (length > split->left)
        length = split->left;
    *chunk = split->data;
    split->data += length;
    split->left -= length;
    return length;
}
