/* history_json: a stored history as the contract's IPaymentHistory
 * (one type per vendor, same members): the same members in the same order, times as
 * ISO-8601 UTC with milliseconds, refund and absent times as null. */
#ifndef PAYMENTS_HISTORY_JSON_H
#define PAYMENTS_HISTORY_JSON_H

#include "history_store.h"
#include "json_text.h"
#include "seal.h"

#include <jansson.h>

/* The caller owns the result; NULL with a 500 in err when the stored
 * document cannot be opened or memory runs out. */
json_t *history_json(const history_record *record, const seal_ring *history_seal, app_error *err);
/* The same document as text, appended to out; 0, or -1 with a 500 in err
 * (out is then to be freed, not used). */
int history_json_text(const history_record *record, const seal_ring *history_seal, json_text *out, app_error *err);

/* {schema, table, id} and {code, store_id, uid}: shared with reservations. */
json_t *history_json_source(const char *schema, const char *table, const char *id);
json_t *history_json_vendor(const char *code, const char *store_id, const char *uid);
/* {schema, table, id} as text, for the webhook notification. */
void history_json_source_text(json_text *out, const char *schema, const char *table, const char *id);

#endif
