/* Each adapter's settings under the configuration: the variables it declares
 * (vendor_settings), read by name through cfg_setting, with the defaults of
 * the mode. The master links this too, so that it refuses a bad vendor
 * setting before it starts a worker, as every worker does again. */
#include "vendor_internal.h"

#include "config.h"
#include "config_vendor_url.h"

#include <stdio.h>
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
    return cfg_check_vendor_url(config, s->url_name, url, err, errlen);
}

int vendor_settings_check(const cfg *config, char *err, size_t errlen)
{
    for (size_t i = 0; i < vendor_count(); i++)
        if (check_adapter(config, vendor_at(i), err, errlen) < 0)
            return -1;
    return 0;
}
