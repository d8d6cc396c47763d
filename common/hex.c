/* hex: the one implementation of hexadecimal digits the project uses. */
#include "hex.h"

#include <string.h>

void hex_encode(const unsigned char *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

int hex_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(const char *text, unsigned char *out, size_t len)
{
    if (!text || strlen(text) != 2 * len)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int high = hex_digit_value(text[2 * i]), low = hex_digit_value(text[2 * i + 1]);
        if (high < 0 || low < 0)
            return -1;
        out[i] = (unsigned char)(high << 4 | low);
    }
    return 0;
}
