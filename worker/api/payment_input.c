/* payment_input: reading vendor, source and password members. The vendor
 * codes are the API's vendor union: the codes of the adapter table
 * (worker/vendors/vendor_table.c). */
#include "payment_input.h"

bool payment_input_vendor(const api_input *in, payment_vendor_input *out)
{
    api_input vendor;
    return api_input_object(in, "vendor", &vendor) && api_input_enum(&vendor, "code", vendor_codes(), &out->code) &&
           api_input_string(&vendor, "store_id", PAYMENT_NAME_MAX, &out->store_id) &&
           api_input_string(&vendor, "uid", PAYMENT_UID_MAX, &out->uid);
}

bool payment_input_source_fields(const api_input *in, payment_source_input *out)
{
    return api_input_string(in, "schema", PAYMENT_NAME_MAX, &out->schema) &&
           api_input_string(in, "table", PAYMENT_NAME_MAX, &out->table) && api_input_uuid(in, "id", &out->id);
}

bool payment_input_source(const api_input *in, payment_source_input *out)
{
    api_input source;
    return api_input_object(in, "source", &source) && payment_input_source_fields(&source, out);
}

bool payment_input_password(const api_input *in, const char **out)
{
    return api_input_string(in, "password", PAYMENT_PASSWORD_MAX, out);
}

bool payment_input_webhook_url(const api_input *in, const webhook_destination_policy *policy, const char **out)
{
    if (!api_input_url(in, "webhook_url", out))
        return false;
    const char *refusal = webhook_destination_refusal(policy, *out, NULL);
    return refusal ? api_input_refuse(in, "webhook_url", refusal) : true;
}

const vendor_store *payment_input_store(const vendor_stores *stores, const payment_vendor_input *vendor, app_error *err)
{
    if (!vendor_find(vendor->code)) {
        app_error_set(err, 422, "vendor %s is not available on this server", vendor->code);
        return NULL;
    }
    const vendor_store *store = vendor_stores_find(stores, vendor->code, vendor->store_id);
    if (!store)
        app_error_set(err, 422, "vendor.store_id: no %s credentials for this store", vendor->code);
    return store;
}
