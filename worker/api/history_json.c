/* history_json: stored text to the contract's shape. Amounts come back as
 * numbers (integers when whole), as the original server answered them. The
 * answer is printed as text, the stored documents copied in as they are;
 * the tree form is that text parsed, so both never disagree. */
#include "history_json.h"

#include "db_row.h"
#include "log.h"
#include "sealed_json.h"

#include <stdlib.h>
#include <string.h>

json_t *history_json_source(const char *schema, const char *table, const char *id)
{
    return json_pack("{s:s, s:s, s:s}", "schema", schema, "table", table, "id", id);
}

json_t *history_json_vendor(const char *code, const char *store_id, const char *uid)
{
    return json_pack("{s:s, s:s, s:s}", "code", code, "store_id", store_id, "uid", uid);
}

/* A refund of 0 reads as none, as in the original server. */
static const char *refund_text(const char *refund)
{
    return refund && strtod(refund, NULL) == 0 ? NULL : refund;
}

static void write_triple(json_text *out, const char *const keys[3], const char *a, const char *b, const char *c)
{
    json_text_open(out, '{');
    json_text_key(out, keys[0]);
    json_text_string(out, a);
    json_text_key(out, keys[1]);
    json_text_string(out, b);
    json_text_key(out, keys[2]);
    json_text_string(out, c);
    json_text_close(out, '}');
}

static const char *const source_keys[3] = {"schema", "table", "id"};
static const char *const vendor_keys[3] = {"code", "store_id", "uid"};

void history_json_source_text(json_text *out, const char *schema, const char *table, const char *id)
{
    write_triple(out, source_keys, schema, table, id);
}

int history_json_text(const history_record *r, const seal_ring *history_seal, json_text *out, app_error *err)
{
    json_text_open(out, '{');
    json_text_key(out, "id");
    json_text_string(out, r->id);
    json_text_key(out, "vendor_code");
    json_text_string(out, r->vendor_code);
    json_text_key(out, "vendor");
    write_triple(out, vendor_keys, r->vendor_code, r->vendor_store_id, r->vendor_uid);
    json_text_key(out, "source");
    history_json_source_text(out, r->source_schema, r->source_table, r->source_id);
    json_text_key(out, "data");
    if (sealed_json_append(out, history_seal, r->data) < 0) { /* the vendor's document, unparsed */
        log_error("history_json: history %s cannot be read back", r->id);
        app_error_set(err, 500, "the stored payment history cannot be read");
        return -1;
    }
    json_text_key(out, "currency");
    json_text_string(out, r->currency);
    json_text_key(out, "price");
    json_text_number(out, r->price);
    json_text_key(out, "refund");
    json_text_number(out, refund_text(r->refund));
    json_text_key(out, "webhook_url");
    json_text_string(out, r->webhook_url);
    json_text_key(out, "created_at");
    json_text_string(out, r->created_at);
    json_text_key(out, "paid_at");
    json_text_string(out, r->paid_at);
    json_text_key(out, "cancelled_at");
    json_text_string(out, r->cancelled_at);
    json_text_key(out, "cancels");
    const char *cancels = r->cancels ? r->cancels : "[]"; /* PostgreSQL's json_agg: JSON by construction */
    json_text_raw(out, cancels, strlen(cancels));
    json_text_close(out, '}');
    if (!json_text_result(out, NULL)) {
        log_error("history_json: history %s cannot be printed", r->id);
        app_error_set(err, 500, "the stored payment history cannot be read");
        return -1;
    }
    return 0;
}

json_t *history_json(const history_record *r, const seal_ring *history_seal, app_error *err)
{
    json_text text;
    json_text_init(&text);
    json_t *doc = NULL;
    if (history_json_text(r, history_seal, &text, err) == 0) {
        size_t len = 0;
        const char *printed = json_text_result(&text, &len);
        json_error_t parse_error;
        doc = json_loadb(printed, len, 0, &parse_error);
        if (!doc) {
            log_error("history_json: history %s does not read back as JSON (column %d)", r->id, parse_error.column);
            app_error_set(err, 500, "the stored payment history cannot be read");
        }
    }
    json_text_free(&text);
    return doc;
}
