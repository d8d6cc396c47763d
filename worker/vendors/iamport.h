/* What the iamport (PortOne v1) adapter's files share: its readers of
 * iamport's documents and webhooks. Only iamport*.c and the adapter table
 * include this. */
#ifndef PAYMENTS_IAMPORT_H
#define PAYMENTS_IAMPORT_H

#include "vendor_internal.h"

extern const vendor_adapter iamport_adapter;
/* How it speaks: what vendor_call makes of its answers. */
extern const vendor_dialect iamport_dialect;

/* A payment or billing key of iamport's, the document kept as data; NULL
 * with a 502 when it lacks what every one has. */
vendor_payment *iamport_payment_read(json_t *doc, app_error *err);
vendor_billing *iamport_billing_read(json_t *doc, app_error *err);
/* The adapter's webhook_uid. */
bool iamport_webhook_uid(const json_t *event, const char **uid, app_error *err);

#endif
