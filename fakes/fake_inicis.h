/* fake_inicis: what the KG Inicis look-alike's files share: its state (one
 * store per kind of record), the INIAPI request every vendor call goes
 * through (form fields, merchant id, hashData), its answers, and the records
 * themselves. The protocol, and the choices made where it could not be
 * confirmed, are written down in fake_inicis_request.c. */
#ifndef PAYMENTS_FAKE_INICIS_H
#define PAYMENTS_FAKE_INICIS_H

#include "fake_server.h"
#include "form_urlencoded.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define FAKE_INICIS_DEFAULT_PORT 40571
/* KG Inicis' own published test merchant and its INIAPI key and IV
 * (manual.inicis.com/iniapi, sample code): a client written against the
 * manual works against the fake unchanged. */
#define FAKE_INICIS_DEFAULT_MID "INIpayTest"
#define FAKE_INICIS_DEFAULT_KEY "ItEQKi3rY7uvDS8l"
#define FAKE_INICIS_DEFAULT_IV "HYb3yQ4f65QL89=="
#define FAKE_INICIS_DEFAULT_REFUSED_CARD "4000000000000002"
/* Larger than any real payment; keeps sums of amounts far from overflow. */
#define FAKE_INICIS_MAX_PRICE INT64_C(1000000000000)
#define FAKE_INICIS_MAX_FIELD 1000
/* Inicis TIDs are 40 characters; billing keys here too. */
#define FAKE_INICIS_TID_LEN 40
/* "20261123183000": YYYYMMDDhhmmss in Korea, and its NUL. */
#define FAKE_INICIS_STAMP_LEN 15
/* SHA-512 in lower-case hex, and its NUL. */
#define FAKE_INICIS_HASH_HEX_LEN 129

/* Result codes. Only "00" (success) is confirmed by the public material; the
 * others are the fake's own, one per refusal, so that a client can tell them
 * apart (README, Fake vendors). */
#define FAKE_INICIS_OK "00"
#define FAKE_INICIS_BAD_REQUEST "01"
#define FAKE_INICIS_BAD_HASH "02"
#define FAKE_INICIS_BAD_MID "03"
#define FAKE_INICIS_NOT_FOUND "04"
#define FAKE_INICIS_ALREADY_REFUNDED "05"
#define FAKE_INICIS_BAD_CONFIRM_PRICE "06"
#define FAKE_INICIS_NOT_REFUNDABLE "07"
#define FAKE_INICIS_CARD_REFUSED "08"
#define FAKE_INICIS_BAD_REFUND_ACCOUNT "09"

/* fake_store_get and fake_store_put sweep expired records of their store: a
 * record borrowed from a store stays valid until the next call on that same
 * store. */
typedef struct fake_inicis_state {
    fake_store *payments; /* tid -> our payment record */
    fake_store *orders;   /* moid -> {tid}: the order's payment */
    fake_store *billkeys; /* billKey -> {billKey, cardNumber, buyerName} */
    fake_store *charges;  /* moid -> the first billing answer */
} fake_inicis_state;

static inline fake_inicis_state *fake_inicis_state_of(fake_server *fs)
{
    return fs->vendor;
}

/* --- fake_inicis_crypto.c: hashData and the [ENC] fields --- */

/* Lower-case hex SHA-512 of text: 0, or -1. */
int fake_inicis_sha512_hex(const char *text, size_t len, char out[FAKE_INICIS_HASH_HEX_LEN]);
/* The plain text of an [ENC] field: base64 of AES-128-CBC (PKCS#7) with the
 * INIAPI key and IV as raw bytes. malloc'd and NUL-terminated, or NULL. */
char *fake_inicis_decrypt_field(const char *key, const char *iv, const char *encrypted);

/* --- fake_inicis_request.c: one INIAPI call --- */

/* One request type of an INIAPI path: its type name, the fields hashData
 * covers after the key (absent ones count as ""), and its handler, called
 * once the form, the merchant id and the hash are checked. */
