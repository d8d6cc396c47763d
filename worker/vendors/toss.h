/* What the Toss Payments adapter's files share: its readers of Toss's
 * documents and webhooks. Only toss*.c and the adapter table include this. */
#ifndef PAYMENTS_TOSS_H
#define PAYMENTS_TOSS_H

#include "vendor_internal.h"

extern const vendor_adapter toss_adapter;
/* How it speaks: what vendor_call makes of its answers. */
extern const vendor_dialect toss_dialect;

/* A payment or billing key of Toss's, the document kept as data; NULL with
 * a 502 when it lacks what every one has. */
vendor_payment *toss_payment_read(json_t *doc, app_error *err);
vendor_billing *toss_billing_read(json_t *doc, app_error *err);
/* The adapter's webhook_uid. */
bool toss_webhook_uid(const json_t *event, const char **uid, app_error *err);

#endif
