/* fake_toss: what the Toss Payments look-alike's files share: its state (one
 * store per kind of record), the checks every request goes through (Basic
 * auth, JSON body fields), the builders of Toss's documents, and the steps
 * handlers share around their own work. */
#ifndef PAYMENTS_FAKE_TOSS_H
#define PAYMENTS_FAKE_TOSS_H

#include "error.h"
#include "fake_server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define FAKE_TOSS_DEFAULT_PORT 30771
#define FAKE_TOSS_DEFAULT_SECRET "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy"
/* Larger than any real payment; keeps sums of amounts far from overflow. */
#define FAKE_TOSS_MAX_AMOUNT INT64_C(1000000000000)
#define FAKE_TOSS_MAX_STRING 1000
/* "2026-11-23T18:30:00+09:00" and its NUL. */
#define FAKE_TOSS_TIME_LEN 26
/* "2026-11-23" and its NUL. */
#define FAKE_TOSS_DATE_LEN 11
#define FAKE_TOSS_KEY_LEN 32

/* fake_store_get and fake_store_put sweep expired records of their store: a
 * record borrowed from a store stays valid until the next call on that same
 * store, so a handler holds at most one borrowed record per store. */
typedef struct fake_toss_state {
    fake_store *payments; /* paymentKey -> ITossPayment */
    fake_store *billings; /* billingKey -> ITossBilling */
    fake_store *receipts; /* receiptKey -> {receipt, paymentKey, amount} */
    fake_store *answers;  /* Idempotency-Key scope -> the first request and its answer */
} fake_toss_state;

/* The order a payment is made for. */
typedef struct fake_toss_order {
    const char *order_id;
    const char *order_name;
    int64_t amount;
    int64_t tax_free_amount;
} fake_toss_order;

static inline fake_toss_state *fake_toss_state_of(fake_server *fs)
{
    return fs->vendor;
}

/* --- fake_toss_request.c: answers, auth and body fields --- */

/* Toss's error document {code, message}. */
void fake_toss_respond_error(http_exchange *ex, int status, const char *code, const char *message);
/* Answers err with INVALID_REQUEST (400) or the code Toss uses for its status. */
void fake_toss_respond_app_error(http_exchange *ex, const app_error *err);
/* Answers a record the store still owns (borrowed reference). */
void fake_toss_respond_record(http_exchange *ex, int status, json_t *record);
/* True when the request carries "Basic base64(secret:)"; answers 401 itself
 * otherwise. */
bool fake_toss_authorized(fake_server *fs, http_exchange *ex);
/* The body as a JSON object (new reference), or NULL after answering 400. An
 * empty body reads as {} when allow_empty. */
json_t *fake_toss_read_body(http_exchange *ex, bool allow_empty);

typedef enum fake_toss_presence { FAKE_TOSS_OPTIONAL, FAKE_TOSS_REQUIRED } fake_toss_presence;

/* Field readers: each leaves a 400 in err (first problem wins; nothing is
 * read once err is set) and returns "absent". Strings are borrowed from obj,
 * non-empty when required, at most FAKE_TOSS_MAX_STRING bytes. */
const char *fake_toss_field_string(json_t *obj, const char *name, fake_toss_presence presence, app_error *err);
/* A string of only digits, between min_digits and max_digits long. */
const char *fake_toss_field_digits(json_t *obj, const char *name, fake_toss_presence presence, size_t min_digits,
                                   size_t max_digits, app_error *err);
/* A whole number within [minimum, maximum]; *out is set only when present. */
bool fake_toss_field_integer(json_t *obj, const char *name, fake_toss_presence presence, int64_t minimum,
                             int64_t maximum, int64_t *out, app_error *err);
bool fake_toss_field_boolean(json_t *obj, const char *name, bool *out, app_error *err);
/* A nested object (borrowed), or NULL. */
json_t *fake_toss_field_object(json_t *obj, const char *name, fake_toss_presence presence, app_error *err);
/* When present, the field must equal expected: the body may repeat the key
 * of the path or the method of the route, but not name another one. */
void fake_toss_field_matches(json_t *obj, const char *name, const char *expected, app_error *err);
/* orderId (required), orderName (order_name: required, or "test" when
 * absent), amount (required, positive) and taxFreeAmount (0 to amount). */
void fake_toss_read_order(json_t *body, fake_toss_presence order_name, fake_toss_order *order, app_error *err);
/* Checks what many inputs share: 16-digit card number, 2-digit year, month,
 * optional YYMMDD birthday, optional e-mail and 3-D Secure block. */
void fake_toss_check_card_input(json_t *body, fake_toss_presence birthday, app_error *err);

/* --- fake_toss_records.c: identifiers, times and documents --- */

/* Now in Korea's time, as Toss writes it: "2026-11-23T18:30:00+09:00". */
void fake_toss_time_now(char out[FAKE_TOSS_TIME_LEN]);
/* The date days from today in Korea: "2026-11-30". */
void fake_toss_date_after_days(int days, char out[FAKE_TOSS_DATE_LEN]);
/* A random key that store does not hold yet (out holds FAKE_TOSS_KEY_LEN + 1). */
int fake_toss_unique_key(fake_store *store, char out[FAKE_TOSS_KEY_LEN + 1]);

