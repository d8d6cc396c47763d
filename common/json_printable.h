/* json_printable: a JSON value as text that is always safe to hand to a
 * "%s". json_string_value() answers NULL for anything but a string, and a
 * peer's malformed message must not turn into a NULL in printf. */
#ifndef PAYMENTS_JSON_PRINTABLE_H
#define PAYMENTS_JSON_PRINTABLE_H

#include <jansson.h>

/* The value's text when it is a non-empty string, else fallback (never NULL
 * when fallback is not). */
const char *json_printable_string(const json_t *value, const char *fallback);

#endif
