/* subscription_schedule: the checks of a schedule's days, time and zone
 * name. Days are kept as a set: [15, 1, 15] and [1, 15] are one schedule,
 * and the SQL folds days past a month's end into its last day itself. */
#include "subscription_schedule.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define DAYS_MAX 31

/* days: numbers 1..31 and "last", at least one. */
static bool read_days(const api_input *in, subscription_schedule *out)
{
    const json_t *days = json_object_get(in->object, "days");
    if (!json_is_array(days) || json_array_size(days) == 0 || json_array_size(days) > DAYS_MAX + 1)
        return api_input_refuse(in, "days", "must be a list of days of the month (1 to 31, or \"last\")");
    bool seen[DAYS_MAX + 1] = {false};
    size_t index;
    const json_t *day;
    json_array_foreach(days, index, day)
    {
        if (json_is_string(day) && strcmp(json_string_value(day), "last") == 0) {
            out->last_day = true;
            continue;
        }
        json_int_t number = json_is_integer(day) ? json_integer_value(day) : 0;
        if (number < 1 || number > DAYS_MAX)
            return api_input_refuse(in, "days", "must hold days of the month from 1 to 31, or \"last\"");
        seen[number] = true;
    }
    size_t used = (size_t)snprintf(out->days, sizeof out->days, "{");
    for (int d = 1; d <= DAYS_MAX; d++)
        if (seen[d])
            used += (size_t)snprintf(out->days + used, sizeof out->days - used, "%s%d", used > 1 ? "," : "", d);
    snprintf(out->days + used, sizeof out->days - used, "}");
    return true;
}

static bool two_digits(const char *text, int max, int *out)
{
    if (!isdigit((unsigned char)text[0]) || !isdigit((unsigned char)text[1]))
        return false;
    *out = (text[0] - '0') * 10 + (text[1] - '0');
    return *out <= max;
}

/* time: "HH:MM" or "HH:MM:SS", 24-hour. */
static bool read_time(const api_input *in, subscription_schedule *out)
{
    const char *text;
    if (!api_input_string(in, "time", 8, &text))
        return false;
    size_t len = strlen(text);
    int hour, minute, second = 0;
    bool valid = (len == 5 || len == 8) && two_digits(text, 23, &hour) && text[2] == ':' &&
                 two_digits(text + 3, 59, &minute) &&
                 (len == 5 || (text[5] == ':' && two_digits(text + 6, 59, &second)));
    if (!valid)
        return api_input_refuse(in, "time", "must be a time of day, HH:MM or HH:MM:SS (00:00 to 23:59:59)");
    snprintf(out->time, sizeof out->time, "%02d:%02d:%02d", hour, minute, second);
    return true;
}

/* time_zone: an IANA name's characters ("America/Argentina/Buenos_Aires",
 * "Etc/GMT+9"); PostgreSQL then says whether it knows it. */
static bool read_zone(const api_input *in, subscription_schedule *out)
{
    if (!api_input_string(in, "time_zone", SUBSCRIPTION_ZONE_MAX, &out->zone))
        return false;
    for (const char *c = out->zone; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("/_+-", *c))
            return api_input_refuse(in, "time_zone", "must be an IANA time zone name (e.g. Asia/Seoul)");
    return true;
}

bool subscription_schedule_read(const api_input *in, subscription_schedule *out)
{
    memset(out, 0, sizeof *out);
    api_input schedule;
    return api_input_object(in, "schedule", &schedule) && read_days(&schedule, out) && read_time(&schedule, out) &&
           read_zone(&schedule, out);
}
