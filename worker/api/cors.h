/* cors: cross-origin requests to the public API, answered as the original
 * server's NestJS app.enableCors() does: every origin by default, or only the
 * origins PAYMENT_CORS_ORIGINS lists. */
#ifndef PAYMENTS_CORS_H
#define PAYMENTS_CORS_H

#include "http_server.h"

#include <stdbool.h>
#include <stddef.h>

#define CORS_ALLOWED_METHODS "GET,HEAD,PUT,PATCH,POST,DELETE"

/* Checks PAYMENT_CORS_ORIGINS (NULL: unset): "*", or a comma-separated list
 * of origins (scheme://host[:port], nothing after). Returns 0, or -1 with a
 * one-line reason in err naming the entry. */
int cors_origins_check(const char *origins, char *err, size_t errlen);

/* Before the route table: a request without Origin is left alone; one from
 * an allowed origin gets Access-Control-Allow-Origin on its answer, and a
 * preflight (OPTIONS with Access-Control-Request-Method) is answered here,
 * 204. Returns true when it answered ex. origins: as cors_origins_check
 * accepted it. */
bool cors_handle(http_exchange *ex, const char *origins);

#endif
