/* byte_buffer: a growable run of bytes, kept NUL-terminated past its length
 * by what appends, so that text in it can be handed on as a C string. The
 * HTTP server's requests, .env files and migrations are read into one. */
#ifndef PAYMENTS_BYTE_BUFFER_H
#define PAYMENTS_BYTE_BUFFER_H

#include <stddef.h>
#include <stdio.h>

/* Zero-initialized is empty; data is NULL until the first byte or reserve. */
typedef struct byte_buffer {
    char *data;
    size_t len;
    size_t cap;
} byte_buffer;

/* Makes room for extra more bytes past len. The byte_buffer functions return
 * 0, or -1 when memory ran out (b is then unchanged). */
int byte_buffer_reserve(byte_buffer *b, size_t extra);
/* Appends len bytes; a NUL follows them, not counted in b->len. */
int byte_buffer_append(byte_buffer *b, const void *bytes, size_t len);
/* Appends a NUL that counts: a separator between strings stored one after
 * the other. */
int byte_buffer_append_nul(byte_buffer *b);
/* Appends everything left in f; -1 also when reading fails. */
int byte_buffer_read_file(byte_buffer *b, FILE *f);
/* Frees the bytes; b is empty again. */
void byte_buffer_release(byte_buffer *b);

#endif
