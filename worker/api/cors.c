/* cors: the cors package's defaults behind NestJS's app.enableCors(), which
 * the original server calls: "*" for any origin, the six methods, the
 * requested headers reflected, 204 to a preflight. A list of origins answers
 * the allowed ones by name (with Vary: Origin) and says nothing to the rest,
 * so a browser refuses them. Requests without Origin, the servers and SDKs,
 * cost one header lookup. */
#include "cors.h"

#include "error.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool cors_any_origin(const char *origins)
{
    return !origins || strcmp(origins, "*") == 0;
}

/* Skips blanks around a list entry: [*start, *end) is the entry. */
static void entry_trim(const char **start, const char **end)
{
    while (*start < *end && (**start == ' ' || **start == '\t'))
        (*start)++;
    while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
        (*end)--;
}

/* scheme://host[:port]: what a browser sends as Origin, no path, no slash. */
static bool entry_is_origin(const char *start, size_t len)
{
    size_t scheme = len >= 8 && strncmp(start, "https://", 8) == 0  ? 8
                    : len >= 7 && strncmp(start, "http://", 7) == 0 ? 7
                                                                    : 0;
    if (scheme == 0 || scheme == len)
        return false;
    for (size_t i = scheme; i < len; i++)
        if (start[i] == '/' || start[i] == '?' || start[i] == '#' || start[i] == '*' || start[i] == ' ' ||
            start[i] == '\t')
            return false;
    return true;
}

int cors_origins_check(const char *origins, char *err, size_t errlen)
{
    if (cors_any_origin(origins))
        return 0;
    for (const char *p = origins;;) {
        const char *comma = strchr(p, ',');
        const char *start = p, *end = comma ? comma : p + strlen(p);
        entry_trim(&start, &end);
        if (!entry_is_origin(start, (size_t)(end - start)))
            return error_format(
                err, errlen,
                "PAYMENT_CORS_ORIGINS: \"%.*s\" is not an origin (https://host[:port], comma-separated, "
                "or * for every origin)",
                (int)(end - start > 200 ? 200 : end - start), start);
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* Browsers send the origin as they would print it; hosts are
 * case-insensitive, so the comparison is too. */
static bool origin_listed(const char *origins, const char *origin)
{
    size_t len = strlen(origin);
    for (const char *p = origins;;) {
        const char *comma = strchr(p, ',');
        const char *start = p, *end = comma ? comma : p + strlen(p);
        entry_trim(&start, &end);
        if ((size_t)(end - start) == len && strncasecmp(start, origin, len) == 0)
            return true;
        if (!comma)
            return false;
        p = comma + 1;
    }
}

/* The preflight's own headers; false when one cannot be added. */
static bool preflight_headers(http_exchange *ex, const http_request *req)
{
    const char *requested = http_request_header(req, "Access-Control-Request-Headers");
    if (http_exchange_add_header(ex, "Access-Control-Allow-Methods", CORS_ALLOWED_METHODS) != 0)
        return false;
    /* Reflected as the cors package does, which then varies on it. */
    if (requested && *requested)
        return http_exchange_add_header(ex, "Access-Control-Allow-Headers", requested) == 0 &&
               http_exchange_add_header(ex, "Vary", "Access-Control-Request-Headers") == 0;
    return true;
}

bool cors_handle(http_exchange *ex, const char *origins)
{
    const http_request *req = http_exchange_request(ex);
    const char *origin = http_request_header(req, "Origin");
    if (!origin)
        return false;
    bool any = cors_any_origin(origins);
    if (!any && !origin_listed(origins, origin))
        return false;
    /* An Origin header that cannot be repeated safely is no origin a browser
     * sends; it is left to the route like a request without one. */
    if (http_exchange_add_header(ex, "Access-Control-Allow-Origin", any ? "*" : origin) != 0)
        return false;
    if (!any && http_exchange_add_header(ex, "Vary", "Origin") != 0) {
        http_respond_error(ex, 500, "Internal Server Error");
        return true;
    }
    bool preflight =
        strcmp(req->method_name, "OPTIONS") == 0 && http_request_header(req, "Access-Control-Request-Method");
    if (!preflight)
        return false;
    if (!preflight_headers(ex, req)) {
        http_respond_error(ex, 500, "Internal Server Error");
        return true;
    }
    http_respond(ex, 204, NULL, NULL, 0);
    return true;
}
