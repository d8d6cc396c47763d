/* dotenv: reads a `.env` file (KEY=VALUE lines, `export` prefix, # comments,
 * single quotes literal, double quotes with \n escapes and ${VAR} expansion)
 * into a table. Lookups prefer the real environment, as dotenv does. */
#ifndef PAYMENTS_DOTENV_H
#define PAYMENTS_DOTENV_H

#include <stddef.h>

typedef struct dotenv_entry {
    char *key;
    char *value;
} dotenv_entry;

typedef struct dotenv {
    dotenv_entry *entries;
    size_t count;
} dotenv;

/* Parses text (NUL-terminated). On a malformed line returns -1 and writes
 * "line N: reason" to err. Entries are appended to env. */
int dotenv_parse(dotenv *env, const char *text, char *err, size_t errlen);
/* Reads and parses a file. A missing file is not an error (returns 0) unless
 * required is set. */
int dotenv_load(dotenv *env, const char *path, int required, char *err, size_t errlen);
/* The environment's value, else the file's, else NULL. A PAYMENT_UPDATOR_*
 * name not set under that spelling is also looked up as PAYMENT_UPDATER_*. */
const char *dotenv_get(const dotenv *env, const char *key);
/* The file's own value (the environment aside), or NULL. */
const char *dotenv_file_value(const dotenv *env, const char *key);
void dotenv_free(dotenv *env);

#endif
