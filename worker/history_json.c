/* history_json: stored text to the contract's shape. Amounts come back as
 * numbers (integers when whole), as the original server answered them. */
#include "history_json.h"

#include "db_row.h"
#include "log.h"
#include "sealed_json.h"

json_t *history_json_source(const char *schema, const char *table, const char *id)
{
    return json_pack("{s:s, s:s, s:s}", "schema", schema, "table", table, "id", id);
}

json_t *history_json_vendor(const char *code, const char *store_id, const char *uid)
{
    return json_pack("{s:s, s:s, s:s}", "code", code, "store_id", store_id, "uid", uid);
}

/* A refund of 0 reads as none, as in the original server. */
static json_t *refund_json(const char *refund)
{
    json_t *amount = db_numeric_json(refund);
    if (amount && json_number_value(amount) == 0) {
        json_decref(amount);
        amount = NULL;
    }
    return amount ? amount : json_null();
}

static json_t *cancels_json(const char *text)
{
    json_error_t parse_error;
    json_t *cancels = text ? json_loads(text, 0, &parse_error) : json_array();
    if (!json_is_array(cancels)) {
        json_decref(cancels);
        return NULL;
    }
    return cancels;
}

json_t *history_json(const history_record *r, const seal_ring *history_seal, app_error *err)
{
    json_t *data = sealed_json_open(history_seal, r->data);
    json_t *cancels = cancels_json(r->cancels);
    json_t *price = db_numeric_json(r->price);
    if (!data || !cancels || !price) {
        json_decref(data);
        json_decref(cancels);
        json_decref(price);
        log_error("history_json: history %s cannot be read back", r->id);
        app_error_set(err, 500, "the stored payment history cannot be read");
        return NULL;
    }
    json_t *doc = json_pack("{s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o}",
                            "id", r->id, "vendor_code", r->vendor_code, "vendor",
                            history_json_vendor(r->vendor_code, r->vendor_store_id, r->vendor_uid), "source",
                            history_json_source(r->source_schema, r->source_table, r->source_id), "data", data,
                            "currency", r->currency, "price", price, "refund", refund_json(r->refund),
                            "webhook_url", db_text_json(r->webhook_url), "created_at", r->created_at, "paid_at",
                            db_text_json(r->paid_at), "cancelled_at", db_text_json(r->cancelled_at), "cancels",
                            cancels);
    if (!doc)
        app_error_set(err, 500, "out of memory");
    return doc;
}
