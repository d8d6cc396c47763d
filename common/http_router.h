/* Router: a static table of (method, pattern, handler). Patterns are literal
 * segments and ":name" segments; "/payments/histories/get" in a table before
 * "/payments/histories/:id" wins over it. Unknown path: 404; known path,
 * other method: 405 with Allow. */
#ifndef PAYMENTS_HTTP_ROUTER_H
#define PAYMENTS_HTTP_ROUTER_H

#include "http_server.h"

#define HTTP_ROUTE_MAX_PARAMS 4

typedef struct http_route_params {
    size_t count;
    struct {
        const char *name; /* from the pattern, without ':' */
        char value[256];  /* percent-decoded */
    } items[HTTP_ROUTE_MAX_PARAMS];
} http_route_params;

/* The value of a ":name" parameter, or NULL. */
const char *http_route_param(const http_route_params *params, const char *name);

typedef void (*http_route_fn)(http_exchange *ex, const http_route_params *params, void *context);

typedef struct http_route {
    const char *method; /* "GET", "POST", ... */
    const char *pattern;
    http_route_fn handler;
} http_route;

/* Finds the route and calls it, or answers 404/405 itself. HEAD matches GET. */
void http_router_dispatch(const http_route *routes, size_t count, http_exchange *ex, void *context);

#endif
