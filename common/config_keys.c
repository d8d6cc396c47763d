/* config_keys: the key rotation settings. A leaked key is replaced by making
 * it previous and setting a new current one: what it sealed stays readable
 * until `payments reseal` moved it, and clients of the connection key get a
 * grace period to switch. Values are secrets: errors name the variable only. */
#include "config.h"

#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int fail(char *err, size_t errlen, const char *name, const char *why)
{
    snprintf(err, errlen, "%s %s", name, why);
    return -1;
}

static int valid_key_length(size_t len)
{
    return len == 16 || len == 32;
}

/* One "key:iv" entry of len bytes: the IV is the last 16 characters, so a
 * key may itself hold a ':' (a ',' separates entries and cannot). */
static int parse_pair(const char *entry, size_t len, cfg_cipher *out)
{
    if (len < 18 || entry[len - 17] != ':' || !valid_key_length(len - 17))
        return -1;
    out->key = strndup(entry, len - 17);
    out->iv = strndup(entry + len - 16, 16);
    return out->key && out->iv ? 0 : -1;
}

static void free_previous(cfg_previous_keys *list)
{
    for (size_t i = 0; i < list->count; i++) {
        crypto_secret_free(list->keys[i].key);
        crypto_secret_free(list->keys[i].iv);
    }
    memset(list, 0, sizeof *list);
}

/* "key:iv,key:iv": at most CFG_PREVIOUS_KEYS_MAX pairs. Unset is none. */
static int read_previous(const dotenv *env, const char *name, cfg_previous_keys *list, char *err, size_t errlen)
{
    const char *value = dotenv_get(env, name);
    if (!value || !*value)
        return 0;
    const char *entry = value;
    for (;;) {
        const char *comma = strchr(entry, ',');
        size_t len = comma ? (size_t)(comma - entry) : strlen(entry);
        if (list->count == CFG_PREVIOUS_KEYS_MAX)
            return fail(err, errlen, name, "holds more than 3 previous keys");
        if (parse_pair(entry, len, &list->keys[list->count]) < 0) {
            crypto_secret_free(list->keys[list->count].key);
            crypto_secret_free(list->keys[list->count].iv);
            list->keys[list->count] = (cfg_cipher){0};
            return fail(err, errlen, name,
                        "must be key:iv pairs separated by commas (a key of 16 or 32 characters, an IV of 16)");
        }
        list->count++;
        if (!comma)
            return 0;
        entry = comma + 1;
    }
}

/* "YYYY-MM-DDTHH:MM:SSZ" as milliseconds since the epoch, or -1. */
static int64_t parse_instant(const char *text)
{
    struct tm tm = {0};
    char zone = 0, rest = 0;
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%c%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &zone, &rest) != 7 ||
        zone != 'Z' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t seconds = timegm(&tm);
    return seconds < 0 ? -1 : (int64_t)seconds * 1000;
}

/* The previous connection key and its grace period come together: a key
 * accepted forever would make the roll never end. */
static int read_connection_previous(cfg *c, const dotenv *env, char *err, size_t errlen)
{
    const char *key = dotenv_get(env, "PAYMENT_CONNECTION_ENCRYPTION_KEY_PREVIOUS");
    const char *iv = dotenv_get(env, "PAYMENT_CONNECTION_ENCRYPTION_IV_PREVIOUS");
    const char *until = dotenv_get(env, "PAYMENT_CONNECTION_KEY_GRACE_UNTIL");
    int has_key = key && *key, has_iv = iv && *iv, has_until = until && *until;
    if (!has_key && !has_iv && !has_until)
        return 0;
    if (!has_key || !has_iv || !has_until)
        return fail(err, errlen, "PAYMENT_CONNECTION_ENCRYPTION_KEY_PREVIOUS,",
                    "PAYMENT_CONNECTION_ENCRYPTION_IV_PREVIOUS and PAYMENT_CONNECTION_KEY_GRACE_UNTIL go together");
    if (!valid_key_length(strlen(key)))
        return fail(err, errlen, "PAYMENT_CONNECTION_ENCRYPTION_KEY_PREVIOUS", "must be 16 or 32 characters");
    if (strlen(iv) != 16)
        return fail(err, errlen, "PAYMENT_CONNECTION_ENCRYPTION_IV_PREVIOUS", "must be 16 characters");
    c->connection_grace_until_ms = parse_instant(until);
    if (c->connection_grace_until_ms <= 0)
        return fail(err, errlen, "PAYMENT_CONNECTION_KEY_GRACE_UNTIL",
                    "must be an instant in UTC, as 2026-12-31T00:00:00Z");
    c->connection_previous.key = strdup(key);
    c->connection_previous.iv = strdup(iv);
    if (!c->connection_previous.key || !c->connection_previous.iv)
        return fail(err, errlen, "PAYMENT_CONNECTION_ENCRYPTION_KEY_PREVIOUS", "out of memory");
    return 0;
}

int cfg_keys_read(cfg *c, const dotenv *env, char *err, size_t errlen)
{
    if (read_previous(env, "PAYMENT_HISTORY_ENCRYPTION_KEYS_PREVIOUS", &c->history_previous, err, errlen) < 0 ||
        read_previous(env, "PAYMENT_RESERVATION_ENCRYPTION_KEYS_PREVIOUS", &c->reservation_previous, err, errlen) < 0 ||
        read_previous(env, "PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEYS_PREVIOUS", &c->cancel_history_previous, err,
                      errlen) < 0 ||
        read_connection_previous(c, env, err, errlen) < 0)
        return -1;
    const char *secret = dotenv_get(env, "PAYMENT_PASSWORD_SECRET_PREVIOUS");
    if (secret && *secret && !(c->password_secret_previous = strdup(secret)))
        return fail(err, errlen, "PAYMENT_PASSWORD_SECRET_PREVIOUS", "out of memory");
    return 0;
}

void cfg_keys_free(cfg *c)
{
    free_previous(&c->history_previous);
    free_previous(&c->reservation_previous);
    free_previous(&c->cancel_history_previous);
    crypto_secret_free(c->password_secret_previous);
    crypto_secret_free(c->connection_previous.key);
    crypto_secret_free(c->connection_previous.iv);
    c->password_secret_previous = NULL;
    c->connection_previous = (cfg_cipher){0};
}
