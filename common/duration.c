/* duration: digits then a unit, checked for overflow against the caller's
 * bound before multiplying, so "99999999999d" is refused rather than wrapped
 * into a short delay. */
#include "duration.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static uint64_t unit_ms(const char *unit, size_t len)
{
    static const struct {
        const char *name;
        uint64_t ms;
    } units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == len && strncmp(unit, units[i].name, len) == 0)
            return units[i].ms;
    return 0;
}

int duration_parse(const char *text, size_t len, uint64_t max_ms, uint64_t *out_ms)
{
    while (len > 0 && isspace((unsigned char)*text))
        text++, len--;
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    size_t digits = 0;
    while (digits < len && isdigit((unsigned char)text[digits]))
        digits++;
    if (digits == 0 || digits > 12)
        return -1;
    uint64_t unit = unit_ms(text + digits, len - digits);
    if (unit == 0)
        return -1;
    uint64_t value = strtoull(text, NULL, 10);
    if (value > max_ms / unit)
        return -1;
    *out_ms = value * unit;
    return 0;
}
