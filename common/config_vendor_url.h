/* Vendor URLs outside local mode: a production server must not verify
 * payments against whatever listens on loopback or a private network, so a
 * vendor host that is internal stops start-up unless
 * PAYMENT_VENDOR_ALLOW_INTERNAL=1. Host names are resolved: call at start-up,
 * never from an event loop that serves. */
#ifndef PAYMENTS_CONFIG_VENDOR_URL_H
#define PAYMENTS_CONFIG_VENDOR_URL_H

#include "config.h"

#include <stddef.h>

/* Checks one vendor URL under c's mode and allowance; name is what the
 * message calls it (a variable, or an entry of the stores file). A name that
 * does not resolve now is accepted with a warning in the log, since DNS may
 * not be up yet. Returns 0, or -1 with one line in err naming name and the
 * host (never the whole URL, which may carry credentials). The adapters'
 * URLs are checked through it by vendor_settings_check (worker/vendors/),
 * which the master and each worker run once the configuration is loaded. */
int cfg_check_vendor_url(const cfg *c, const char *name, const char *url, char *err, size_t errlen);

#endif
