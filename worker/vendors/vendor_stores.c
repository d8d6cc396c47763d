/* Vendor credentials per store id. A deployment with several merchant
 * accounts lists them in PAYMENT_VENDOR_STORES_FILE:
 *   {"<vendor code>": {"<store_id>": {"key": "...", "secret": "...", "url": "..."}}}
 * ("url" optional; "key" exactly for a vendor whose settings name a key, and
 * the member its settings name for a third credential, e.g. "iv");
 * any store id it does not list uses the vendor's account of its settings
 * (vendor_settings.c). The file is
 * checked whole at start-up: a mistake stops the worker with one line naming
 * the file and the entry, never a secret. A "url" obeys the rule of the
 * vendor URL variables: no internal host outside local mode. */
#include "vendor_internal.h"

#include "config.h"
#include "config_vendor_url.h"
#include "crypto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FALLBACK_STORE_ID "default"

typedef struct stored_entry {
    char *vendor_code;
    vendor_store store; /* strings owned */
} stored_entry;

struct vendor_stores {
    stored_entry *entries; /* from the file */
    size_t count;
    stored_entry *fallbacks; /* one per adapter, in table order; store.secret NULL: none */
};

typedef struct stores_reader {
    const char *path;
    char *err;
    size_t errlen;
} stores_reader;

static void stores_fail(const stores_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void stores_fail(const stores_reader *r, const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errlen, "PAYMENT_VENDOR_STORES_FILE %s: %s", r->path, detail);
}

static void entry_clear(stored_entry *entry)
{
    free(entry->vendor_code);
    free((char *)entry->store.store_id);
    free((char *)entry->store.base_url);
    crypto_secret_free((char *)entry->store.key);
    crypto_secret_free((char *)entry->store.secret);
    crypto_secret_free((char *)entry->store.extra);
    memset(entry, 0, sizeof *entry);
}

/* The credentials of one store as read, before they are copied. */
typedef struct entry_credentials {
    const char *key, *secret, *extra;
} entry_credentials;

/* Copies each string (NULL stays NULL). Returns false when out of memory. */
static bool entry_set(stored_entry *entry, const char *code, const char *store_id, const char *url,
                      entry_credentials credentials)
{
    const char *key = credentials.key, *secret = credentials.secret, *extra = credentials.extra;
    entry->vendor_code = strdup(code);
    entry->store.store_id = strdup(store_id);
    entry->store.base_url = url ? strdup(url) : NULL;
    entry->store.key = key ? strdup(key) : NULL;
    entry->store.secret = secret ? strdup(secret) : NULL;
    entry->store.extra = extra ? strdup(extra) : NULL;
    return entry->vendor_code && entry->store.store_id && (!url || entry->store.base_url) &&
           (!key || entry->store.key) && (!secret || entry->store.secret) && (!extra || entry->store.extra);
}

/* ---- the file ---- */

/* A member that must be a non-empty string (or may be absent when optional). */
static bool read_member(const stores_reader *r, json_t *store, const char *code, const char *store_id, const char *name,
                        bool required, const char **out)
{
    json_t *value = json_object_get(store, name);
    *out = json_string_value(value);
    if ((!value && !required) || (*out && **out))
        return true;
    stores_fail(r, "%s.%s: \"%s\" must be a non-empty string", code, store_id, name);
    return false;
}

static bool store_members_known(const stores_reader *r, json_t *store, const char *code, const char *store_id,
                                const vendor_settings *settings)
{
    bool has_key = settings->key_name != NULL;
    const char *extra = settings->extra_member;
    const char *name;
    json_t *value;
    json_object_foreach(store, name, value)
    {
        (void)value;
        if (strcmp(name, "secret") != 0 && strcmp(name, "url") != 0 && !(has_key && strcmp(name, "key") == 0) &&
            !(extra && strcmp(name, extra) == 0)) {
            stores_fail(r, "%s.%s: unknown member \"%s\" (expected %s%s%s)", code, store_id, name,
                        has_key ? "key, secret, url" : "secret, url", extra ? ", " : "", extra ? extra : "");
            return false;
        }
    }
    return true;
}

/* The default URLs were checked with the environment; a store's own is
 * checked here, at start-up, since judging a host name resolves it. */
static bool store_url_allowed(const stores_reader *r, const cfg *config, const char *code, const char *store_id,
                              const char *url)
{
    char name[160], why[400];
    snprintf(name, sizeof name, "%s.%s \"url\"", code, store_id);
    if (cfg_check_vendor_url(config, name, url, why, sizeof why) == 0)
        return true;
    stores_fail(r, "%s", why);
    return false;
}

static bool read_store(const stores_reader *r, const cfg *config, const vendor_adapter *adapter, const char *store_id,
                       json_t *store, stored_entry *out)
{
    const char *code = adapter->code;
    const vendor_settings *settings = &adapter->settings;
    entry_credentials credentials = {0};
    const char *url;
    if (!*store_id) {
        stores_fail(r, "%s: a store id must not be empty", code);
        return false;
    }
    if (!json_is_object(store)) {
        stores_fail(r, "%s.%s: must be an object", code, store_id);
        return false;
    }
    if (!store_members_known(r, store, code, store_id, settings) ||
        (settings->key_name && !read_member(r, store, code, store_id, "key", true, &credentials.key)) ||
        (settings->extra_member &&
         !read_member(r, store, code, store_id, settings->extra_member, true, &credentials.extra)) ||
        !read_member(r, store, code, store_id, "secret", true, &credentials.secret) ||
        !read_member(r, store, code, store_id, "url", false, &url))
        return false;
    bool own_url = url != NULL;
    if (!url)
        url = vendor_settings_url(config, adapter);
    if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        stores_fail(r, "%s.%s: \"url\" must start with http:// or https://", code, store_id);
        return false;
    }
    if (own_url && !store_url_allowed(r, config, code, store_id, url))
        return false;
    if (!entry_set(out, code, store_id, url, credentials)) {
        entry_clear(out);
        stores_fail(r, "out of memory");
        return false;
    }
    return true;
}

