/* json_text: a byte buffer that doubles when full, a string escaper that
 * leaves UTF-8 as it is (as jansson prints without JSON_ENSURE_ASCII), and
 * numbers printed as the answers always printed amounts: integers when whole,
 * else 15 significant digits (API_JSON_FLAGS). */
#include "json_text.h"

#include <math.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_TEXT_FIRST_CAP 4096

void json_text_init(json_text *t)
{
    *t = (json_text){0};
}

/* Only [0, len) ever held text: a block is fresh when it comes and only len
 * bytes are carried over when it grows. */
void json_text_free(json_text *t)
{
    if (t->data) {
        OPENSSL_cleanse(t->data, t->len);
        free(t->data);
    }
    json_text_init(t);
}

/* Room for n more bytes and the NUL; false once the buffer failed. */
static bool reserve(json_text *t, size_t n)
{
    if (t->failed)
        return false;
    if (t->len + n + 1 <= t->cap)
        return true;
    size_t cap = t->cap ? t->cap : JSON_TEXT_FIRST_CAP;
    while (cap < t->len + n + 1) {
        if (cap > (size_t)-1 / 2) {
            t->failed = true;
            return false;
        }
        cap *= 2;
    }
    /* No realloc: the old block may hold a document to wipe. */
    char *data = malloc(cap);
    if (!data) {
        t->failed = true;
        return false;
    }
    if (t->data) {
        memcpy(data, t->data, t->len);
        OPENSSL_cleanse(t->data, t->len);
        free(t->data);
    }
    t->data = data;
    t->cap = cap;
    return true;
}

static void put(json_text *t, const char *bytes, size_t n)
{
    if (!reserve(t, n))
        return;
    memcpy(t->data + t->len, bytes, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void put_char(json_text *t, char c)
{
    put(t, &c, 1);
}

/* A value after another one in the same object or array needs a comma. */
static void separate(json_text *t)
{
    if (t->len == 0 || t->failed)
        return;
    char last = t->data[t->len - 1];
    if (last != '{' && last != '[' && last != ':')
        put_char(t, ',');
}

void json_text_open(json_text *t, char bracket)
{
    separate(t);
    put_char(t, bracket);
}

void json_text_close(json_text *t, char bracket)
{
    put_char(t, bracket);
}

static void put_escaped(json_text *t, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    put_char(t, '"');
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c != '\0' && c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(t, run, (size_t)(p - run));
        if (c == '\0')
            break;
        run = p + 1;
        char escaped[6] = {'\\', (char)c};
        size_t n = 2;
        if (c == '\n')
            escaped[1] = 'n';
        else if (c == '\r')
            escaped[1] = 'r';
        else if (c == '\t')
            escaped[1] = 't';
        else if (c == '\b')
            escaped[1] = 'b';
        else if (c == '\f')
            escaped[1] = 'f';
        else if (c < 0x20) {
            memcpy(escaped + 1, "u00", 3);
            escaped[4] = hex[c >> 4];
            escaped[5] = hex[c & 0xf];
            n = 6;
        }
        put(t, escaped, n);
    }
    put_char(t, '"');
}

void json_text_key(json_text *t, const char *key)
{
    separate(t);
    put_escaped(t, key);
    put_char(t, ':');
}

void json_text_string(json_text *t, const char *s)
{
    separate(t);
    if (s)
        put_escaped(t, s);
    else
        put(t, "null", 4);
}

void json_text_raw(json_text *t, const char *json, size_t len)
{
    separate(t);
    put(t, json, len);
}

/* Digits only, with an optional minus and no leading zero: already the
 * JSON of its integer (and short enough to be exact in a double). */
static bool plain_integer(const char *decimal, size_t *len)
{
    const char *digits = decimal[0] == '-' ? decimal + 1 : decimal;
    size_t n = strspn(digits, "0123456789");
    if (n == 0 || n > 15 || digits[n] != '\0' || (digits[0] == '0' && n > 1) || (digits[0] == '0' && digits != decimal))
        return false;
    *len = (size_t)(digits - decimal) + n;
    return true;
}

void json_text_number(json_text *t, const char *decimal)
{
    if (!decimal) {
        json_text_raw(t, "null", 4);
        return;
    }
    size_t plain_len = 0;
    if (plain_integer(decimal, &plain_len)) {
        json_text_raw(t, decimal, plain_len);
        return;
    }
    char *end;
    double value = strtod(decimal, &end);
    if (end == decimal || *end != '\0' || !isfinite(value)) {
        t->failed = true;
        return;
    }
    char text[40];
    int n = value == floor(value) && fabs(value) < 9007199254740992.0 ? snprintf(text, sizeof text, "%.0f", value)
                                                                      : snprintf(text, sizeof text, "%.15g", value);
    if (n <= 0 || (size_t)n >= sizeof text) {
        t->failed = true;
        return;
    }
    json_text_raw(t, text, (size_t)n);
}

const char *json_text_result(const json_text *t, size_t *len)
{
    if (t->failed || !t->data)
        return NULL;
    if (len)
        *len = t->len;
    return t->data;
}
