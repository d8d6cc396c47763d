/* fake_iamport: what the files of the fake iamport server share: its state
 * (one store per kind of record), the envelope every answer travels in, the
 * steps handlers share, input checks, identifiers, and the route handlers the
 * route table points at. */
#ifndef PAYMENTS_FAKE_IAMPORT_H
#define PAYMENTS_FAKE_IAMPORT_H

#include "error.h"
#include "fake_server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fake_iamport_state {
    fake_store *tokens;         /* access_token -> IIamportUser; lives token_ttl_ms */
    fake_store *payments;       /* imp_uid -> IIamportPayment */
    fake_store *merchant_index; /* merchant_uid -> imp_uid (string) of the latest payment */
    fake_store *subscriptions;  /* customer_uid -> IIamportSubscription (billing key) */
    fake_store *certifications; /* imp_uid -> IIamportCertification */
    fake_store *receipts;       /* imp_uid of the payment -> IIamportReceipt */
    fake_store *notice_urls;    /* imp_uid -> the notice_url its payment was made with */
} fake_iamport_state;

/* ---- answers (fake_iamport_reply.c) ---- */

/* {code: 0, message: "success", response: record}; record is borrowed. */
void fake_iamport_reply(http_exchange *ex, int status, json_t *record);
/* {code: -1, message, response: null}. */
void fake_iamport_fail(http_exchange *ex, int status, const char *message);
void fake_iamport_fail_error(http_exchange *ex, const app_error *err);
/* Sends {imp_uid, merchant_uid, status} of the payment to the notice_url it
 * was made with, else to the webhook URL. */
void fake_iamport_send_webhook(fake_server *fs, json_t *payment);

/* The token's state when the Authorization header holds a live access token,
 * else NULL after answering 401 (fake_iamport_auth.c). */
fake_iamport_state *fake_iamport_authorize(http_exchange *ex, fake_server *fs);

/* ---- handler steps (fake_iamport_request.c): each answers on failure ---- */

/* Checks a body's fields; false with err set (400 naming the field). */
typedef bool (*fake_iamport_body_check)(json_t *body, app_error *err);
/* The request body as a JSON object that passed check (NULL: no check), or
 * NULL after answering 400. */
json_t *fake_iamport_read_body(http_exchange *ex, fake_iamport_body_check check);
/* The record of store under key (borrowed), or NULL with a 404 whose message
 * is missing ("no payment has this imp_uid") in err. */
json_t *fake_iamport_lookup(fake_store *store, const char *key, const char *missing, app_error *err);
/* The same, answering the 404 itself. */
json_t *fake_iamport_find(http_exchange *ex, fake_store *store, const char *key, const char *missing);
/* Answers 200 with the record, or the 404. */
void fake_iamport_reply_found(http_exchange *ex, fake_store *store, const char *key, const char *missing);
/* Removes the record and answers 200 with it, or the 404. */
void fake_iamport_reply_removed(http_exchange *ex, fake_store *store, const char *key, const char *missing);

/* What a route that takes a body does once the token and the body passed. */
typedef struct fake_iamport_call {
    fake_iamport_body_check check; /* NULL: any JSON object */
    /* The record to answer with (a new reference), or NULL with err set.
     * The body stays the caller's. */
    json_t *(*work)(fake_server *fs, json_t *body, const http_route_params *params, app_error *err);
    int status; /* of the answer when work succeeds */
} fake_iamport_call;
/* The token, the body, then call->work; answers with the record or the
 * error, so that every route with a body answers the same way. */
void fake_iamport_call_answer(http_exchange *ex, const http_route_params *params, fake_server *fs,
                              const fake_iamport_call *call);

/* ---- input checks (fake_iamport_input.c) ----
 * Each returns false with err set (status 400, message naming the field).
 * Optional fields may be absent or null; *out is then NULL / *present false. */
bool fake_iamport_input_string(json_t *obj, const char *name, bool required, const char **out, app_error *err);
bool fake_iamport_input_text(json_t *obj, const char *name, bool required, const char **out, app_error *err);
bool fake_iamport_input_number(json_t *obj, const char *name, bool required, double *out, bool *present,
                               app_error *err);
