/* fake_control: GET /fake/stats, GET and PUT /fake/latency and /fake/billing
 * (fake_billing_rules.c).
 * They answer at once and are no vendor's API, so they take no credentials
 * and no latency; a body naming a field they do not know is refused, so
 * that a test's typo cannot pass for a setting. */
#include "fake_control.h"

#include "fake_stats.h"

#include <string.h>

#define FAKE_CONTROL_PREFIX "/fake/"
#define FAKE_CONTROL_MAX_MATCH 256

static void control_stats(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_server *fs = context;
    fake_respond_json(ex, 200, fake_stats_describe(fs));
}

static void control_latency_get(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_server *fs = context;
    fake_respond_json(ex, 200, fake_latency_describe(&fs->latency));
}

/* A whole number of milliseconds from minimum to FAKE_LATENCY_MAX_MS. */
static bool control_milliseconds(json_t *value, uint64_t minimum, uint64_t *out)
{
    if (!json_is_integer(value))
        return false;
    json_int_t ms = json_integer_value(value);
    if (ms < (json_int_t)minimum || ms > (json_int_t)FAKE_LATENCY_MAX_MS)
        return false;
    *out = (uint64_t)ms;
    return true;
}

static bool control_known_fields(json_t *body)
{
    const char *name;
    json_t *value;
    json_object_foreach(body, name, value)
    {
        (void)value;
        if (strcmp(name, "ms") != 0 && strcmp(name, "p99") != 0 && strcmp(name, "match") != 0 &&
            strcmp(name, "method") != 0)
            return false;
    }
    return true;
}

/* The routes a rule holds: "match" (a part of the path) and "method";
 * NULL when fine, else what is wrong. */
static const char *control_read_routes(json_t *body, const char **match, const char **method)
{
    json_t *text = json_object_get(body, "match");
    *match = json_string_value(text);
    if (text && !json_is_null(text) && (!*match || strlen(*match) > FAKE_CONTROL_MAX_MATCH))
        return "match must be a string of at most 256 bytes";
    json_t *verb = json_object_get(body, "method");
    *method = json_string_value(verb);
    if (verb && !json_is_null(verb) && (!*method || !**method || strlen(*method) > 7))
        return "method must be a string of 1 to 7 characters";
    return NULL;
}

/* {"ms", "p99"?, "match"?, "method"?} into a rule; NULL when fine, else
 * what is wrong. */
static const char *control_read_rule(json_t *body, fake_delay *rule, const char **match, const char **method)
{
    if (!json_is_object(body) || !control_known_fields(body))
        return "the body must be a JSON object of ms, and optionally p99, match and method";
    if (!control_milliseconds(json_object_get(body, "ms"), 0, &rule->median_ms))
        return "ms must be a whole number of milliseconds from 0 to 600000";
    rule->p99_ms = rule->median_ms;
    json_t *p99 = json_object_get(body, "p99");
    if (p99 && !json_is_null(p99) && !control_milliseconds(p99, rule->median_ms, &rule->p99_ms))
        return "p99 must be a whole number of milliseconds from ms to 600000";
    return control_read_routes(body, match, method);
}

static void control_latency_put(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_server *fs = context;
    const http_request *req = http_exchange_request(ex);
    json_t *body = req->body_len > 0 ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    fake_delay rule = {0, 0};
    const char *match = NULL, *method = NULL;
    const char *problem = control_read_rule(body, &rule, &match, &method);
    if (problem)
        http_respond_error(ex, 400, problem);
    else if (fake_latency_set_rule(&fs->latency, rule, match, method) != 0)
        http_respond_error(ex, 500, "out of memory");
    else
        fake_respond_json(ex, 200, fake_latency_describe(&fs->latency));
    json_decref(body);
}

static const http_route control_routes[] = {
    {"GET", "/fake/stats", control_stats},         {"GET", "/fake/latency", control_latency_get},
    {"PUT", "/fake/latency", control_latency_put}, {"GET", "/fake/billing", fake_billing_get},
    {"PUT", "/fake/billing", fake_billing_put},
};

bool fake_control_serve(fake_server *fs, http_exchange *ex)
{
    const char *path = http_exchange_request(ex)->path;
    if (strncmp(path, FAKE_CONTROL_PREFIX, strlen(FAKE_CONTROL_PREFIX)) != 0)
        return false;
    http_router_dispatch(control_routes, sizeof control_routes / sizeof control_routes[0], ex, fs);
    return true;
}
