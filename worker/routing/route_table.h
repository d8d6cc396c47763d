/* route_table: which vendor and store a checkout uses for (pg, mid, currency),
 * from the JSON file PAYMENT_ROUTES_FILE. Rules are tried in the file's
 * order, the first match wins, and each key field is exact or "*". The table
 * is read once per worker; a reload starts new workers, which read it anew. */
#ifndef PAYMENTS_ROUTE_TABLE_H
#define PAYMENTS_ROUTE_TABLE_H

#include <stdbool.h>
#include <stddef.h>

struct cfg;

#define ROUTE_TABLE_FIELD_MAX 255 /* longest pg, mid, name or store id */

/* A vendor adapter's code and one of its store ids (credentials live in the
 * vendor stores file, never here). */
typedef struct route_target {
    char *vendor_code; /* NULL in a rule without a fallback */
    char *store_id;
} route_target;

typedef struct route_rule {
    char *name; /* NULL when the rule has none */
    char *pg;   /* each key field: a value matched exactly, or "*" */
    char *mid;
    char *currency; /* an ISO 4217 code or "*" */
    route_target target;
    route_target fallback; /* where to go while the target is unavailable */
} route_rule;

typedef struct route_table {
    route_rule *rules;
    size_t count;
} route_table;

/* A routing request's key: what a service knows at checkout. */
typedef struct route_key {
    const char *pg;
    const char *mid;
    const char *currency;
} route_key;

/* Parses and checks a whole table; path only names the file in messages.
 * NULL with one line in err naming the file and the rule at fault. */
route_table *route_table_parse(const char *text, const char *path, char *err, size_t errlen);
/* Reads the file at path and parses it. */
route_table *route_table_load(const char *path, char *err, size_t errlen);
/* The configured table: *out is NULL when PAYMENT_ROUTES_FILE is unset.
 * Returns 0, or -1 with one line in err (what each worker loads, and what
 * --check-config reports to the master before it starts or rolls workers). */
int route_table_open(const struct cfg *config, route_table **out, char *err, size_t errlen);
void route_table_free(route_table *table);

/* The first rule matching key, or NULL. */
const route_rule *route_table_match(const route_table *table, const route_key *key);

/* A currency code as the table and the API accept it: three capital letters. */
bool route_table_is_currency(const char *text);

#endif
