/* response_text: what the webhook responses table keeps of an answer from
 * a receiver we do not control: its first RESPONSE_TEXT_MAX bytes, as valid
 * UTF-8 without NUL (any other byte becomes '?'). */
#ifndef PAYMENTS_RESPONSE_TEXT_H
#define PAYMENTS_RESPONSE_TEXT_H

#include <stddef.h>

#define RESPONSE_TEXT_MAX 4096

/* malloc'd and NUL-terminated; NULL when out of memory. */
char *response_text_printable(const char *body, size_t len);

#endif
