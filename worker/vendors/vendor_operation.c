/* The operations an adapter may lack: a caller asks here rather than the
 * adapter, and a vendor without the operation answers a clear 422, from the
 * loop like every other answer, instead of a NULL call. */
#include "vendor_internal.h"

#include <stdlib.h>

typedef struct vendor_unsupported {
    vendor_reply reply;
    app_error err;
} vendor_unsupported;

static void unsupported_answer(void *data)
{
    vendor_unsupported *u = data;
    vendor_reply_fail(&u->reply, &u->err);
    free(u);
}

static void answer_unsupported(vendor_context *ctx, const vendor_adapter *adapter, const char *operation,
                               vendor_reply reply)
{
    vendor_unsupported *u = calloc(1, sizeof *u);
    app_error err;
    if (!u) {
        app_error_set(&err, 500, "out of memory calling %s", adapter->code);
        vendor_reply_fail(&reply, &err);
        return;
    }
    u->reply = reply;
    app_error_set(&u->err, 422, "%s does not support %s", adapter->code, operation);
    vendor_later(ctx, unsupported_answer, u);
}

void vendor_issue_billing(const vendor_adapter *adapter, vendor_context *ctx, const vendor_store *store,
                          const char *customer_key, const json_t *details, vendor_billing_cb cb, void *data)
{
    if (adapter->issue_billing)
        adapter->issue_billing(ctx, store, customer_key, details, cb, data);
    else
        answer_unsupported(ctx, adapter, "issuing a billing key", (vendor_reply){NULL, cb, data});
}

void vendor_charge_billing(const vendor_adapter *adapter, vendor_context *ctx, const vendor_store *store,
                           const vendor_charge *charge, const vendor_guard *guard, vendor_payment_cb cb, void *data)
{
    if (adapter->charge_billing)
        adapter->charge_billing(ctx, store, charge, guard, cb, data);
    else
        answer_unsupported(ctx, adapter, "charging a billing key", (vendor_reply){cb, NULL, data});
}
