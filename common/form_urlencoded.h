/* form_urlencoded: application/x-www-form-urlencoded bodies as JSON objects
 * of strings, both ways: what form-speaking gateways and their fakes send
 * and take. */
#ifndef PAYMENTS_FORM_URLENCODED_H
#define PAYMENTS_FORM_URLENCODED_H

#include <jansson.h>
#include <stddef.h>

/* The body's fields as a JSON object of strings (new reference), or NULL
 * with the reason in problem: bad percent escapes, a field twice, no UTF-8. */
json_t *form_urlencoded_parse(const char *body, size_t len, const char **problem);
/* name=value&... of the object's string members, percent-encoded: malloc'd,
 * or NULL when out of memory. */
char *form_urlencoded_encode(const json_t *fields);

#endif
