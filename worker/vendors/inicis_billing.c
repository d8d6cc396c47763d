/* An Inicis billing key as a reservation keeps it. INIAPI cannot vouch for
 * a billing key before it is charged (it has no lookup: the buyer registers
 * the key in Inicis' payment window and the merchant keeps it), so fetching
 * one calls nothing and answers the key as given, marked unverified; its
 * first charge proves it, and a refused key is then a 422 naming inicis. */
#include "inicis.h"

typedef struct inicis_billing_op {
    vendor_op base;
    json_t *doc; /* {billKey, mid, verified: false}, answered from the loop */
} inicis_billing_op;

static vendor_billing *inicis_billing_read(json_t *doc, app_error *err)
{
    return vendor_billing_read(doc, "billKey", "out of memory reading a KG Inicis billing key",
                               "KG Inicis billing key without billKey", err);
}

static void inicis_billing_clear(vendor_op *base)
{
    json_decref(((inicis_billing_op *)base)->doc);
}

static const vendor_op_class inicis_billing_class = {
    .dialect = &inicis_dialect,
    .size = sizeof(inicis_billing_op),
    .needs_key = true,
    .credentials = "mid, INIAPI key, URL",
    .uid_name = "billKey",
    .read_billing = inicis_billing_read,
    .clear = inicis_billing_clear,
};

static void inicis_billing_answer(void *data)
{
    inicis_billing_op *op = data;
    vendor_op_finish(&op->base, op->doc, op->base.err.status ? &op->base.err : NULL);
}

void inicis_fetch_billing(vendor_context *ctx, const vendor_store *store, const char *uid, const char *customer_key,
                          vendor_billing_cb cb, void *data)
{
    (void)customer_key; /* Inicis keeps no customer with a billing key */
    vendor_op *base = vendor_op_new(&inicis_billing_class, ctx, store, uid, (vendor_reply){NULL, cb, data});
    if (!base)
        return;
    inicis_billing_op *op = (inicis_billing_op *)base;
    if (!base->err.status) {
        /* The store's mid: a billing key is valid for the merchant that
         * registered it only, and the first charge goes to that one. */
        op->doc = json_pack("{s:s, s:s, s:b}", "billKey", uid, "mid", store->key, "verified", 0);
        if (!op->doc)
            app_error_set(&base->err, 500, "out of memory calling %s", inicis_dialect.name);
    }
    vendor_later(ctx, inicis_billing_answer, op);
}
