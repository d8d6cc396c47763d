/* api_input: field checks for request documents. The messages are part of
 * the API: they name the field by its dotted path and say what was expected,
 * and never quote the value (it may be a password). */
#include "api_input.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void api_input_init(api_input *in, const json_t *object, app_error *err)
{
    in->object = object;
    in->path[0] = '\0';
    in->err = err;
}

/* The member's full path for messages: "id" or "source.id" (cut short
 * when absurdly long: it is only shown). */
static void field_path(const api_input *in, const char *name, char *out, size_t cap)
{
    int n = in->path[0] ? snprintf(out, cap, "%s.%s", in->path, name) : snprintf(out, cap, "%s", name);
    if (n < 0)
        out[0] = '\0';
}

static bool fail(const api_input *in, const char *name, const char *what)
{
    char path[128];
    field_path(in, name, path, sizeof path);
    app_error_set(in->err, 400, "%s %s", path, what);
    return false;
}

static const json_t *member(const api_input *in, const char *name)
{
    const json_t *value = json_object_get(in->object, name);
    return json_is_null(value) ? NULL : value;
}

static bool enter(const api_input *in, const char *name, const json_t *value, api_input *child)
{
    if (!json_is_object(value))
        return fail(in, name, "must be an object");
    child->object = value;
    child->err = in->err;
    field_path(in, name, child->path, sizeof child->path);
    return true;
}

bool api_input_object(const api_input *in, const char *name, api_input *child)
{
    const json_t *value = member(in, name);
    if (!value)
        return fail(in, name, "is required");
    return enter(in, name, value, child);
}

bool api_input_optional_object(const api_input *in, const char *name, api_input *child, bool *present)
{
    const json_t *value = member(in, name);
    *present = value != NULL;
    return value ? enter(in, name, value, child) : true;
}

/* Present, a string, and not empty: what every string field needs. */
static bool read_string(const api_input *in, const char *name, const char **out, size_t *length)
{
    const json_t *value = member(in, name);
    if (!value)
        return fail(in, name, "is required");
    if (!json_is_string(value))
        return fail(in, name, "must be a string");
    *length = json_string_length(value);
    if (*length == 0)
        return fail(in, name, "must not be empty");
    *out = json_string_value(value);
    return true;
}

bool api_input_string(const api_input *in, const char *name, size_t max_length, const char **out)
{
    const char *text;
    size_t length;
    if (!read_string(in, name, &text, &length))
        return false;
    if (length > max_length) {
        char what[64];
        snprintf(what, sizeof what, "must be at most %zu bytes long", max_length);
        return fail(in, name, what);
    }
    *out = text;
    return true;
}

bool api_input_enum(const api_input *in, const char *name, const char *const *choices, const char **out)
{
    const char *text;
    size_t length;
    if (!read_string(in, name, &text, &length))
        return false;
    char what[200] = "must be one of";
    for (size_t i = 0; choices[i]; i++) {
        if (strcmp(text, choices[i]) == 0) {
            *out = choices[i];
            return true;
        }
        size_t used = strlen(what);
        snprintf(what + used, sizeof what - used, "%s \"%s\"", i ? "," : "", choices[i]);
    }
    return fail(in, name, what);
}

bool api_input_is_uuid(const char *text)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        bool ok = shape[i] == '-' ? text[i] == '-' : isxdigit((unsigned char)text[i]) != 0;
        if (!ok)
            return false;
    }
    return text[sizeof shape - 1] == '\0';
}

bool api_input_uuid(const api_input *in, const char *name, const char **out)
{
    const char *text;
    size_t length;
    if (!read_string(in, name, &text, &length))
        return false;
    if (!api_input_is_uuid(text))
        return fail(in, name, "must be a UUID");
    *out = text;
    return true;
}

/* scheme://host... with no blank, control or non-ASCII byte anywhere. */
static bool is_http_url(const char *text)
{
    size_t prefix;
    if (strncasecmp(text, "http://", 7) == 0)
        prefix = 7;
    else if (strncasecmp(text, "https://", 8) == 0)
        prefix = 8;
    else
        return false;
    const char *host = text + prefix;
    if (*host == '\0' || *host == '/' || *host == '?' || *host == '#')
        return false;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    return true;
}

bool api_input_refuse(const api_input *in, const char *name, const char *what)
{
    return fail(in, name, what);
}

bool api_input_url(const api_input *in, const char *name, const char **out)
{
    const char *text;
    if (!api_input_string(in, name, 2048, &text))
        return false;
    if (!is_http_url(text))
        return fail(in, name, "must be an absolute http or https URL");
    *out = text;
    return true;
}

bool api_input_number(const api_input *in, const char *name, double min, double max, double *out)
{
    const json_t *value = member(in, name);
    if (!value)
        return fail(in, name, "is required");
    if (!json_is_number(value) || !isfinite(json_number_value(value)))
        return fail(in, name, "must be a number");
    double number = json_number_value(value);
    char what[64];
    if (number < min) {
        snprintf(what, sizeof what, "must be at least %.15g", min);
        return fail(in, name, what);
    }
    if (number > max) {
        snprintf(what, sizeof what, "must be at most %.15g", max);
        return fail(in, name, what);
    }
    *out = number;
    return true;
}