/* The fields every payment has, with a fresh paymentKey; status and approvedAt
 * are set by the caller, like the method's own block. NULL on failure. */
json_t *fake_toss_payment_new(fake_toss_state *state, const fake_toss_order *order, const char *method,
                              const char *type, char payment_key[FAKE_TOSS_KEY_LEN + 1]);
/* The issuer's name for a card number ("신한"). */
const char *fake_toss_card_company(const char *card_number);
/* A card payment (key-in or billing) for card_number, approved when approved. */
json_t *fake_toss_card_payment_new(fake_toss_state *state, const fake_toss_order *order, const char *type,
                                   const char *card_number, int64_t installment_months, bool approved);
/* Sets balanceAmount, and suppliedAmount/vat/taxFreeAmount for that balance. */
int fake_toss_payment_set_balance(json_t *payment, int64_t balance, int64_t tax_free);
/* Reads an integer or string member of one of our own records. */
int64_t fake_toss_record_integer(const json_t *record, const char *name);
const char *fake_toss_record_string(const json_t *record, const char *name);
/* Sends {eventType: PAYMENT_STATUS_CHANGED, data: {paymentKey, orderId,
 * status}} for the payment's current status. */
void fake_toss_send_status_webhook(fake_server *fs, const json_t *payment);

/* --- fake_toss_steps.c: steps handlers share; each answers on failure --- */

/* The body after the Basic auth (an empty body is refused), or NULL. */
json_t *fake_toss_authorized_body(fake_server *fs, http_exchange *ex);
/* The record of store under key (borrowed), or NULL after answering 404
 * with Toss's code and message. */
json_t *fake_toss_find_record(http_exchange *ex, fake_store *store, const char *key, const char *code,
                              const char *message);
/* The payment of payment_key, or NULL after answering 404. */
json_t *fake_toss_find_payment(fake_server *fs, http_exchange *ex, const char *payment_key);
/* The Basic auth, then the payment of the path's :paymentKey, or NULL. */
json_t *fake_toss_authorized_payment(fake_server *fs, http_exchange *ex, const http_route_params *params);
/* fake_toss_authorized_payment, then the body: the body, or NULL. */
json_t *fake_toss_payment_body(fake_server *fs, http_exchange *ex, const http_route_params *params, json_t **payment);
/* Stores record under key with a reference of its own (the caller keeps
 * its reference); answers 500 and returns -1 on failure. */
int fake_toss_store_record(http_exchange *ex, fake_store *store, const char *key, json_t *record);

/* How a call that creates one record makes it and answers. */
typedef struct fake_toss_creation {
    /* The record for the body: NULL with err set when the body is refused,
     * NULL alone when making it failed. */
    json_t *(*build)(fake_toss_state *state, json_t *body, app_error *err);
    const char *key_field; /* the record's own key: "paymentKey" */
    const char *failure;   /* the 500's message when making it failed */
    bool announce;         /* the status webhook goes out before the answer */
    const char *counter;   /* the effect counted in /fake/stats: "payments" */
} fake_toss_creation;
/* Basic auth, body, build, keep in store under the record's key_field, then
 * 201 with the record. */
void fake_toss_create(fake_server *fs, http_exchange *ex, fake_store *store, const fake_toss_creation *how);
/* Stores a record just made (NULL: making it failed, answered 500 with
 * failure) under its key_field; returns 0 when kept. */
int fake_toss_store_new(http_exchange *ex, fake_store *store, const char *key_field, json_t *record,
                        const char *failure);

/* --- fake_toss_idempotency.c --- */

/* The fake's serve hook: a POST to the vendor's API that carries an
 * Idempotency-Key is answered once and replayed after; the rest go straight
 * to the routes. */
void fake_toss_serve(const fake_server_spec *spec, http_exchange *ex, fake_server *fs);

/* --- route handlers, one file per resource --- */

void fake_toss_payments_get(http_exchange *ex, const http_route_params *params, void *context);
void fake_toss_payments_key_in(http_exchange *ex, const http_route_params *params, void *context);
void fake_toss_payments_approve(http_exchange *ex, const http_route_params *params, void *context);
void fake_toss_payments_cancel(http_exchange *ex, const http_route_params *params, void *context);
void fake_toss_virtual_accounts_create(http_exchange *ex, const http_route_params *params, void *context);
void fake_toss_internal_deposit(http_exchange *ex, const http_route_params *params, void *context);
void fake_toss_internal_webhook(http_exchange *ex, const http_route_params *params, void *context);
void fake_toss_billing_issue(http_exchange *ex, const http_route_params *params, void *context);
void fake_toss_billing_get(http_exchange *ex, const http_route_params *params, void *context);
void fake_toss_billing_pay(http_exchange *ex, const http_route_params *params, void *context);
void fake_toss_cash_receipts_issue(http_exchange *ex, const http_route_params *params, void *context);
void fake_toss_cash_receipts_cancel(http_exchange *ex, const http_route_params *params, void *context);

#endif
