/* What the adapters share and the routes never see: the context's insides,
 * one way to call a vendor (which turns every failure into the app_error the
 * routes expect) and one way to answer the caller, the token cache, deferred
 * callbacks, and small readers of vendor documents. Only files under
 * worker/vendors/ (and the vendors' unit test) include this. */
#ifndef PAYMENTS_VENDOR_INTERNAL_H
#define PAYMENTS_VENDOR_INTERNAL_H

#include "vendor.h"
#include "vendor_circuit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vendor_token_entry vendor_token_entry;

/* One adapter's own timeout (PAYMENT_<VENDOR>_TIMEOUT_MS). */
typedef struct vendor_timeout {
    char code[32];
    long timeout_ms;
} vendor_timeout;

struct vendor_context {
    uv_loop_t *loop;
    http_client *client;
    long timeout_ms;          /* of a vendor without its own */
    vendor_timeout *timeouts; /* per adapter, once configured */
    size_t timeout_count;
    vendor_circuit *circuits; /* per (vendor, store), shared by every call */
    vendor_circuit_policy circuit_policy;
    vendor_token_entry *tokens;    /* one per store credentials; freed with the context */
    size_t in_flight;              /* calls and deferred callbacks not yet completed */
    size_t calls_sent;             /* calls on the network, not yet answered */
    size_t calls_limit;            /* PAYMENT_VENDOR_CONCURRENCY; 0: no limit */
    vendor_call_observer observer; /* told of every call's outcome; may be NULL */
    void *observer_data;
    bool closed;    /* calls fail at once: the client is closing */
    bool destroyed; /* freed when in_flight reaches 0 */
};

/* ---- vendor_context.c ---- */

/* Runs fn(data) from the loop, soon, not from inside this call: how an
 * operation that fails before reaching the network still answers later,
 * like every other completion (only when out of memory does it run now). */
void vendor_later(vendor_context *ctx, void (*fn)(void *data), void *data);
/* Bookkeeping of asynchronous work, so a destroyed context lives until the
 * last callback has run. */
void vendor_context_hold(vendor_context *ctx);
void vendor_context_release(vendor_context *ctx);
/* The timeout of the adapter named code. */
long vendor_context_timeout(const vendor_context *ctx, const char *code);

/* ---- vendor_reply.c ---- */

/* Whom an operation answers: exactly one of the two callbacks is set. */
typedef struct vendor_reply {
    vendor_payment_cb payment_cb;
    vendor_billing_cb billing_cb;
    void *data;
} vendor_reply;

/* An adapter's reader of a vendor document (below); NULL with err set. */
typedef vendor_payment *(*vendor_payment_read_fn)(json_t *doc, app_error *err);
typedef vendor_billing *(*vendor_billing_read_fn)(json_t *doc, app_error *err);

/* Answers err through the callback that is set. */
void vendor_reply_fail(const vendor_reply *reply, const app_error *err);
/* Answers doc, read with read_payment or read_billing as the reply expects,
 * or err when it is set (doc is then not read). */
void vendor_reply_answer(const vendor_reply *reply, json_t *doc, const app_error *err,
                         vendor_payment_read_fn read_payment, vendor_billing_read_fn read_billing);

/* ---- vendor_call.c ---- */

/* How a vendor speaks, as far as errors go. */
typedef struct vendor_dialect {
    const char *name;          /* the vendor in messages */
    const char *code;          /* its adapter's code (errors, timeout, circuit); NULL: name */
    const char *code_member;   /* the member of an error document with the vendor's code; NULL: "code" */
    bool enveloped;            /* {code, message, response}, code 0 on success */
    bool forbidden_is_refusal; /* 403 refuses the operation, else it means our credentials */
    /* A vendor that answers HTTP 200 whatever happened, with a result code
     * in the document: result_member names the code (a string),
     * result_success its value on success, message_member the vendor's
     * words ("message" when NULL), and result_status the status a refusal
     * gets here (422 the caller's business, 404 unknown, 502 our fault). */
    const char *result_member;
    const char *result_success;
    const char *message_member;
    int (*result_status)(const char *code);
} vendor_dialect;

