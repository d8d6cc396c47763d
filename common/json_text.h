/* json_text: JSON written straight into a growing buffer, for answers whose
 * parts are already JSON text (a stored vendor document, PostgreSQL's
 * json_agg): they are copied in as they are instead of being parsed into a
 * tree only to be printed again. Separators are placed by looking at the
 * last byte written, so callers write keys and values in order and nothing
 * else. A failed allocation makes the buffer fail once and for all. */
#ifndef PAYMENTS_JSON_TEXT_H
#define PAYMENTS_JSON_TEXT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct json_text {
    char *data; /* NUL-terminated while not failed */
    size_t len;
    size_t cap;
    bool failed;
} json_text;

void json_text_init(json_text *t);
/* Wipes (the text may hold documents sealed at rest) and frees. */
void json_text_free(json_text *t);

/* '{' or '[' opening a value, '}' or ']' closing one. */
void json_text_open(json_text *t, char bracket);
void json_text_close(json_text *t, char bracket);
/* The member name of the value written next. */
void json_text_key(json_text *t, const char *key);
/* A string, escaped; NULL writes null. */
void json_text_string(json_text *t, const char *s);
/* Text that is JSON already (a number, an object, ...), copied as it is. */
void json_text_raw(json_text *t, const char *json, size_t len);
/* A decimal's text (PostgreSQL numeric) as a JSON number: an integer when
 * whole, else 15 significant digits. Fails the buffer when it is no number;
 * NULL writes null. */
void json_text_number(json_text *t, const char *decimal);

/* The text and its length, or NULL when anything failed. Stays owned by t. */
const char *json_text_result(const json_text *t, size_t *len);

#endif
