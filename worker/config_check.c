/* config_check: the settings a worker reads at start beyond the environment
 * (the vendor stores file, the routing table), and `payments-worker
 * --check-config`, which the master runs before it starts or replaces any
 * worker, so that the worker's own code judges its configuration. */
#include "worker.h"

#include "cors.h"
#include "log.h"
#include "setting_names.h"

#include <stdio.h>

int worker_settings_open(const cfg *c, vendor_stores **stores, route_table **routes, char *err, size_t errlen)
{
    *routes = NULL;
    *stores = NULL;
    if (cors_origins_check(cfg_setting(c, "PAYMENT_CORS_ORIGINS"), err, errlen) < 0)
        return -1;
    *stores = vendor_stores_load(c, err, errlen);
    if (!*stores)
        return -1;
    if (route_table_open(c, routes, err, errlen) < 0) {
        vendor_stores_free(*stores);
        *stores = NULL;
        return -1;
    }
    return 0;
}

/* An unknown PAYMENT_* name is a warning, not a refusal: the master relays
 * these lines into its log at start-up and at each reload. */
static void warn_unknown(const char *name, const char *nearest, void *data)
{
    (void)data;
    if (nearest)
        fprintf(stderr, "payments-worker: warning: unknown setting %s (did you mean %s?)\n", name, nearest);
    else
        fprintf(stderr, "payments-worker: warning: unknown setting %s\n", name);
}

int worker_config_check(void)
{
    /* Warnings (a vendor host that does not resolve yet) are the starting
     * worker's to log; a check that passes says nothing. */
    log_set_level(LOG_ERROR);
    cfg config;
    char err[512];
    if (cfg_load(&config, err, sizeof err) < 0) {
        fprintf(stderr, "payments-worker: %s\n", err);
        return 1;
    }
    vendor_stores *stores = NULL;
    route_table *routes = NULL;
    int rc = vendor_settings_check(&config, err, sizeof err);
    if (rc == 0)
        rc = worker_settings_open(&config, &stores, &routes, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "payments-worker: %s\n", err);
    else
        setting_names_unknown(&config.settings, vendor_settings_names(), warn_unknown, NULL);
    route_table_free(routes);
    vendor_stores_free(stores);
    cfg_free(&config);
    return rc < 0 ? 1 : 0;
}
