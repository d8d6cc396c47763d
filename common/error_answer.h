/* The error answer of an app_error: the JSON error shape every route
 * answers ({statusCode, message, error}), with the vendor's identity when a
 * vendor failed ({..., vendor: {code, status, message}}) and its Retry-After. */
#ifndef PAYMENTS_ERROR_ANSWER_H
#define PAYMENTS_ERROR_ANSWER_H

#include "error.h"
#include "http_server.h"

/* The answer's status: err's, 500 when it has none. */
int error_answer_status(const app_error *err);
/* The body (free() it; HTTP_ERROR_CONTENT_TYPE), or NULL when memory runs
 * out. */
char *error_answer_body(const app_error *err);
/* Adds err's Retry-After header to ex, when it has one. */
void error_answer_headers(http_exchange *ex, const app_error *err);
/* Answers err on ex. */
void error_answer_respond(http_exchange *ex, const app_error *err);

#endif
