/* query_param: one parameter of a request's query string ("a=1&b=2"), for
 * the few routes that take one. Values are not percent-decoded: the callers
 * accept only UUIDs, which need no decoding. */
#ifndef PAYMENTS_QUERY_PARAM_H
#define PAYMENTS_QUERY_PARAM_H

#include <stdbool.h>
#include <stddef.h>

/* Copies the value of name into out (cap bytes). false when the query has
 * no such parameter or its value does not fit. */
bool query_param(const char *query, const char *name, char *out, size_t cap);

#endif
