/* route_table: the routing table read whole at start-up. A file that cannot
 * be read or has one bad rule is refused whole, naming the file and the
 * rule's index, so that a worker never serves half a table. */
#include "route_rule.h"

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUTE_TABLE_FILE_MAX (1024 * 1024) /* far beyond any real table */

static void table_fail(const char *path, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void table_fail(const char *path, char *err, size_t errlen, const char *fmt, ...)
{
    char detail[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "PAYMENT_ROUTES_FILE %s: %s", path, detail);
}

void route_table_free(route_table *table)
{
    if (!table)
        return;
    for (size_t i = 0; i < table->count; i++)
        route_rule_clear(&table->rules[i]);
    free(table->rules);
    free(table);
}

static route_table *table_new(size_t count)
{
    route_table *table = calloc(1, sizeof *table);
    if (table && count)
        table->rules = calloc(count, sizeof *table->rules);
    if (table && count && !table->rules) {
        free(table);
        return NULL;
    }
    return table;
}

/* The rules of a document {"routes": [rule, ...]}. */
static route_table *table_from_json(const json_t *doc, const char *path, char *err, size_t errlen)
{
    const json_t *rules = json_is_object(doc) ? json_object_get(doc, "routes") : NULL;
    if (!json_is_array(rules) || json_object_size(doc) != 1) {
        table_fail(path, err, errlen, "must be an object {\"routes\": [rule, ...]} and nothing else");
        return NULL;
    }
    route_table *table = table_new(json_array_size(rules));
    if (!table) {
        table_fail(path, err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(rules); i++) {
        char detail[256];
        if (!route_rule_read(json_array_get(rules, i), &table->rules[i], detail, sizeof detail)) {
            table_fail(path, err, errlen, "routes[%zu]: %s", i, detail);
            route_table_free(table);
            return NULL;
        }
        table->count = i + 1;
    }
    return table;
}

route_table *route_table_parse(const char *text, const char *path, char *err, size_t errlen)
{
    json_error_t json_err;
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &json_err);
    if (!doc) {
        table_fail(path, err, errlen, "not JSON (line %d: %s)", json_err.line, json_err.text);
        return NULL;
    }
    route_table *table = table_from_json(doc, path, err, errlen);
    json_decref(doc);
    return table;
}

/* The file's text, NUL-terminated; NULL after failing. */
static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        table_fail(path, err, errlen, "cannot be read: %s", strerror(errno));
        return NULL;
    }
    char *text = malloc(ROUTE_TABLE_FILE_MAX + 1);
    size_t length = text ? fread(text, 1, ROUTE_TABLE_FILE_MAX + 1, file) : 0;
    bool failed = !text || ferror(file) || length > ROUTE_TABLE_FILE_MAX;
    fclose(file);
    if (failed) {
        table_fail(path, err, errlen, text ? "cannot be read whole, or larger than 1 MiB" : "out of memory");
        free(text);
        return NULL;
    }
    text[length] = '\0';
    if (strlen(text) != length) { /* the parser would stop at the NUL */
        table_fail(path, err, errlen, "holds a NUL byte");
        free(text);
        return NULL;
    }
    return text;
}

route_table *route_table_load(const char *path, char *err, size_t errlen)
{
    char *text = read_file(path, err, errlen);
    if (!text)
        return NULL;
    route_table *table = route_table_parse(text, path, err, errlen);
    free(text);
    return table;
}

int route_table_open(const cfg *config, route_table **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!config->routes_file)
        return 0;
    *out = route_table_load(config->routes_file, err, errlen);
    return *out ? 0 : -1;
}

static bool field_matches(const char *rule_value, const char *value)
{
    return strcmp(rule_value, "*") == 0 || strcmp(rule_value, value) == 0;
}

const route_rule *route_table_match(const route_table *table, const route_key *key)
{
    for (size_t i = 0; table && i < table->count; i++) {
        const route_rule *rule = &table->rules[i];
        if (field_matches(rule->pg, key->pg) && field_matches(rule->mid, key->mid) &&
            field_matches(rule->currency, key->currency))
            return rule;
    }
    return NULL;
}

bool route_table_is_currency(const char *text)
{
    return strlen(text) == 3 && text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'A' && text[1] <= 'Z' &&
           text[2] >= 'A' && text[2] <= 'Z';
}