bool fake_iamport_input_amount(json_t *obj, const char *name, bool required, double *out, bool *present,
                               app_error *err);
bool fake_iamport_input_time(json_t *obj, const char *name, bool required, double *out, bool *present, app_error *err);
bool fake_iamport_input_boolean(json_t *obj, const char *name, bool required, app_error *err);
bool fake_iamport_input_enum(json_t *obj, const char *name, bool required, const char *const *allowed, const char **out,
                             app_error *err);
bool fake_iamport_input_email(json_t *obj, const char *name, const char **out, app_error *err);
bool fake_iamport_input_card(json_t *obj, app_error *err);
bool fake_iamport_input_optional_strings(json_t *obj, const char *const *names, app_error *err);
/* A key of the path that the body repeats (in_body, NULL when it does not)
 * must be the same. */
bool fake_iamport_input_same_as_path(const char *name, const char *in_body, const char *in_path, app_error *err);
bool fake_iamport_text_is_email(const char *text);
bool fake_iamport_text_is_birth_date(const char *text); /* YYYYMMDD */

extern const char *const fake_iamport_currencies[];
extern const char *const fake_iamport_buyer_fields[];

/* ---- identifiers, names and time (fake_iamport_random.c) ---- */

/* n random decimal digits into out (n + 1 bytes). Returns 0 or -1. */
int fake_iamport_random_digits(char *out, size_t n);
int fake_iamport_random_hex(char *out, size_t n);
/* "imp_" + 12 digits, unused by any payment or certification. */
int fake_iamport_new_imp_uid(fake_iamport_state *st, char out[17]);
/* A card issuer (code and name) for a card number. */
void fake_iamport_card_issuer(const char *card_number, const char **code, const char **name);
const char *fake_iamport_bank_name(const char *bank_code);
int64_t fake_iamport_now(void); /* unix seconds */

/* ---- record fields (fake_iamport_records.c) ---- */

json_t *fake_iamport_amount_json(double amount);
/* Sets out[key] from in[key] when it is a string, else null. Returns 0 or -1. */
int fake_iamport_copy_string(json_t *out, const char *key, json_t *in, const char *in_key);
/* Merges changes (an object; the reference is taken, NULL allowed: a failed
 * json_pack) into the record. Returns 0 or -1. */
int fake_iamport_update(json_t *record, json_t *changes);
/* True when the record's field holds value; else false with a 422 whose
 * message is refusal in err. */
bool fake_iamport_require(json_t *record, const char *field, const char *value, const char *refusal, app_error *err);

/* ---- payments (fake_iamport_payments.c) ---- */

/* A payment with every field of IIamportPayment.IBase set; status "ready".
 * merchant_uid and amount come from order, a checked request body. */
json_t *fake_iamport_payment_new(fake_iamport_state *st, const char *pay_method, json_t *order, const char *currency);
/* The payment of imp_uid (borrowed), or NULL with a 404 in err. */
json_t *fake_iamport_payment_get(fake_iamport_state *st, const char *imp_uid, app_error *err);
/* Stores a payment just made (NULL: making it failed) under its imp_uid and
 * merchant_uid, sends its webhook and returns it; NULL with a 500 naming
 * failure in err when it cannot be kept. Takes the reference. */
json_t *fake_iamport_payment_publish(fake_server *fs, json_t *payment, const char *failure, app_error *err);
int fake_iamport_payment_mark_paid(json_t *payment);
int fake_iamport_payment_mark_failed(json_t *payment, const char *reason);

/* ---- route handlers ---- */
void fake_iamport_get_token(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_payment_at(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_payment_find(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_payment_cancel(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_vbank_create(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_vbank_update(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_internal_deposit(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_internal_webhook(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_customer_at(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_customer_create(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_customer_erase(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_pay_onetime(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_pay_again(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_certification_request(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_certification_confirm(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_certification_at(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_certification_erase(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_receipt_at(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_receipt_create(http_exchange *ex, const http_route_params *params, void *context);
void fake_iamport_receipt_erase(http_exchange *ex, const http_route_params *params, void *context);

#endif
