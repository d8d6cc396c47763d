/* The configuration cases that load settings start from: set in the
 * process's environment, since cfg_load reads it as a server would. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

void harness_local_settings(void)
{
    setenv("PAYMENT_ENV_FILE", "", 1);
    setenv("PAYMENT_MODE", "local", 1);
    setenv("PAYMENT_SYSTEM_PASSWORD", "secret", 1);
    static const char *const ciphers[] = {"CONNECTION", "HISTORY", "RESERVATION", "CANCEL_HISTORY"};
    for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "PAYMENT_%s_ENCRYPTION_KEY", ciphers[i]);
        setenv(name, "0123456789abcdef", 1);
        snprintf(name, sizeof name, "PAYMENT_%s_ENCRYPTION_IV", ciphers[i]);
        setenv(name, "0123456789abcdef", 1);
    }
}
