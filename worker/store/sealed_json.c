/* sealed_json: JSON text in and out of a seal ring. */
#include "sealed_json.h"

#include "api_body.h"
#include "log.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

char *sealed_json_seal(const seal_ring *ring, const json_t *doc)
{
    char *text = json_dumps(doc, API_JSON_FLAGS | JSON_ENCODE_ANY);
    if (!text)
        return NULL;
    size_t len = strlen(text);
    char *sealed = seal_value(ring, text, len);
    OPENSSL_cleanse(text, len);
    free(text);
    return sealed;
}

static unsigned char *open_logged(const seal_ring *ring, const char *sealed, size_t *len)
{
    unsigned char *text = sealed ? seal_open(ring, sealed, len) : NULL;
    if (!text)
        log_error("sealed_json: a stored document cannot be opened (wrong or rotated-out key?)");
    return text;
}

static json_t *parse_wiped(unsigned char *text, size_t len)
{
    json_error_t parse_error;
    json_t *doc = json_loadb((const char *)text, len, JSON_DECODE_ANY, &parse_error);
    OPENSSL_cleanse(text, len);
    free(text);
    if (!doc)
        log_error("sealed_json: a stored document is not JSON (line %d)", parse_error.line);
    return doc;
}

json_t *sealed_json_open(const seal_ring *ring, const char *sealed)
{
    size_t len = 0;
    unsigned char *text = open_logged(ring, sealed, &len);
    return text ? parse_wiped(text, len) : NULL;
}

char *sealed_json_open_text(const seal_ring *ring, const char *sealed, size_t *len)
{
    unsigned char *text = open_logged(ring, sealed, len);
    if (!text || seal_authenticated(sealed))
        return (char *)text;
    json_t *doc = parse_wiped(text, *len);
    if (!doc)
        return NULL;
    char *printed = json_dumps(doc, API_JSON_FLAGS | JSON_ENCODE_ANY);
    json_decref(doc);
    if (printed)
        *len = strlen(printed);
    return printed;
}

int sealed_json_append(json_text *out, const seal_ring *ring, const char *sealed)
{
    size_t len = 0;
    char *text = sealed_json_open_text(ring, sealed, &len);
    if (!text)
        return -1;
    json_text_raw(out, text, len);
    OPENSSL_cleanse(text, len);
    free(text);
    return 0;
}