typedef struct vendor_request {
    const vendor_dialect *dialect;
    const char *method;
    const char *url;
    const char *authorization;   /* the Authorization header's value, or NULL; never logged */
    json_t *body;                /* sent as JSON when not NULL; borrowed */
    bool url_is_secret;          /* the url names a billing key: the log shows its path only */
    const char *idempotency_key; /* sent as Idempotency-Key when not NULL */
    const char *store_id;        /* whose circuit the call passes; NULL: the vendor's default one */
    bool form_body;              /* body (strings only) goes as a form, not JSON */
    const char *operation;       /* for the metrics: "fetch", "cancel", ...; NULL: "call" */
} vendor_request;

/* doc is borrowed for the callback: on success the answer (for an enveloped
 * vendor its response member), on a refusal the vendor's error document (so
 * an adapter may read its code), else NULL. http_status is the vendor's HTTP
 * status, 0 when none came. */
typedef void (*vendor_call_cb)(json_t *doc, const app_error *err, long http_status, void *data);

/* What vendor_call makes of an answer's status and body, without the
 * network: the JSON in *doc (NULL when the body is not JSON; the caller
 * decrefs it), and the document the caller gets (borrowed from *doc, as the
 * callback's doc) with err set as below for a failure. */
json_t *vendor_answer_read(const vendor_dialect *dialect, long http_status, const char *body, size_t len, json_t **doc,
                           app_error *err);

/* Sends the request; cb runs exactly once, always from the loop. Failures:
 * unreachable 502, timed out 504, malformed answer 502, our credentials
 * refused (401; 403 unless forbidden_is_refusal) 502, unknown 404, other
 * refusals 422, the vendor's own failures (5xx) 502, and an open circuit
 * of the vendor and store 503 (the request was not sent). A failure the
 * vendor answered carries the vendor's identity (app_error_set_vendor). */
void vendor_call(vendor_context *ctx, const vendor_request *req, vendor_call_cb cb, void *data);

/* base + "/" + path segments, each percent-encoded, e.g.
 * vendor_url(base, "payments", uid, NULL). Returns a malloc'd string or NULL. */
char *vendor_url(const char *base, ...) __attribute__((sentinel));

/* ---- vendor_op.c: one adapter operation ----
 * An adapter's operation struct starts with a vendor_op; the class says
 * what differs from one vendor to the next. */

typedef struct vendor_op vendor_op;

typedef struct vendor_op_class {
    const vendor_dialect *dialect;
    size_t size;             /* of the adapter's operation struct, vendor_op first */
    bool needs_key;          /* a usable store has a key besides secret and URL */
    const char *credentials; /* the store's members in messages: "secret key, URL" */
    const char *uid_name;    /* what the vendor calls a uid, in messages */
    vendor_payment_read_fn read_payment;
    vendor_billing_read_fn read_billing;
    /* Each optional. prepare: what the operation needs from the store (the
     * store is not kept); false when out of memory. send: starts the call
     * (after getting a token, say) instead of vendor_op_call. answered: the
     * vendor's answer before it is read; true when it took the operation
     * over (another call). answer: answers the caller itself instead of the
     * readers; true when it did. clear: frees the adapter's members. */
    bool (*prepare)(vendor_op *op, const vendor_store *store);
    void (*send)(vendor_op *op);
    bool (*answered)(vendor_op *op, json_t *doc, const app_error *err, long http_status);
    bool (*answer)(vendor_op *op, json_t *doc);
    void (*clear)(vendor_op *op);
} vendor_op_class;

struct vendor_op {
    const vendor_op_class *class;
    vendor_context *ctx;
    vendor_reply reply;
    const char *method;
    char *url;             /* set by the operation before vendor_op_start */
    json_t *body;          /* owned; NULL sends none */
    bool form_body;        /* the body goes as application/x-www-form-urlencoded */
    char *authorization;   /* the Authorization value; wiped when freed */
    char *idempotency_key; /* sent with a body only */
    char *store_id;        /* the store's id, for its circuit */
    bool url_is_secret;    /* the url names a billing key (set for billing key replies) */
    bool sent;             /* a call of this operation left for the vendor */
    app_error err;         /* a failure found before any call */
    const char *operation; /* for the metrics, set by the adapter; NULL: "call" */
};

/* A new operation; err is set in it when the store or the uid cannot be
 * used. NULL only when out of memory, after answering the caller. */
vendor_op *vendor_op_new(const vendor_op_class *class, vendor_context *ctx, const vendor_store *store, const char *uid,
                         vendor_reply reply);
/* Keeps the guard's Idempotency-Key for the call; false when out of memory. */
bool vendor_op_keep_guard(vendor_op *op, const vendor_guard *guard);
/* Calls method on op->url (set unless err was), taking body; body_expected
 * says a NULL body means out of memory. Any err set answers from the loop. */
