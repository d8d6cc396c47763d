/* json_printable: strings from JSON documents of other processes (updater
 * results, control answers) made safe to print, whatever the peer sent. */
#include "json_printable.h"

const char *json_printable_string(const json_t *value, const char *fallback)
{
    const char *text = json_string_value(value);
    return text && *text ? text : fallback;
}
