/* Reading PAYMENT_* settings for the updater and the command line, with the
 * same rules as common/config.c: the environment wins over the .env file, an
 * empty value counts as unset, a bad value is reported by name. */
#include "settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int settings_open(dotenv *env, char *err, size_t errlen)
{
    memset(env, 0, sizeof *env);
    const char *path = getenv("PAYMENT_ENV_FILE");
    int required = path && *path;
    if (dotenv_load(env, required ? path : ".env", required, err, errlen) < 0) {
        dotenv_free(env);
        return -1;
    }
    return 0;
}

const char *settings_get(const dotenv *env, const char *name, const char *fallback)
{
    const char *value = dotenv_get(env, name);
    return value && *value ? value : fallback;
}

int settings_integer(const dotenv *env, const char *name, long long fallback, long long min, long long max,
                     long long *out, char *err, size_t errlen)
{
    const char *value = settings_get(env, name, NULL);
    *out = fallback;
    if (!value)
        return 0;
    char *end;
    errno = 0;
    long long n = strtoll(value, &end, 10);
    if (errno || *end || end == value || n < min || n > max) {
        snprintf(err, errlen, "%s must be an integer from %lld to %lld", name, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

static int parse_port(const char *text, int *port)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || *end || end == text || n < 1 || n > 65535)
        return -1;
    *port = (int)n;
    return 0;
}

int settings_host_port(const char *text, int default_port, char **host, int *port)
{
    *host = NULL;
    *port = default_port;
    if (!text || !*text)
        return -1;
    const char *host_start = text, *host_end, *port_text = NULL;
    if (*text == '[') { /* [v6]:port */
        host_start = text + 1;
        host_end = strchr(host_start, ']');
        if (!host_end || (host_end[1] && host_end[1] != ':'))
            return -1;
        if (host_end[1] == ':')
            port_text = host_end + 2;
    } else {
        const char *colon = strchr(text, ':');
        if (colon && strchr(colon + 1, ':'))
            colon = NULL; /* a bare IPv6 address */
        host_end = colon ? colon : text + strlen(text);
        if (colon)
            port_text = colon + 1;
    }
    if (host_end == host_start || (port_text && parse_port(port_text, port) < 0))
        return -1;
    *host = strndup(host_start, (size_t)(host_end - host_start));
    return *host ? 0 : -1;
}

const char *settings_mode_host(const dotenv *env, const char *kind, const char *mode, char *err, size_t errlen)
{
    if (strcmp(mode, "local") != 0 && strcmp(mode, "dev") != 0 && strcmp(mode, "real") != 0) {
        snprintf(err, errlen, "unknown mode %s (local, dev or real)", mode);
        return NULL;
    }
    char upper[8], name[64], updator[64];
    size_t i = 0;
    for (; mode[i] && i < sizeof upper - 1; i++)
        upper[i] = (char)toupper((unsigned char)mode[i]);
    upper[i] = '\0';
    snprintf(name, sizeof name, "PAYMENT_%s_HOST_%s", kind, upper);
    snprintf(updator, sizeof updator, "PAYMENT_UPDATOR_HOST_%s", upper);
    const char *host = settings_get(env, name, NULL);
    if (!host && strcmp(kind, "UPDATOR") != 0)
        host = settings_get(env, updator, NULL);
    if (!host && strcmp(mode, "local") == 0)
        host = "127.0.0.1";
    if (!host)
        snprintf(err, errlen, "%s is not set (the %s host of the %s mode)", updator, kind[0] == 'A' ? "API" : "updater",
                 mode);
    return host;
}

int settings_link_read(const dotenv *env, settings_link *link, char *err, size_t errlen)
{
    if (settings_integer(env, "PAYMENT_UPDATOR_PORT", 37820, 1, 65535, &link->port, err, errlen) < 0 ||
        settings_integer(env, "PAYMENT_UPDATE_TIMEOUT_MS", 3600000, 1000, 86400000, &link->update_timeout_ms, err,
                         errlen) < 0 ||
        settings_integer(env, "PAYMENT_UPDATOR_HEARTBEAT_MS", 15000, 100, 600000, &link->heartbeat_ms, err, errlen) < 0)
        return -1;
    return 0;
}

const char *settings_updater_pid_file(const dotenv *env)
{
    return settings_get(env, "PAYMENT_UPDATER_PID_FILE", "var/run/payments-updater.pid");
}

char *settings_updater_state_file(const char *pid_file)
{
    size_t len = strlen(pid_file);
    size_t stem = len > 4 && strcmp(pid_file + len - 4, ".pid") == 0 ? len - 4 : len;
    char *path = malloc(stem + sizeof ".state.json");
    if (path)
        snprintf(path, stem + sizeof ".state.json", "%.*s.state.json", (int)stem, pid_file);
    return path;
}
