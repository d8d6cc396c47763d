/* payment_input: the parts of request documents that histories, cancels and
 * reservations share (vendor, source, password), read with their limits in
 * one place. Strings are borrowed from the request document. */
#ifndef PAYMENTS_PAYMENT_INPUT_H
#define PAYMENTS_PAYMENT_INPUT_H

#include "api_input.h"
#include "vendors/vendor.h"
#include "webhooks/webhook_destination.h"

/* Longest vendor uid we accept: what vendor_payment.uid holds. */
#define PAYMENT_UID_MAX (sizeof(((vendor_payment *)0)->uid) - 1)
#define PAYMENT_NAME_MAX 255 /* store ids, source schema and table */
#define PAYMENT_PASSWORD_MAX 1024
#define PAYMENT_TEXT_MAX 1000  /* titles, cancel reasons */
#define PAYMENT_PRICE_MAX 1e15 /* beyond any currency's real amounts, and exact in a double */

typedef struct payment_vendor_input {
    const char *code; /* a code vendor_find knows */
    const char *store_id;
    const char *uid;
} payment_vendor_input;

typedef struct payment_source_input {
    const char *schema;
    const char *table;
    const char *id; /* a UUID */
} payment_source_input;

/* in.vendor: {code, store_id, uid}. */
bool payment_input_vendor(const api_input *in, payment_vendor_input *out);
/* {schema, table, id} of in itself (an accessor) or of its member "source". */
bool payment_input_source_fields(const api_input *in, payment_source_input *out);
bool payment_input_source(const api_input *in, payment_source_input *out);
bool payment_input_password(const api_input *in, const char **out);
/* in.webhook_url: an http(s) URL the policy lets notifications go to. */
bool payment_input_webhook_url(const api_input *in, const webhook_destination_policy *policy, const char **out);

/* The store's credentials, or NULL with an error: 422 when the vendor has no
 * credentials for that store id. */
const vendor_store *payment_input_store(const vendor_stores *stores, const payment_vendor_input *vendor,
                                        app_error *err);

#endif
