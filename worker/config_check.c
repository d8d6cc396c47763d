/* config_check: the settings a worker reads at start beyond the environment
 * (the vendor stores file, the routing table), and `payments-worker
 * --check-config`, which the master runs before it starts or replaces any
 * worker, so that the worker's own code judges its configuration. */
#include "worker.h"

#include "log.h"

#include <stdio.h>

int worker_settings_open(const cfg *c, vendor_stores **stores, route_table **routes, char *err, size_t errlen)
{
    *routes = NULL;
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
    route_table_free(routes);
    vendor_stores_free(stores);
    cfg_free(&config);
    return rc < 0 ? 1 : 0;
}
