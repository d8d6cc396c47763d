/* charge_order: both names hash their facts with the operations' key
 * derivation, under a kind and version of their own, so that a change of
 * either is a new version and never a silent change of pending orders. */
#include "charge_order.h"

#include <stdio.h>

int charge_order_id(const char *schema, const char *table, const char *id, long refusals,
                    char out[CHARGE_ORDER_ID_SIZE])
{
    char count[24];
    snprintf(count, sizeof count, "%ld", refusals);
    const char *facts[] = {"payments charge order v1", schema, table, id, count};
    char digest[OPERATION_KEY_SIZE];
    if (operation_key_derive(facts, 5, digest) < 0)
        return -1;
    snprintf(out, CHARGE_ORDER_ID_SIZE, "ch-%.32s", digest);
    return 0;
}

int charge_order_key(const char *order_id, char out[OPERATION_KEY_SIZE])
{
    const char *facts[] = {"payments charge v1", order_id};
    return operation_key_derive(facts, 2, out);
}
