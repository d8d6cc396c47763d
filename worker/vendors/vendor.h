/* Vendor adapters: one interface for every payment gateway, the files of
 * each vendor and one line per vendor in vendor_table.c, the only place
 * outside those files that names a vendor. An adapter declares its code,
 * its settings, how its webhooks read and its operations.
 * An adapter turns a vendor's payment into a normalized vendor_payment (the
 * vendor's full document kept as `data`) so that the routes never look at a
 * vendor's own fields. Every call is asynchronous on the worker's loop and its
 * callback runs exactly once: with a result, or with an app_error whose
 * status says what went wrong (422 the vendor refused, with its message;
 * 502 unreachable or a malformed answer; 504 timed out; 404 unknown uid). */
#ifndef PAYMENTS_VENDOR_H
#define PAYMENTS_VENDOR_H

#include "error.h"
#include "http_client.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Credentials and base URL of one vendor store (store_id in the API). */
typedef struct vendor_store {
    const char *store_id;
    const char *base_url; /* "http://127.0.0.1:10851" for the fakes */
    const char *key;      /* NULL for a vendor whose settings name no key */
    const char *secret;
    const char *extra; /* a third credential when the settings name one (extra_name), else NULL */
} vendor_store;

typedef enum vendor_status {
    VENDOR_STATUS_READY, /* issued, not paid: virtual account awaiting deposit, or awaiting approval */
    VENDOR_STATUS_PAID,
    VENDOR_STATUS_CANCELLED, /* fully refunded */
    VENDOR_STATUS_PARTIAL,   /* partly refunded, still paid */
    VENDOR_STATUS_FAILED,
} vendor_status;

/* A payment as every vendor's payment reduces to. Times are unix
 * milliseconds, 0 when absent. Amounts in the currency's unit. */
typedef struct vendor_payment {
    char uid[128];      /* the vendor's name of the payment */
    char order_id[128]; /* the vendor's name of our order: our source.id */
    char currency[8];
    double amount;
    double refunded; /* sum of cancels */
    vendor_status status;
    bool awaits_approval; /* must be approved before it counts */
    int64_t paid_at;
    int64_t cancelled_at; /* first cancel's time */
    json_t *cancels;      /* array of {"reason","price","created_at"(ms as integer)} in time order; owned */
    json_t *data;         /* the vendor's full document; owned */
} vendor_payment;

/* A billing key, as the vendor names it. */
typedef struct vendor_billing {
    char uid[128];
    json_t *data; /* the vendor's full document; owned */
} vendor_billing;

typedef struct vendor_refund_account {
    const char *bank;
    const char *account;
    const char *holder;
    const char *mobile;
} vendor_refund_account;

/* What makes a repeated money-moving call harmless at the vendor, derived
 * from what we knew before the first attempt (worker/operations/): a vendor
 * that takes an Idempotency-Key answers a repeated one with its first
 * answer; one that takes a checksum refuses a cancel whose checksum is not
 * the amount still cancellable. An adapter uses what its vendor knows. */
typedef struct vendor_guard {
    const char *idempotency_key; /* NULL sends none */
    bool has_checksum;
    double checksum;
} vendor_guard;

/* The callback owns the result (NULL exactly when err is set) and frees it
 * with vendor_payment_free / vendor_billing_free. */
typedef void (*vendor_payment_cb)(vendor_payment *payment, const app_error *err, void *data);
typedef void (*vendor_billing_cb)(vendor_billing *billing, const app_error *err, void *data);

/* What adapters share: the loop's HTTP client, the per-store token cache,
 * and the timeout of every call. One per worker. */
typedef struct vendor_context vendor_context;

/* What an adapter reads from the configuration (cfg_setting): the
 * variables of its fallback account, used for any store id the stores file
 * does not list, and of its base URL. The credentials default to the fake
 * server's in local mode only; in dev and real mode they must be set. The
 * URL defaults to the fake in local mode, to the vendor otherwise. */
