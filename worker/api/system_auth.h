/* system_auth: the operators' routes (/payments/internal/...) are
 * authenticated with "Authorization: Bearer <PAYMENT_SYSTEM_PASSWORD>". */
#ifndef PAYMENTS_SYSTEM_AUTH_H
#define PAYMENTS_SYSTEM_AUTH_H

#include "worker.h"

#include <stdbool.h>

/* True when ex carries the system password; else answers 401 without
 * credentials, 403 with wrong ones, 429 with Retry-After while its client
 * is blocked after failing too often, and returns false. */
bool system_auth_check(http_exchange *ex, const worker *w);

#endif
