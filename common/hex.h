/* hex: lower-case hexadecimal text of bytes and back, for nonces, MACs and
 * percent-escapes. */
#ifndef PAYMENTS_HEX_H
#define PAYMENTS_HEX_H

#include <stddef.h>

/* Writes 2*len digits and a NUL to out. */
void hex_encode(const unsigned char *bytes, size_t len, char *out);
/* The value of one hex digit (either case), or -1. */
int hex_digit_value(char c);
/* Decodes exactly len bytes from 2*len digits; -1 when text is not that. */
int hex_decode(const char *text, unsigned char *out, size_t len);

#endif
