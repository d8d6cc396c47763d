/* Vendor times: some vendors write ISO-8601 with the offset of Korea
 * ("2026-11-23T18:30:00+09:00"); we keep unix milliseconds. A hand-written
 * parser, because strptime ignores offsets and timegm would need the
 * process's time zone; a time without an offset is refused, not guessed. */
#include "vendor_internal.h"

#include <ctype.h>

typedef struct time_cursor {
    const char *p;
} time_cursor;

/* Exactly n digits. */
static bool read_digits(time_cursor *c, int n, int *out)
{
    int value = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)c->p[i]))
            return false;
        value = value * 10 + (c->p[i] - '0');
    }
    c->p += n;
    *out = value;
    return true;
}

static bool read_char(time_cursor *c, char expected)
{
    if (*c->p != expected)
        return false;
    c->p++;
    return true;
}

static bool is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int year, int month, int day)
{
    int64_t y = month <= 2 ? year - 1 : year;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t year_of_era = y - era * 400;
    int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

/* "." or "," and one or more digits; milliseconds from the first three. */
static int read_fraction_ms(time_cursor *c)
{
    if (*c->p != '.' && *c->p != ',')
        return 0;
    if (!isdigit((unsigned char)c->p[1]))
        return -1;
    c->p++;
    int ms = 0, digits = 0;
    for (; isdigit((unsigned char)*c->p); c->p++, digits++)
        if (digits < 3)
            ms = ms * 10 + (*c->p - '0');
    for (; digits < 3; digits++)
        ms *= 10;
    return ms;
}

/* "Z", "+09:00", "+0900" or "+09": seconds east of UTC. */
static bool read_offset(time_cursor *c, int *seconds)
{
    if (*c->p == 'Z' || *c->p == 'z') {
        c->p++;
        *seconds = 0;
        return true;
    }
    if (*c->p != '+' && *c->p != '-')
        return false;
    int sign = *c->p++ == '-' ? -1 : 1;
    int hours, minutes = 0;
    if (!read_digits(c, 2, &hours))
        return false;
    if (*c->p == ':')
        c->p++;
    if (isdigit((unsigned char)*c->p) && !read_digits(c, 2, &minutes))
        return false;
    if (hours > 23 || minutes > 59)
        return false;
    *seconds = sign * (hours * 3600 + minutes * 60);
    return true;
}

bool vendor_time_parse_iso(const char *text, int64_t *out_ms)
{
    if (!text)
        return false;
    time_cursor c = {text};
    int year, month, day, hour, minute, second = 0, offset;
    if (!read_digits(&c, 4, &year) || !read_char(&c, '-') || !read_digits(&c, 2, &month) || !read_char(&c, '-') ||
        !read_digits(&c, 2, &day))
        return false;
    if (!read_char(&c, 'T') && !read_char(&c, 't') && !read_char(&c, ' '))
        return false;
    if (!read_digits(&c, 2, &hour) || !read_char(&c, ':') || !read_digits(&c, 2, &minute))
        return false;
    if (read_char(&c, ':') && !read_digits(&c, 2, &second))
        return false;
    int ms = read_fraction_ms(&c);
    if (ms < 0 || !read_offset(&c, &offset) || *c.p != '\0')
        return false;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
        second > 60)
        return false;
    int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
    *out_ms = seconds * 1000 + ms;
    return true;
}
