/* The buffer doubles as it grows, so that a text appended a byte at a time
 * costs amortized constant time per byte, and checks the doubling for
 * overflow, since HTTP bodies decide how much it holds. */
#include "byte_buffer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK 4096

int byte_buffer_reserve(byte_buffer *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (!data)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

int byte_buffer_append(byte_buffer *b, const void *bytes, size_t len)
{
    if (byte_buffer_reserve(b, len + 1) != 0)
        return -1;
    if (len > 0)
        memcpy(b->data + b->len, bytes, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int byte_buffer_append_nul(byte_buffer *b)
{
    if (byte_buffer_reserve(b, 1) != 0)
        return -1;
    b->data[b->len++] = '\0';
    return 0;
}

int byte_buffer_read_file(byte_buffer *b, FILE *f)
{
    size_t n;
    do {
        if (byte_buffer_reserve(b, READ_CHUNK + 1) != 0)
            return -1;
        n = fread(b->data + b->len, 1, b->cap - b->len - 1, f);
        b->len += n;
        b->data[b->len] = '\0';
    } while (n > 0);
    return ferror(f) ? -1 : 0;
}

void byte_buffer_release(byte_buffer *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
