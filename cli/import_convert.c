/* import_convert: the value conversions of `payments import`. The original
 * seals documents with a fixed key and IV; we open them with its keys, check
 * that they are the JSON documents they should be, and seal them again in
 * our format, so no value of the old format remains after an import. */
#include "import.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seals a JSON text after checking it parses. */
static char *seal_checked(const seal_ring *to, const unsigned char *plain, size_t len, char *reason, size_t reasonlen)
{
    json_error_t error;
    json_t *doc = json_loadb((const char *)plain, len, JSON_DECODE_ANY, &error);
    if (!doc) {
        snprintf(reason, reasonlen, "holds no JSON document (%s)", error.text);
        return NULL;
    }
    json_decref(doc);
    char *sealed = seal_value(to, plain, len);
    if (!sealed)
        snprintf(reason, reasonlen, "cannot be sealed (out of memory)");
    return sealed;
}

char *import_reseal(const seal_ring *from, const seal_ring *to, const char *value, char *reason, size_t reasonlen)
{
    size_t len = 0;
    unsigned char *plain = value ? seal_open(from, value, &len) : NULL;
    if (!plain) {
        snprintf(reason, reasonlen, "data does not decrypt with the original's key");
        return NULL;
    }
    char *sealed = seal_checked(to, plain, len, reason, reasonlen);
    OPENSSL_cleanse(plain, len);
    free(plain);
    return sealed;
}

char *import_seal_json(const seal_ring *to, const char *value, char *reason, size_t reasonlen)
{
    if (!value) {
        snprintf(reason, reasonlen, "a document is missing");
        return NULL;
    }
    return seal_checked(to, (const unsigned char *)value, strlen(value), reason, reasonlen);
}

bool import_is_uuid(const char *text)
{
    if (!text || strlen(text) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !isxdigit((unsigned char)text[i]))
            return false;
    }
    return true;
}

bool import_row_own(import_row *row, char *value)
{
    if (!value || row->owned_count >= IMPORT_MAX_OWNED) {
        free(value);
        return false;
    }
    row->owned[row->owned_count++] = value;
    return true;
}

void import_row_free(import_row *row)
{
    for (int i = 0; i < row->owned_count; i++)
        free(row->owned[i]);
    row->owned_count = 0;
}
