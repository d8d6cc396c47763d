/* What the KG Inicis adapter's files share: its signed INIAPI forms, its
 * reader of the inquiry answer and of the deposit notification. Only
 * inicis*.c and the adapter table include this. The protocol is the one of
 * README's "fake-inicis-server" section, which says what is confirmed. */
#ifndef PAYMENTS_INICIS_H
#define PAYMENTS_INICIS_H

#include "vendor_internal.h"

extern const vendor_adapter inicis_adapter;
extern const vendor_dialect inicis_dialect;

/* Result codes the adapter acts on (the fake's, README): a Refund of a
 * refunded payment, a PartialRefund whose confirmPrice is stale. */
#define INICIS_ALREADY_REFUNDED "05"
#define INICIS_STALE_CONFIRM_PRICE "06"

/* ---- inicis_form.c: INIAPI requests ---- */

/* A request's common fields: type, paymethod, timestamp (now, in Korea),
 * clientIp and mid. NULL when out of memory. */
json_t *inicis_form_new(const char *mid, const char *type, const char *paymethod);
/* Sets a field; false when out of memory. */
bool inicis_form_set(json_t *form, const char *name, const char *value);
/* A whole number of won as a field; false when out of memory. */
bool inicis_form_set_price(json_t *form, const char *name, double amount);
/* Adds hashData: hex SHA-512 of key and the values of the fields hashed
 * (NULL-ended, absent ones as ""), in that order. false when it fails. */
bool inicis_form_sign(json_t *form, const char *key, const char *const *hashed);
/* An [ENC] field: base64 of AES-128-CBC (PKCS#7) with the INIAPI key and IV
 * as raw bytes; malloc'd, or NULL (a key or IV not of 16 bytes). */
char *inicis_encrypt(const char *key, const char *iv, const char *plain);

/* ---- inicis_billing.c ---- */

/* Answers the billing key uid as given, unverified: INIAPI has no lookup. */
void inicis_fetch_billing(vendor_context *ctx, const vendor_store *store, const char *uid, const char *customer_key,
                          vendor_billing_cb cb, void *data);

/* ---- inicis_payment.c ---- */

/* A payment from an inquiry answer, the answer kept as data; NULL with a
 * 502 when it lacks what every one has. */
vendor_payment *inicis_payment_read(json_t *doc, app_error *err);
/* What remains of a payment in an inquiry answer; false when absent. */
bool inicis_amount(const json_t *doc, const char *name, double *out);

/* ---- inicis_webhook.c ---- */

bool inicis_webhook_uid(const json_t *event, const char **uid, app_error *err);

#endif
