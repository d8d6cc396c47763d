/* application/x-www-form-urlencoded both ways, for the gateways that speak
 * forms rather than JSON (requests and notifications alike). '+' is a space,
 * so base64 fields arrive intact only when the sender percent-encodes them:
 * the encoder here encodes everything but unreserved characters. */
#include "form_urlencoded.h"
#include "hex.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Decodes text[0..len) into out (room for len + 1): its length, or -1. */
static long form_decode(const char *text, size_t len, char *out)
{
    size_t used = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '+') {
            out[used++] = ' ';
        } else if (text[i] != '%') {
            out[used++] = text[i];
        } else {
            int high = i + 2 < len ? hex_digit_value(text[i + 1]) : -1;
            int low = i + 2 < len ? hex_digit_value(text[i + 2]) : -1;
            if (high < 0 || low < 0)
                return -1;
            out[used++] = (char)(high * 16 + low);
            i += 2;
        }
    }
    out[used] = '\0';
    return (long)used;
}

/* Adds one "name=value" pair to fields; NULL, or the reason it is refused. */
static const char *form_add_pair(json_t *fields, const char *pair, size_t len, char *scratch)
{
    const char *equals = memchr(pair, '=', len);
    size_t name_len = equals ? (size_t)(equals - pair) : len;
    long decoded = form_decode(pair, name_len, scratch);
    if (decoded <= 0 || strlen(scratch) != (size_t)decoded)
        return "a field name is empty or badly escaped";
    if (json_object_get(fields, scratch))
        return "a field appears twice";
    char *name = strdup(scratch);
    if (!name)
        return "out of memory";
    const char *value = equals ? equals + 1 : pair + len;
    decoded = form_decode(value, (size_t)(pair + len - value), scratch);
    bool whole = decoded >= 0 && memchr(scratch, '\0', (size_t)decoded) == NULL;
    json_t *text = whole ? json_stringn(scratch, (size_t)decoded) : NULL;
    int failed = text == NULL || json_object_set_new(fields, name, text) != 0;
    free(name);
    return failed ? "a field value is badly escaped or not UTF-8" : NULL;
}

json_t *form_urlencoded_parse(const char *body, size_t len, const char **problem)
{
    json_t *fields = json_object();
    char *scratch = malloc(len + 1);
    *problem = fields && scratch ? NULL : "out of memory";
    for (size_t start = 0; *problem == NULL && start < len;) {
        const char *amp = memchr(body + start, '&', len - start);
        size_t end = amp ? (size_t)(amp - body) : len;
        if (end > start)
            *problem = form_add_pair(fields, body + start, end - start, scratch);
        start = end + 1;
    }
    free(scratch);
    if (*problem == NULL)
        return fields;
    json_decref(fields);
    return NULL;
}

/* Unreserved characters stay; everything else is %XX. */
static size_t form_encode_into(const char *text, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t used = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || strchr("-._~", *p)) {
            out[used++] = (char)*p;
        } else {
            out[used++] = '%';
            out[used++] = hex[*p >> 4];
            out[used++] = hex[*p & 15];
        }
    }
    return used;
}

char *form_urlencoded_encode(const json_t *fields)
{
    size_t room = 1;
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)fields, name, value) room +=
        3 * (strlen(name) + strlen(json_string_value(value) ? json_string_value(value) : "")) + 2;
    char *out = malloc(room);
    if (!out)
        return NULL;
    size_t used = 0;
    json_object_foreach((json_t *)fields, name, value)
    {
        if (!json_is_string(value))
            continue;
        if (used > 0)
            out[used++] = '&';
        used += form_encode_into(name, out + used);
        out[used++] = '=';
        used += form_encode_into(json_string_value(value), out + used);
    }
    out[used] = '\0';
    return out;
}
