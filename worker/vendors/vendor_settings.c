/* Each adapter's settings under the configuration: the variables it declares
 * (vendor_settings), read by name through cfg_setting, with the defaults of
 * the mode. `payments-worker --check-config` checks them for the master
 * before it starts a worker, as every worker does again. */
#include "vendor_internal.h"

#include "config.h"
#include "config_vendor_url.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool local_mode(const cfg *config)
{
    return config->mode == CFG_MODE_LOCAL;
}

/* A credential: its variable, else the fake's in local mode only. */
static const char *credential(const cfg *config, const char *name, const char *local_value)
{
    const char *value = name ? cfg_setting(config, name) : NULL;
    return value ? value : local_mode(config) ? local_value : NULL;
}

const char *vendor_settings_url(const cfg *config, const vendor_adapter *adapter)
{
    const vendor_settings *s = &adapter->settings;
    const char *value = cfg_setting(config, s->url_name);
    return value ? value : local_mode(config) ? s->local_url : s->remote_url;
}

const char *vendor_settings_key(const cfg *config, const vendor_adapter *adapter)
{
    return credential(config, adapter->settings.key_name, adapter->settings.local_key);
}

const char *vendor_settings_secret(const cfg *config, const vendor_adapter *adapter)
{
    return credential(config, adapter->settings.secret_name, adapter->settings.local_secret);
}

/* PAYMENT_<CODE>_TIMEOUT_MS, built from the code so that every adapter
 * has one without declaring it: capitals, and '_' for any other character
 * ("one.vendor": PAYMENT_ONE_VENDOR_TIMEOUT_MS). */
static void timeout_name(const vendor_adapter *adapter, char *out, size_t cap)
{
    int n = snprintf(out, cap, "PAYMENT_");
    for (const char *c = adapter->code; *c && (size_t)n + 1 < cap; c++)
        out[n++] = isalnum((unsigned char)*c) ? (char)toupper((unsigned char)*c) : '_';
    snprintf(out + n, cap - (size_t)n, "_TIMEOUT_MS");
}

enum { NAMES_PER_ADAPTER = 5, MAX_ADAPTERS = 32 };

const char *const *vendor_settings_names(void)
{
    static char timeouts[MAX_ADAPTERS][64];
    static const char *names[MAX_ADAPTERS * NAMES_PER_ADAPTER + 1];
    if (names[0])
        return names;
    size_t n = 0;
    for (size_t i = 0; i < vendor_count() && i < MAX_ADAPTERS; i++) {
        const vendor_adapter *adapter = vendor_at(i);
        const vendor_settings *s = &adapter->settings;
        const char *declared[] = {s->key_name, s->secret_name, s->url_name, s->extra_name};
        for (size_t k = 0; k < sizeof declared / sizeof declared[0]; k++)
            if (declared[k])
                names[n++] = declared[k];
        timeout_name(adapter, timeouts[i], sizeof timeouts[i]);
        names[n++] = timeouts[i];
    }
    names[n] = NULL;
    return names;
}

/* The variable's whole number in [10, the general timeout], else -1. */
static long long timeout_value(const cfg *config, const char *value)
{
    char *end;
    errno = 0;
    long long ms = strtoll(value, &end, 10);
    if (errno || end == value || *end || ms < 10 || (uint64_t)ms > config->vendor_timeout_ms)
        return -1;
    return ms;
}

uint64_t vendor_settings_timeout_ms(const cfg *config, const vendor_adapter *adapter)
{
    char name[64];
    timeout_name(adapter, name, sizeof name);
    const char *value = cfg_setting(config, name);
    long long ms = value ? timeout_value(config, value) : -1;
    return ms > 0 ? (uint64_t)ms : config->vendor_timeout_ms;
}

static int check_timeout(const cfg *config, const vendor_adapter *adapter, char *err, size_t errlen)
{
    char name[64];
    timeout_name(adapter, name, sizeof name);
    const char *value = cfg_setting(config, name);
    if (value && timeout_value(config, value) < 0) {
        snprintf(err, errlen, "%s must be a whole number of milliseconds from 10 to PAYMENT_VENDOR_TIMEOUT_MS (%llu)",
                 name, (unsigned long long)config->vendor_timeout_ms);
        return -1;
    }
    return 0;
}

const char *vendor_settings_extra(const cfg *config, const vendor_adapter *adapter)
{
    return credential(config, adapter->settings.extra_name, adapter->settings.local_extra);
}

static int check_adapter(const cfg *config, const vendor_adapter *adapter, char *err, size_t errlen)
{
    const vendor_settings *s = &adapter->settings;
    if (s->key_name && !vendor_settings_key(config, adapter)) {
        snprintf(err, errlen, "%s is not set", s->key_name);
        return -1;
    }
    if (!vendor_settings_secret(config, adapter)) {
        snprintf(err, errlen, "%s is not set", s->secret_name);
        return -1;
    }
    if (s->extra_name && !vendor_settings_extra(config, adapter)) {
        snprintf(err, errlen, "%s is not set", s->extra_name);
        return -1;
    }
    const char *url = vendor_settings_url(config, adapter);
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "%s must start with http:// or https://", s->url_name);
        return -1;
    }
    if (check_timeout(config, adapter, err, errlen) < 0)
        return -1;
    return cfg_check_vendor_url(config, s->url_name, url, err, errlen);
}

int vendor_settings_check(const cfg *config, char *err, size_t errlen)
{
    for (size_t i = 0; i < vendor_count(); i++)
        if (check_adapter(config, vendor_at(i), err, errlen) < 0)
            return -1;
    return 0;
}