typedef struct fake_inicis_operation {
    const char *type;
    const char *const *hashed; /* NULL-ended */
    void (*run)(fake_server *fs, http_exchange *ex, json_t *form);
} fake_inicis_operation;

/* Reads the form, finds its type among operations, checks mid and hashData,
 * then runs it; every refusal is answered with its result code. */
void fake_inicis_serve(fake_server *fs, http_exchange *ex, const fake_inicis_operation *operations, size_t count);
/* {resultCode, resultMsg}; INIAPI answers 200 whatever the result. */
void fake_inicis_respond_result(http_exchange *ex, const char *code, const char *message);
/* A success: fields (taken) with resultCode "00" and resultMsg added. */
void fake_inicis_respond_success(http_exchange *ex, json_t *fields, const char *message);
/* A form field: the string, or NULL when absent or empty. */
const char *fake_inicis_field(const json_t *form, const char *name);
/* A required field: the string, or NULL after answering 01 naming it. */
const char *fake_inicis_required(http_exchange *ex, const json_t *form, const char *name);
/* A price field: whole won from 1 to FAKE_INICIS_MAX_PRICE (0 allowed when
 * allow_zero); false after answering 01 naming it. */
bool fake_inicis_price(http_exchange *ex, const json_t *form, const char *name, bool allow_zero, int64_t *out);

/* --- fake_inicis_records.c: identifiers, times and payments --- */

/* Now in Korea: "20261123183000". */
void fake_inicis_stamp_now(char out[FAKE_INICIS_STAMP_LEN]);
/* A TID as Inicis writes one: prefix ("StdpayCARD"), the mid, the time and
 * random digits up to 40 characters. 0, or -1. */
int fake_inicis_new_tid(fake_server *fs, const char *prefix, char out[FAKE_INICIS_TID_LEN + 1]);
/* A new payment record (status "paid", or "ready" for a virtual account not
 * yet paid) of paymethod ("Card", "Vacct") for order moid; NULL when out of
 * memory. The caller stores it with fake_inicis_keep_payment. */
json_t *fake_inicis_payment_new(fake_server *fs, const char *paymethod, const char *moid, int64_t price,
                                const char *status);
/* Stores payment under its tid and its moid: 0, or -1. */
int fake_inicis_keep_payment(fake_server *fs, json_t *payment);
/* The payment of tid (borrowed), or NULL. */
json_t *fake_inicis_find_payment(fake_server *fs, const char *tid);
/* The payment of order moid (borrowed), or NULL. */
json_t *fake_inicis_find_order(fake_server *fs, const char *moid);
int64_t fake_inicis_record_integer(const json_t *record, const char *name);
const char *fake_inicis_record_string(const json_t *record, const char *name);
/* The issuer's code and name for a card number, by its first digit. */
void fake_inicis_card_issuer(const char *card_number, const char **code, const char **name);
/* The record as the test helper routes answer it: a copy (new reference)
 * without what only the fake needs; NULL when out of memory. */
json_t *fake_inicis_payment_view(const json_t *payment);

/* --- route handlers, one file per resource --- */

void fake_inicis_refund(http_exchange *ex, const http_route_params *params, void *context);
void fake_inicis_billing(http_exchange *ex, const http_route_params *params, void *context);
void fake_inicis_inquiry(http_exchange *ex, const http_route_params *params, void *context);
/* Test helpers (JSON in and out): what a buyer does in the browser. */
void fake_inicis_internal_card_payment(http_exchange *ex, const http_route_params *params, void *context);
void fake_inicis_internal_vbank(http_exchange *ex, const http_route_params *params, void *context);
void fake_inicis_internal_deposit(http_exchange *ex, const http_route_params *params, void *context);
void fake_inicis_internal_billkey(http_exchange *ex, const http_route_params *params, void *context);
void fake_inicis_internal_payment_get(http_exchange *ex, const http_route_params *params, void *context);

#endif