void vendor_op_start(vendor_op *op, const char *method, json_t *body, bool body_expected);
/* Sends the request as it stands (what send does once it is ready). */
void vendor_op_call(vendor_op *op);
/* Answers the caller (doc read by the class) and frees the operation. */
void vendor_op_finish(vendor_op *op, json_t *doc, const app_error *err);
/* Answers status and message from the loop, then frees the operation. */
void vendor_op_fail_later(vendor_op *op, int status, const char *message);

/* ---- vendor_token.c: access tokens per store credentials ----
 * A token is fetched once and reused until it nears expiry; requests that
 * arrive while a fetch is in flight wait for that fetch. */

typedef void (*vendor_token_cb)(const char *token, const app_error *err, void *data);
/* The vendor-specific fetch: must end with vendor_token_fetched on entry. */
typedef void (*vendor_token_fetch_fn)(vendor_context *ctx, vendor_token_entry *entry, const vendor_store *store);

/* The cache entry for these credentials (created on first use; lives as long
 * as the context), or NULL when out of memory. */
vendor_token_entry *vendor_token_entry_for(vendor_context *ctx, const vendor_store *store, vendor_token_fetch_fn fetch);
/* cb runs exactly once with a live token or an error: at once when a token
 * is cached, else from the loop when the fetch ends. */
void vendor_token_get(vendor_token_entry *entry, vendor_token_cb cb, void *data);
/* The vendor refused token: drop it unless a newer one replaced it already. */
void vendor_token_forget(vendor_token_entry *entry, const char *token);
/* Ends a fetch: token with its lifetime in seconds, or err. */
void vendor_token_fetched(vendor_token_entry *entry, const char *token, int64_t lifetime_seconds, const app_error *err);
void vendor_token_free_all(vendor_context *ctx);

/* ---- vendor_document.c: reading vendor documents ---- */

/* The member as a string (borrowed), or NULL when absent or not a string. */
const char *vendor_json_string(const json_t *doc, const char *name);
/* The member as a non-empty string (borrowed), or NULL. */
const char *vendor_json_text(const json_t *doc, const char *name);
/* The member as a number; false when absent or not a number. */
bool vendor_json_number(const json_t *doc, const char *name, double *out);
/* An optional array member in *out: absent or null reads as no entries
 * (*out NULL, which json_array_foreach walks as empty); false when the
 * member is anything else. */
bool vendor_json_list(const json_t *doc, const char *name, const json_t **out);
/* A whole amount as a JSON integer (25000, not 25000.0), else a real. */
json_t *vendor_json_amount(double amount);
/* Copies src into a fixed field; false when absent, empty or too long. */
bool vendor_copy_text(char *out, size_t cap, const char *src);
/* Appends one cancel as every adapter normalizes it: {"reason", "price",
 * "created_at"} (unix ms; 0 when the vendor gave no time). False when
 * memory runs out. */
bool vendor_cancels_add(json_t *cancels, const char *reason, double amount, int64_t created_at);
/* Sorts cancels ({"reason","price","created_at"}) by created_at, stably, and
 * returns the first one's time (0 when there is none). */
int64_t vendor_cancels_sort(json_t *cancels);
/* A new vendor_payment with empty cancels, or NULL. */
vendor_payment *vendor_payment_new(void);
/* A payment filled from doc by fill, which keeps doc as data and returns
 * false when doc lacks what every payment has; NULL with a 502 malformed
 * then, or a 500 out_of_memory. */
vendor_payment *vendor_payment_read(json_t *doc, bool (*fill)(vendor_payment *payment, json_t *doc),
                                    const char *out_of_memory, const char *malformed, app_error *err);
/* A billing key named by doc's member uid_member, keeping doc as data;
 * NULL with a 502 malformed when the member is missing, or a 500
 * out_of_memory. */
vendor_billing *vendor_billing_read(json_t *doc, const char *uid_member, const char *out_of_memory,
                                    const char *malformed, app_error *err);

/* ---- vendor_time.c ---- */

/* ISO-8601 date-time with an offset or Z ("2026-11-23T18:30:00+09:00",
 * "2026-11-23T09:30:00.123Z") to unix milliseconds. False when malformed. */
bool vendor_time_parse_iso(const char *text, int64_t *out_ms);

#endif
