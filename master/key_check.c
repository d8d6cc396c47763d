/* key_check: start-up refuses a database holding values sealed with a key
 * the configuration no longer has (dropped before `payments reseal` moved
 * them): those records would otherwise turn unreadable one read at a time. */
#include "master.h"

#include "log.h"
#include "seal_columns.h"

int key_check_database(const cfg *c)
{
    seal_ring rings[SEAL_RING_COUNT];
    size_t made = 0;
    while (made < SEAL_RING_COUNT && seal_ring_configure(&rings[made], c, (seal_ring_name)made) == 0)
        made++;
    char err[512] = "";
    int rc = -1;
    if (made < SEAL_RING_COUNT) {
        log_error("keys: an encryption key or IV is unusable");
    } else {
        PGconn *db = seal_columns_connect(c, "payments-key-check", err, sizeof err);
        rc = db ? seal_columns_check(db, rings, err, sizeof err) : -1;
        PQfinish(db);
        if (rc != 0)
            log_error("keys: %s", err);
    }
    for (size_t i = 0; i < made; i++)
        seal_ring_clear(&rings[i]);
    return rc == 0 ? 0 : -1;
}
