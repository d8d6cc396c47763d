/* cli_api_url: the base URL of a mode's API for the commands that reach it
 * over HTTP (monitor, call): HTTPS outside local mode, as the original's
 * monitor connects, unless PAYMENT_API_SCHEME_<MODE> says otherwise. */
#ifndef PAYMENTS_CLI_API_URL_H
#define PAYMENTS_CLI_API_URL_H

#include "dotenv.h"

#include <stddef.h>

/* "scheme://host:port" (an IPv6 host in brackets) into out. Returns 0, or -1
 * with err naming PAYMENT_API_SCHEME_<MODE> when it is neither http nor
 * https, or saying that the address is too long. */
int cli_api_url(const dotenv *env, const char *mode, const char *host, int port, char *out, size_t outlen, char *err,
                size_t errlen);

#endif
