/* Vendor adapters: one interface for every payment gateway, one file per
 * vendor (iamport.c, toss.c) and one line per vendor in vendor_table.c.
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
#include <stdint.h>
#include <uv.h>

/* Credentials and base URL of one vendor store (store_id in the API). */
typedef struct vendor_store {
    const char *store_id;
    const char *base_url; /* "http://127.0.0.1:10851" for the fakes */
    const char *key;      /* iamport imp_key; unused by Toss */
    const char *secret;   /* iamport imp_secret; Toss secret key */
} vendor_store;

typedef enum vendor_status {
    VENDOR_STATUS_READY, /* issued, not paid: virtual account awaiting deposit, Toss awaiting approval */
    VENDOR_STATUS_PAID,
    VENDOR_STATUS_CANCELLED, /* fully refunded */
    VENDOR_STATUS_PARTIAL,   /* partly refunded, still paid */
    VENDOR_STATUS_FAILED,
} vendor_status;

/* A payment as every vendor's payment reduces to. Times are unix
 * milliseconds, 0 when absent. Amounts in the currency's unit. */
typedef struct vendor_payment {
    char uid[128];      /* imp_uid / paymentKey */
    char order_id[128]; /* merchant_uid / orderId: our source.id */
    char currency[8];
    double amount;
    double refunded; /* sum of cancels */
    vendor_status status;
    bool awaits_approval; /* Toss: must be confirmed before it counts */
    int64_t paid_at;
    int64_t cancelled_at; /* first cancel's time */
    json_t *cancels;      /* array of {"reason","price","created_at"(ms as integer)} in time order; owned */
    json_t *data;         /* the vendor's full document; owned */
} vendor_payment;

/* A billing key (iamport customer_uid / Toss billingKey). */
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
 * from what we knew before the first attempt (worker/operations/): Toss
 * answers a repeated Idempotency-Key with its first answer; iamport refuses
 * a cancel whose checksum is not the amount still cancellable. */
typedef struct vendor_guard {
    const char *idempotency_key; /* Toss; NULL sends none */
    bool has_checksum;           /* iamport cancels */
    double checksum;
} vendor_guard;

/* The callback owns the result (NULL exactly when err is set) and frees it
 * with vendor_payment_free / vendor_billing_free. */
typedef void (*vendor_payment_cb)(vendor_payment *payment, const app_error *err, void *data);
typedef void (*vendor_billing_cb)(vendor_billing *billing, const app_error *err, void *data);

/* What adapters share: the loop's HTTP client, the per-store token cache,
 * and the timeout of every call. One per worker. */
typedef struct vendor_context vendor_context;

typedef struct vendor_adapter {
    const char *code; /* "iamport", "toss.payments" */
    /* A paid payment refused for another order or amount is cancelled at
     * the vendor (iamport, as the original server does), not left charged. */
    bool cancels_mismatch;
    /* The payment as the vendor knows it now. */
    void (*fetch)(vendor_context *ctx, const vendor_store *store, const char *uid, vendor_payment_cb cb, void *data);
    /* Confirms a payment awaiting approval (Toss) for order_id and amount,
     * answering the payment afterwards; a vendor without approval fetches. */
    void (*approve)(vendor_context *ctx, const vendor_store *store, const char *uid, const char *order_id,
                    double amount, const vendor_guard *guard, vendor_payment_cb cb, void *data);
    /* Refunds amount (full or partial); account is required for a paid
     * virtual account, NULL otherwise. Answers the payment after the cancel.
     * guard may be NULL (no key, no checksum). */
    void (*cancel)(vendor_context *ctx, const vendor_store *store, const char *uid, double amount, const char *reason,
                   const vendor_refund_account *account, const vendor_guard *guard, vendor_payment_cb cb, void *data);
    /* A billing key; customer_key is our source.id (Toss checks it). */
    void (*fetch_billing)(vendor_context *ctx, const vendor_store *store, const char *uid, const char *customer_key,
                          vendor_billing_cb cb, void *data);
} vendor_adapter;

/* vendor_stores.c: credentials per (vendor code, store id), from the JSON
 * file PAYMENT_VENDOR_STORES_FILE when set, falling back for any store id to
 * PAYMENT_IAMPORT_KEY/SECRET and PAYMENT_TOSS_PAYMENTS_SECRET with base URLs
 * PAYMENT_IAMPORT_URL / PAYMENT_TOSS_PAYMENTS_URL (local mode: the fakes on
 * 127.0.0.1:10851 and :30771; otherwise the vendors' public APIs). */
typedef struct vendor_stores vendor_stores;
struct cfg;
vendor_stores *vendor_stores_load(const struct cfg *config, char *err, size_t errlen);
/* NULL when the vendor has no credentials for that store. */
const vendor_store *vendor_stores_find(const vendor_stores *stores, const char *vendor_code, const char *store_id);
void vendor_stores_free(vendor_stores *stores);

/* vendor_table.c: the adapters, by code; NULL for an unknown code. */
const vendor_adapter *vendor_find(const char *code);

/* vendor_context.c */
vendor_context *vendor_context_create(uv_loop_t *loop, http_client *client, long timeout_ms);
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
