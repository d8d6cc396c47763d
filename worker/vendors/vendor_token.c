/* Access tokens, cached per store credentials (base URL, key and secret):
 * fetched once, reused until they near expiry, renewed ahead of it. While a
 * fetch is in flight, every request for the same credentials queues behind
 * it instead of starting another, so a burst of requests costs one fetch. */
#include "vendor_internal.h"

#include "request_id.h"

#include <stdlib.h>
#include <string.h>

/* Renew this long before expiry, or after half the lifetime of short tokens. */
#define TOKEN_RENEW_MARGIN_MS 60000u

typedef struct token_waiter {
    struct token_waiter *next;
    vendor_token_cb cb;
    void *data;
    request_id caller; /* whose call waits: the fetch may be another request's */
} token_waiter;

struct vendor_token_entry {
    vendor_token_entry *next;
    vendor_context *ctx;
    vendor_store store; /* points at the copies below */
    char *store_id, *base_url, *key, *secret;
    vendor_token_fetch_fn fetch;
    char *token;         /* NULL until fetched */
    uint64_t renew_at;   /* loop time (ms) from which a request fetches anew */
    uint64_t expires_at; /* loop time (ms) the vendor stops accepting it */
    bool fetching;
    token_waiter *waiters, **waiters_tail;
};

static void wipe_free(char *text)
{
    if (!text)
        return;
    explicit_bzero(text, strlen(text));
    free(text);
}

static const char *or_empty(const char *text)
{
    return text ? text : "";
}

static void entry_free(vendor_token_entry *entry)
{
    wipe_free(entry->token);
    wipe_free(entry->secret);
    wipe_free(entry->key);
    free(entry->base_url);
    free(entry->store_id);
    free(entry);
}

static bool entry_matches(const vendor_token_entry *entry, const vendor_store *store)
{
    return strcmp(entry->base_url, or_empty(store->base_url)) == 0 && strcmp(entry->key, or_empty(store->key)) == 0 &&
           strcmp(entry->secret, or_empty(store->secret)) == 0;
}

static vendor_token_entry *entry_new(vendor_context *ctx, const vendor_store *store, vendor_token_fetch_fn fetch)
{
    vendor_token_entry *entry = calloc(1, sizeof *entry);
    if (!entry)
        return NULL;
    entry->store_id = strdup(or_empty(store->store_id));
    entry->base_url = strdup(or_empty(store->base_url));
    entry->key = strdup(or_empty(store->key));
    entry->secret = strdup(or_empty(store->secret));
    if (!entry->store_id || !entry->base_url || !entry->key || !entry->secret) {
        entry_free(entry);
        return NULL;
    }
    entry->store = (vendor_store){entry->store_id, entry->base_url, entry->key, entry->secret, NULL};
    entry->ctx = ctx;
    entry->fetch = fetch;
    entry->waiters_tail = &entry->waiters;
    return entry;
}

vendor_token_entry *vendor_token_entry_for(vendor_context *ctx, const vendor_store *store, vendor_token_fetch_fn fetch)
{
    for (vendor_token_entry *entry = ctx->tokens; entry; entry = entry->next)
        if (entry->fetch == fetch && entry_matches(entry, store))
            return entry;
    vendor_token_entry *entry = entry_new(ctx, store, fetch);
    if (entry) {
        entry->next = ctx->tokens;
        ctx->tokens = entry;
    }
    return entry;
}

/* A cached token is answered at once; otherwise the caller waits for the
 * fetch in flight, starting one when there is none. */
void vendor_token_get(vendor_token_entry *entry, vendor_token_cb cb, void *data)
{
    if (entry->token && uv_now(entry->ctx->loop) < entry->renew_at) {
        cb(entry->token, NULL, data);
        return;
    }
    token_waiter *waiter = calloc(1, sizeof *waiter);
    if (!waiter) {
        app_error err;
        app_error_set(&err, 500, "out of memory waiting for an access token");
        cb(NULL, &err, data);
        return;
    }
    waiter->cb = cb;
    waiter->data = data;
    request_id_capture(&waiter->caller);
    *entry->waiters_tail = waiter;
    entry->waiters_tail = &waiter->next;
    if (entry->fetching)
        return;
    entry->fetching = true;
    vendor_context_hold(entry->ctx);
    entry->fetch(entry->ctx, entry, &entry->store);
}

void vendor_token_forget(vendor_token_entry *entry, const char *token)
{
    if (entry->token && token && strcmp(entry->token, token) == 0) {
        wipe_free(entry->token);
        entry->token = NULL;
    }
}

static void entry_keep(vendor_token_entry *entry, const char *token, int64_t lifetime_seconds)
{
    char *copy = strdup(token);
    if (!copy)
        return; /* the waiters still get this token; the next request fetches again */
    uint64_t now = uv_now(entry->ctx->loop);
    uint64_t lifetime_ms = lifetime_seconds > 0 ? (uint64_t)lifetime_seconds * 1000 : 0;
    uint64_t margin = lifetime_ms >= 2 * TOKEN_RENEW_MARGIN_MS ? TOKEN_RENEW_MARGIN_MS : lifetime_ms / 2;
    wipe_free(entry->token);
    entry->token = copy;
    entry->expires_at = now + lifetime_ms;
    entry->renew_at = now + lifetime_ms - margin;
}

/* Hands the outcome to every waiter. A failed renewal still serves the old
 * token while the vendor accepts it. Waiters may ask again from their
 * callback (a new fetch then starts), so they are detached first and given
 * a copy of the token. */
void vendor_token_fetched(vendor_token_entry *entry, const char *token, int64_t lifetime_seconds, const app_error *err)
{
    vendor_context *ctx = entry->ctx;
    entry->fetching = false;
    const char *usable = NULL;
    if (!err) {
        entry_keep(entry, token, lifetime_seconds);
        usable = token;
    } else if (entry->token && uv_now(ctx->loop) < entry->expires_at) {
        usable = entry->token;
        err = NULL;
    }
    char *delivered = usable ? strdup(usable) : NULL;
    app_error oom;
    if (usable && !delivered) {
        app_error_set(&oom, 500, "out of memory keeping an access token");
        err = &oom;
    }
    token_waiter *waiter = entry->waiters;
    entry->waiters = NULL;
    entry->waiters_tail = &entry->waiters;
    while (waiter) {
        token_waiter *next = waiter->next;
        request_id saved;
        request_id_enter(&waiter->caller, &saved);
        waiter->cb(delivered, err, waiter->data);
        request_id_restore(&saved);
        free(waiter);
        waiter = next;
    }
    wipe_free(delivered);
    vendor_context_release(ctx);
}

void vendor_token_free_all(vendor_context *ctx)
{
    while (ctx->tokens) {
        vendor_token_entry *next = ctx->tokens->next;
        entry_free(ctx->tokens);
        ctx->tokens = next;
    }
}