typedef struct vendor_settings {
    const char *key_name; /* NULL: the vendor's stores have no key */
    const char *secret_name;
    const char *url_name;
    /* A third credential some vendors need beside key and secret (an IV,
     * say): its variable and its member in the stores file; NULL: none. */
    const char *extra_name;
    const char *extra_member;
    const char *local_key; /* the fake server's credentials */
    const char *local_secret;
    const char *local_extra;
    const char *local_url;  /* the fake server */
    const char *remote_url; /* the vendor, in dev and real mode */
} vendor_settings;

/* What one vendor's webhook names: the payment's uid, or NULL when the event
 * is not worth recording. false with err (400) when the body is malformed.
 * The uid is borrowed from event. */
typedef bool (*vendor_webhook_uid_fn)(const json_t *event, const char **uid, app_error *err);

/* A billing charge: amount of the billing key billing_uid for our order
 * order_id, the key issued to customer_key (our source.id). */
typedef struct vendor_charge {
    const char *billing_uid;
    const char *customer_key;
    const char *order_id;
    const char *order_name;
    double amount;
    const char *currency;
} vendor_charge;

typedef struct vendor_adapter {
    const char *code;         /* in the API and the stores file: the vendor union's code */
    const char *webhook_name; /* its webhooks arrive at /payments/webhooks/<webhook_name> */
    vendor_settings settings;
    vendor_webhook_uid_fn webhook_uid;
    /* Its webhooks come as application/x-www-form-urlencoded, read into an
     * object of strings for webhook_uid, rather than as JSON. */
    bool webhook_form;
    /* The text/plain body the vendor expects when a webhook is taken (it
     * sends again otherwise); NULL: 201 without a body. */
    const char *webhook_reply;
    /* A paid payment refused for another order or amount is cancelled at
     * the vendor (as the original server does for some), not left charged. */
    bool cancels_mismatch;
    /* The payment as the vendor knows it now. */
    void (*fetch)(vendor_context *ctx, const vendor_store *store, const char *uid, vendor_payment_cb cb, void *data);
    /* Confirms a payment awaiting approval for order_id and amount,
     * answering the payment afterwards; a vendor without approval fetches. */
    void (*approve)(vendor_context *ctx, const vendor_store *store, const char *uid, const char *order_id,
                    double amount, const vendor_guard *guard, vendor_payment_cb cb, void *data);
    /* Refunds amount (full or partial); account is required for a paid
     * virtual account, NULL otherwise. Answers the payment after the cancel.
     * guard may be NULL (no key, no checksum). */
    void (*cancel)(vendor_context *ctx, const vendor_store *store, const char *uid, double amount, const char *reason,
                   const vendor_refund_account *account, const vendor_guard *guard, vendor_payment_cb cb, void *data);
    /* A billing key; customer_key is our source.id (a vendor may check it). */
    void (*fetch_billing)(vendor_context *ctx, const vendor_store *store, const char *uid, const char *customer_key,
                          vendor_billing_cb cb, void *data);
    /* Optional (NULL: the vendor_issue_billing and vendor_charge_billing
     * below answer 422). Issues a billing key for customer_key from the
     * vendor's own issue document (card details or an authorization). */
    void (*issue_billing)(vendor_context *ctx, const vendor_store *store, const char *customer_key,
                          const json_t *details, vendor_billing_cb cb, void *data);
    /* Charges a billing key, answering the payment it made. */
    void (*charge_billing)(vendor_context *ctx, const vendor_store *store, const vendor_charge *charge,
                           const vendor_guard *guard, vendor_payment_cb cb, void *data);
    /* Optional: the latest payment the vendor made for our order id (404
     * when none), for a vendor that does not answer a repeated charge of
     * an order with its first payment: a charge whose answer was lost is
     * looked up by its order before it is sent again. NULL: the vendor's
     * key or order id makes the resend itself harmless. */
    void (*fetch_order)(vendor_context *ctx, const vendor_store *store, const char *order_id, vendor_payment_cb cb,
                        void *data);
} vendor_adapter;

/* vendor_stores.c: credentials per (vendor code, store id), from the JSON
 * file PAYMENT_VENDOR_STORES_FILE when set, falling back for any store id to
 * each adapter's account of its settings. */
