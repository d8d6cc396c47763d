/* api_input: checks of decrypted request documents, one field at a time.
 * Each check fails with a 400 naming the field by its path ("source.id must
 * be a UUID"), so a caller can fix its request without reading our code.
 * Checks return false on failure and may be chained with &&; the strings they
 * hand out are borrowed from the document. */
#ifndef PAYMENTS_API_INPUT_H
#define PAYMENTS_API_INPUT_H

#include "error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct api_input {
    const json_t *object; /* the object whose fields are read */
    char path[64];        /* its path in messages: "" at the top, "source" */
    app_error *err;       /* where a failure goes */
} api_input;

/* The top-level object of a request. */
void api_input_init(api_input *in, const json_t *object, app_error *err);

/* A required object member, as a child input ("vendor" -> "vendor.code"). */
bool api_input_object(const api_input *in, const char *name, api_input *child);
/* Like api_input_object, but null or absent is allowed: *present says. */
bool api_input_optional_object(const api_input *in, const char *name, api_input *child, bool *present);

/* A required, non-empty string of at most max_length bytes. */
bool api_input_string(const api_input *in, const char *name, size_t max_length, const char **out);
/* A string naming one of choices (NULL-terminated). */
bool api_input_enum(const api_input *in, const char *name, const char *const *choices, const char **out);
/* A UUID in its canonical 8-4-4-4-12 hexadecimal form. */
bool api_input_uuid(const api_input *in, const char *name, const char **out);
/* An absolute http or https URL. */
bool api_input_url(const api_input *in, const char *name, const char **out);
/* Fails member name with "<path> <what>" (a 400), for a check of its own
 * made after the member was read; returns false. */
bool api_input_refuse(const api_input *in, const char *name, const char *what);
/* A number within [min, max]. */
bool api_input_number(const api_input *in, const char *name, double min, double max, double *out);

/* The same checks for a value that is not a member (a path parameter). */
bool api_input_is_uuid(const char *text);

#endif
