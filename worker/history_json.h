/* history_json: a stored history as the contract's IPaymentHistory
 * (IamportType / TossType): the same members in the same order, times as
 * ISO-8601 UTC with milliseconds, refund and absent times as null. */
#ifndef PAYMENTS_HISTORY_JSON_H
#define PAYMENTS_HISTORY_JSON_H

#include "history_store.h"
#include "seal.h"

#include <jansson.h>

/* The caller owns the result; NULL with a 500 in err when the stored
 * document cannot be opened or memory runs out. */
json_t *history_json(const history_record *record, const seal_ring *history_seal, app_error *err);

/* {schema, table, id} and {code, store_id, uid}: shared with reservations. */
json_t *history_json_source(const char *schema, const char *table, const char *id);
json_t *history_json_vendor(const char *code, const char *store_id, const char *uid);

#endif
