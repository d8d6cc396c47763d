/* Router: walks a small static table in order and calls the first route whose
 * pattern and method both match the request path (query ignored, a trailing
 * slash tolerated). Parameters are matched raw and percent-decoded only for
 * the chosen route; a table this small needs no trie. */
#include "http_router.h"

#include "hex.h"

#include <stdio.h>
#include <string.h>

enum { ALLOW_MAX = 16 };

typedef struct route_match {
    size_t count;
    const char *names[HTTP_ROUTE_MAX_PARAMS]; /* into the pattern, after ':' */
    const char *raw[HTTP_ROUTE_MAX_PARAMS];   /* into the request path */
    size_t raw_len[HTTP_ROUTE_MAX_PARAMS];
} route_match;

/* A name from the pattern runs to the next '/' or to the pattern's end. */
static bool param_name_equals(const char *pattern_name, const char *name)
{
    size_t len = strlen(name);
    return strncmp(pattern_name, name, len) == 0 && (pattern_name[len] == '\0' || pattern_name[len] == '/');
}

const char *http_route_param(const http_route_params *params, const char *name)
{
    for (size_t i = 0; i < params->count; i++)
        if (param_name_equals(params->items[i].name, name))
            return params->items[i].value;
    return NULL;
}

/* Compares segment by segment; ":name" takes any non-empty segment. */
static bool pattern_matches(const char *pattern, const char *path, route_match *m)
{
    m->count = 0;
    for (;;) {
        if (*pattern == '/')
            pattern++;
        if (*path == '/')
            path++;
        if (*pattern == '\0' || *path == '\0')
            return *pattern == '\0' && *path == '\0';
        size_t pattern_len = strcspn(pattern, "/");
        size_t path_len = strcspn(path, "/");
        if (pattern[0] == ':') {
            if (path_len == 0 || m->count == HTTP_ROUTE_MAX_PARAMS)
                return false;
            m->names[m->count] = pattern + 1;
            m->raw[m->count] = path;
            m->raw_len[m->count] = path_len;
            m->count++;
        } else if (pattern_len != path_len || memcmp(pattern, path, path_len) != 0) {
            return false;
        }
        pattern += pattern_len;
        path += path_len;
    }
}

/* Returns 0, or -1 for a bad escape, an encoded NUL or a value too long. */
static int percent_decode(const char *raw, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = raw[i];
        if (c == '%') {
            int high = len - i >= 3 ? hex_digit_value(raw[i + 1]) : -1;
            int low = len - i >= 3 ? hex_digit_value(raw[i + 2]) : -1;
            if (high < 0 || low < 0 || (high == 0 && low == 0))
                return -1;
            c = (char)(high * 16 + low);
            i += 2;
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return 0;
}

static int decode_params(const route_match *m, http_route_params *params)
{
    params->count = m->count;
    for (size_t i = 0; i < m->count; i++) {
        params->items[i].name = m->names[i];
        if (percent_decode(m->raw[i], m->raw_len[i], params->items[i].value, sizeof params->items[i].value) != 0)
            return -1;
    }
    return 0;
}

static bool method_matches(const char *route_method, const char *method)
{
    return strcmp(route_method, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

typedef struct allow_list {
    size_t count;
    const char *methods[ALLOW_MAX];
} allow_list;

static void allow_add(allow_list *allow, const char *method)
{
    for (size_t i = 0; i < allow->count; i++)
        if (strcmp(allow->methods[i], method) == 0)
            return;
    if (allow->count < ALLOW_MAX)
        allow->methods[allow->count++] = method;
}

static void respond_not_allowed(http_exchange *ex, allow_list *allow, const char *message)
{
    for (size_t i = 0; i < allow->count; i++)
        if (strcmp(allow->methods[i], "GET") == 0)
            allow_add(allow, "HEAD");
    char header[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < allow->count && used < sizeof header; i++) {
        int n = snprintf(header + used, sizeof header - used, "%s%s", i ? ", " : "", allow->methods[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (http_exchange_add_header(ex, "Allow", header) != 0) {
        http_respond_error(ex, 500, "Internal Server Error");
        return;
    }
    http_respond_error(ex, 405, message);
}

void http_router_dispatch(const http_route *routes, size_t count, http_exchange *ex, void *context)
{
    const http_request *req = http_exchange_request(ex);
    allow_list allow = {0};
    route_match match;
    for (size_t i = 0; i < count; i++) {
        if (!pattern_matches(routes[i].pattern, req->path, &match))
            continue;
        if (!method_matches(routes[i].method, req->method_name)) {
            allow_add(&allow, routes[i].method);
            continue;
        }
        http_exchange_set_route(ex, (int)i);
        http_route_params params;
        if (decode_params(&match, &params) != 0) {
            http_respond_error(ex, 400, "Invalid path parameter");
            return;
        }
        routes[i].handler(ex, &params, context);
        return;
    }
    char message[512];
    snprintf(message, sizeof message, "Cannot %s %s", req->method_name, req->path);
    if (allow.count == 0)
        http_respond_error(ex, 404, message);
    else
        respond_not_allowed(ex, &allow, message);
}