/* The table's codes as "a, b or c" (joiner "or") for messages. */
static void list_codes(char *out, size_t cap, const char *joiner)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < vendor_count() && used < cap; i++) {
        const char *separator = i == 0 ? "" : i + 1 < vendor_count() ? ", " : joiner;
        int n = snprintf(out + used, cap - used, "%s%s", separator, vendor_at(i)->code);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static bool read_vendor(const stores_reader *r, const cfg *config, const char *code, json_t *stores, vendor_stores *out)
{
    const vendor_adapter *adapter = vendor_find(code);
    if (!adapter) {
        char codes[200];
        list_codes(codes, sizeof codes, " or ");
        stores_fail(r, "unknown vendor \"%s\" (expected %s)", code, codes);
        return false;
    }
    if (!json_is_object(stores)) {
        stores_fail(r, "%s: must be an object of store ids", code);
        return false;
    }
    const char *store_id;
    json_t *store;
    json_object_foreach(stores, store_id, store)
    {
        if (!read_store(r, config, adapter, store_id, store, &out->entries[out->count]))
            return false;
        out->count++;
    }
    return true;
}

static size_t count_stores(json_t *root)
{
    size_t count = 0;
    const char *code;
    json_t *stores;
    json_object_foreach(root, code, stores)
    {
        (void)code;
        count += json_is_object(stores) ? json_object_size(stores) : 0;
    }
    return count;
}

static bool read_file(const stores_reader *r, const cfg *config, vendor_stores *out)
{
    json_error_t error;
    json_t *root = json_load_file(r->path, JSON_REJECT_DUPLICATES, &error);
    if (!root) {
        /* jansson quotes the text near a syntax error, which may be a secret. */
        char *near = strstr(error.text, " near ");
        if (near)
            *near = '\0';
        if (error.line > 0)
            stores_fail(r, "line %d, column %d: %s", error.line, error.column, error.text);
        else
            stores_fail(r, "%s", error.text);
        return false;
    }
    bool ok = json_is_object(root);
    if (!ok) {
        char codes[200];
        list_codes(codes, sizeof codes, " and ");
        stores_fail(r, "must be a JSON object with the members %s", codes);
    }
    size_t capacity = ok ? count_stores(root) : 0;
    if (ok && capacity && !(out->entries = calloc(capacity, sizeof *out->entries))) {
        stores_fail(r, "out of memory");
        ok = false;
    }
    const char *code;
    json_t *stores;
    json_object_foreach(root, code, stores)
    {
        if (ok && !read_vendor(r, config, code, stores, out))
            ok = false;
    }
    json_decref(root);
    return ok;
}

/* ---- the fallback accounts of the environment ---- */

static bool read_fallbacks(const stores_reader *r, const cfg *config, vendor_stores *out)
{
    bool ok = (out->fallbacks = calloc(vendor_count(), sizeof *out->fallbacks)) != NULL;
    for (size_t i = 0; ok && i < vendor_count(); i++) {
        const vendor_adapter *adapter = vendor_at(i);
        entry_credentials credentials = {vendor_settings_key(config, adapter), vendor_settings_secret(config, adapter),
                                         vendor_settings_extra(config, adapter)};
        if (credentials.secret && (credentials.key || !adapter->settings.key_name) &&
            (credentials.extra || !adapter->settings.extra_name))
            ok = entry_set(&out->fallbacks[i], adapter->code, FALLBACK_STORE_ID, vendor_settings_url(config, adapter),
                           credentials);
    }
    if (!ok)
        snprintf(r->err, r->errlen, "vendor stores: out of memory");
    return ok;
}

vendor_stores *vendor_stores_load(const struct cfg *config, char *err, size_t errlen)
{
    vendor_stores *stores = calloc(1, sizeof *stores);
    if (!stores) {
        snprintf(err, errlen, "vendor stores: out of memory");
        return NULL;
    }
    stores_reader r = {.path = config->vendor_stores_file, .err = err, .errlen = errlen};
    if (!read_fallbacks(&r, config, stores) || (r.path && !read_file(&r, config, stores))) {
        vendor_stores_free(stores);
        return NULL;
    }
    return stores;
}

const vendor_store *vendor_stores_find(const vendor_stores *stores, const char *vendor_code, const char *store_id)
{
    if (!stores || !vendor_code || !store_id)
        return NULL;
    for (size_t i = 0; i < stores->count; i++)
        if (strcmp(stores->entries[i].vendor_code, vendor_code) == 0 &&
            strcmp(stores->entries[i].store.store_id, store_id) == 0)
            return &stores->entries[i].store;
    for (size_t i = 0; stores->fallbacks && i < vendor_count(); i++)
        if (strcmp(vendor_at(i)->code, vendor_code) == 0)
            return stores->fallbacks[i].store.secret ? &stores->fallbacks[i].store : NULL;
    return NULL;
}

void vendor_stores_free(vendor_stores *stores)
{
    if (!stores)
        return;
    for (size_t i = 0; i < stores->count; i++)
        entry_clear(&stores->entries[i]);
    free(stores->entries);
    for (size_t i = 0; stores->fallbacks && i < vendor_count(); i++)
        entry_clear(&stores->fallbacks[i]);
    free(stores->fallbacks);
    free(stores);
}
