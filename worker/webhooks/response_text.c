/* response_text: a receiver's answer made fit for a text column. PostgreSQL
 * refuses invalid UTF-8 and NUL in text, and an attempt whose record it
 * refuses is lost with its outcome, so every byte is checked here. */
#include "response_text.h"

#include <stdlib.h>
#include <string.h>

/* Length of a UTF-8 sequence from its lead byte; 0 for a byte that cannot
 * lead one. */
static size_t utf8_length(unsigned char lead)
{
    if (lead < 0x80)
        return 1;
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 4;
    return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    size_t len = utf8_length(s[0]);
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    /* Overlong forms, surrogates and code points past U+10FFFF. */
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) || (s[0] == 0xF0 && s[1] < 0x90) ||
        (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return len;
}

char *response_text_printable(const char *body, size_t len)
{
    if (len > RESPONSE_TEXT_MAX)
        len = RESPONSE_TEXT_MAX;
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    const unsigned char *in = (const unsigned char *)body;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t step = utf8_sequence(in + i, len - i);
        if (step == 0 || in[i] == 0) {
            out[n++] = '?';
            i++;
            continue;
        }
        memcpy(out + n, in + i, step);
        n += step;
        i += step;
    }
    out[n] = '\0';
    return out;
}