typedef struct vendor_stores vendor_stores;
struct cfg;
vendor_stores *vendor_stores_load(const struct cfg *config, char *err, size_t errlen);
/* NULL when the vendor has no credentials for that store. */
const vendor_store *vendor_stores_find(const vendor_stores *stores, const char *vendor_code, const char *store_id);
void vendor_stores_free(vendor_stores *stores);

/* vendor_table.c: the adapters, by code; NULL for an unknown code. */
const vendor_adapter *vendor_find(const char *code);
/* The adapter whose webhooks arrive under name, or NULL. */
const vendor_adapter *vendor_find_webhook(const char *name);
size_t vendor_count(void);
/* The i-th adapter of the table, i < vendor_count(). */
const vendor_adapter *vendor_at(size_t i);
/* Every code, in table order, NULL-terminated: the API's vendor union. */
const char *const *vendor_codes(void);

/* vendor_settings.c: each adapter's account and URL under config. */
/* The configured URL (its variable, else the mode's default). */
const char *vendor_settings_url(const struct cfg *config, const vendor_adapter *adapter);
/* The fallback account's key and secret: NULL when unset (the key also
 * when the vendor has none). */
const char *vendor_settings_key(const struct cfg *config, const vendor_adapter *adapter);
const char *vendor_settings_secret(const struct cfg *config, const vendor_adapter *adapter);
/* The third credential, when the adapter names one: NULL when unset. */
const char *vendor_settings_extra(const struct cfg *config, const vendor_adapter *adapter);
/* Start-up check of every adapter's settings under the mode: credentials set
 * outside local mode, URLs http(s) and, outside local mode, not internal
 * (cfg_check_vendor_url). Resolves host names: call at start-up only.
 * Returns 0, or -1 with one line in err naming the variable. */
int vendor_settings_check(const struct cfg *config, char *err, size_t errlen);
/* The adapter's timeout: PAYMENT_<CODE>_TIMEOUT_MS (the code in capitals),
 * else PAYMENT_VENDOR_TIMEOUT_MS. vendor_settings_check refuses a value that
 * is not a whole number from 10 to PAYMENT_VENDOR_TIMEOUT_MS, which bounds
 * the waits of the reconciler and of idempotent retries. */
uint64_t vendor_settings_timeout_ms(const struct cfg *config, const vendor_adapter *adapter);

/* vendor_operation.c: the optional operations, answering 422 "<code> does
 * not support <operation>" (from the loop) when the adapter lacks them. */
void vendor_issue_billing(const vendor_adapter *adapter, vendor_context *ctx, const vendor_store *store,
                          const char *customer_key, const json_t *details, vendor_billing_cb cb, void *data);
void vendor_charge_billing(const vendor_adapter *adapter, vendor_context *ctx, const vendor_store *store,
                           const vendor_charge *charge, const vendor_guard *guard, vendor_payment_cb cb, void *data);

/* vendor_context.c */
vendor_context *vendor_context_create(uv_loop_t *loop, http_client *client, long timeout_ms);
/* Each adapter's own timeout and the circuit breakers' policy, from config
 * (a context never configured has one timeout and circuits that never
 * open). Returns 0, or -1 when out of memory. */
int vendor_context_configure(vendor_context *ctx, const struct cfg *config);
/* Every circuit this context has called through, as operators see it
 * (vendor_circuit_list_json); NULL when out of memory. */
json_t *vendor_context_circuits(const vendor_context *ctx);
/* Is the circuit that a call to (vendor_code, store_id) would pass open and
 * cooling down, so that the call would fail at once with 503? The store is
 * looked up as a call looks it up: an id the stores file does not list
 * uses the vendor's default account and its circuit. Changes nothing. */
bool vendor_context_circuit_open(vendor_context *ctx, const vendor_stores *stores, const char *vendor_code,
                                 const char *store_id);
/* From now on calls answer 502 without touching the client; the context
 * stays valid until vendor_context_destroy. */
void vendor_context_close(vendor_context *ctx);
/* Calls in flight still answer (the client's close makes them fail 502);
 * calls made afterwards answer 502 without touching the client; the memory
 * goes with the last answer. */
void vendor_context_destroy(vendor_context *ctx);

void vendor_payment_free(vendor_payment *payment);
void vendor_billing_free(vendor_billing *billing);

#endif
