/* query_param: a walk over "&"-separated pairs; the first match wins. */
#include "query_param.h"

#include <string.h>

bool query_param(const char *query, const char *name, char *out, size_t cap)
{
    size_t name_len = strlen(name);
    for (const char *pair = query; pair && *pair;) {
        size_t len = strcspn(pair, "&");
        if (len > name_len && strncmp(pair, name, name_len) == 0 && pair[name_len] == '=') {
            size_t value_len = len - name_len - 1;
            if (value_len >= cap)
                return false;
            memcpy(out, pair + name_len + 1, value_len);
            out[value_len] = '\0';
            return true;
        }
        pair += len;
        if (*pair == '&')
            pair++;
    }
    return false;
}
