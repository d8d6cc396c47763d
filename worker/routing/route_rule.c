/* route_rule: reading one routing rule. Unknown members are refused, since a
 * misspelt "currency" would otherwise leave a rule that matches too much;
 * vendor codes must name an adapter of vendor_table.c. */
#include "route_rule.h"

#include "vendor.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const rule_members[] = {"name", "pg", "mid", "currency", "vendor", "store_id", "fallback", NULL};
static const char *const fallback_members[] = {"vendor", "store_id", NULL};

static bool refuse(char *detail, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool refuse(char *detail, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, cap, fmt, ap);
    va_end(ap);
    return false;
}

static bool only_known_members(const json_t *object, const char *const *known, const char *path, char *detail,
                               size_t cap)
{
    const char *name;
    const json_t *value;
    json_object_foreach((json_t *)object, name, value)
    {
        size_t i = 0;
        while (known[i] && strcmp(known[i], name) != 0)
            i++;
        if (!known[i])
            return refuse(detail, cap, "%s has an unknown member \"%.64s\"", path, name);
    }
    return true;
}

/* A copy of member name of object: a non-empty string of at most
 * ROUTE_TABLE_FIELD_MAX bytes. Absent leaves *out NULL, refused unless
 * optional. */
static bool copy_string(const json_t *object, const char *name, const char *path, bool optional, char **out,
                        char *detail, size_t cap)
{
    const json_t *value = json_object_get(object, name);
    if (!value)
        return optional ? true : refuse(detail, cap, "%s%s is required", path, name);
    if (!json_is_string(value) || json_string_length(value) == 0 || json_string_length(value) > ROUTE_TABLE_FIELD_MAX)
        return refuse(detail, cap, "%s%s must be a non-empty string of at most %d bytes", path, name,
                      ROUTE_TABLE_FIELD_MAX);
    if (strlen(json_string_value(value)) != json_string_length(value))
        return refuse(detail, cap, "%s%s must not hold a NUL character", path, name);
    *out = strdup(json_string_value(value));
    return *out ? true : refuse(detail, cap, "out of memory");
}

/* {vendor, store_id} of object (the rule itself, or its fallback). */
static bool read_target(const json_t *object, const char *path, route_target *target, char *detail, size_t cap)
{
    if (!copy_string(object, "vendor", path, false, &target->vendor_code, detail, cap) ||
        !copy_string(object, "store_id", path, false, &target->store_id, detail, cap))
        return false;
    if (!vendor_find(target->vendor_code))
        return refuse(detail, cap, "%svendor \"%s\" is not a vendor of this server", path, target->vendor_code);
    return true;
}

static bool read_fallback(const json_t *rule_object, route_rule *rule, char *detail, size_t cap)
{
    const json_t *fallback = json_object_get(rule_object, "fallback");
    if (!fallback || json_is_null(fallback))
        return true;
    if (!json_is_object(fallback))
        return refuse(detail, cap, "fallback must be an object {vendor, store_id}");
    return only_known_members(fallback, fallback_members, "fallback", detail, cap) &&
           read_target(fallback, "fallback.", &rule->fallback, detail, cap);
}

static bool read_key(const json_t *object, route_rule *rule, char *detail, size_t cap)
{
    if (!copy_string(object, "pg", "", false, &rule->pg, detail, cap) ||
        !copy_string(object, "mid", "", false, &rule->mid, detail, cap) ||
        !copy_string(object, "currency", "", false, &rule->currency, detail, cap))
        return false;
    if (strcmp(rule->currency, "*") != 0 && !route_table_is_currency(rule->currency))
        return refuse(detail, cap, "currency must be an ISO 4217 code (three capital letters) or \"*\"");
    return true;
}

bool route_rule_read(const json_t *value, route_rule *rule, char *detail, size_t cap)
{
    memset(rule, 0, sizeof *rule);
    bool ok = json_is_object(value) ? only_known_members(value, rule_members, "the rule", detail, cap)
                                    : refuse(detail, cap, "must be an object");
    ok = ok && copy_string(value, "name", "", true, &rule->name, detail, cap) && read_key(value, rule, detail, cap) &&
         read_target(value, "", &rule->target, detail, cap) && read_fallback(value, rule, detail, cap);
    if (!ok)
        route_rule_clear(rule);
    return ok;
}

static void target_clear(route_target *target)
{
    free(target->vendor_code);
    free(target->store_id);
}

void route_rule_clear(route_rule *rule)
{
    free(rule->name);
    free(rule->pg);
    free(rule->mid);
    free(rule->currency);
    target_clear(&rule->target);
    target_clear(&rule->fallback);
    memset(rule, 0, sizeof *rule);
}
