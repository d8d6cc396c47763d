/* seal_columns: where sealed values live (every table and column, with the
 * key ring of each), the rings as configured (the current key and the
 * previous ones), and the start-up check that no value is left under a key
 * the configuration dropped. `payments reseal` walks the same list. */
#ifndef PAYMENTS_SEAL_COLUMNS_H
#define PAYMENTS_SEAL_COLUMNS_H

#include "config.h"
#include "seal.h"

#include <libpq-fe.h>
#include <stddef.h>

typedef enum seal_ring_name {
    SEAL_RING_HISTORY,
    SEAL_RING_CANCEL,
    SEAL_RING_RESERVATION,
    SEAL_RING_COUNT
} seal_ring_name;

typedef struct seal_column {
    const char *table;
    const char *column;
    seal_ring_name ring;
} seal_column;

extern const seal_column seal_columns[];
extern const size_t seal_columns_count;

/* A table's ring: its current key first (it seals), then its previous keys.
 * Returns 0 or -1 (a key unusable). */
int seal_ring_configure(seal_ring *ring, const cfg *c, seal_ring_name name);

/* A blocking connection to the configured database with search_path set to
 * its schema, for the master's check and `payments reseal`; NULL with the
 * reason in err. */
PGconn *seal_columns_connect(const cfg *c, const char *application, char *err, size_t errlen);

/* Counts, per column, the values sealed with a key id that none of rings
 * knows. Returns 0 when there is none, 1 with the first table, column and
 * count in err, -1 with the database's error in err. db's search_path must
 * name the schema. Uses the key id indexes (sql/0012): a few index probes
 * per column, whatever the tables' size. */
int seal_columns_check(PGconn *db, const seal_ring rings[SEAL_RING_COUNT], char *err, size_t errlen);

#endif
