/* fake_settings: flags and environment variables of the fake servers. One
 * table describes each setting once (flag, variable suffix, help line), so
 * --help, the environment and getopt_long can never disagree. */
#include "fake_settings.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum setting_id {
    SETTING_HOST = 1,
    SETTING_PORT,
    SETTING_WEBHOOK_URL,
    SETTING_KEY,
    SETTING_SECRET,
    SETTING_TTL_MS,
    SETTING_CAPACITY,
    SETTING_TOKEN_TTL_MS,
    SETTING_LATENCY,
    SETTING_USER,
    SETTING_REFUSE_AMOUNT,
    SETTING_MERCHANT_ID,
    SETTING_IV,
    SETTING_REFUSED_CARD,
    SETTING_STRICT,
    SETTING_HELP,
} setting_id;

typedef struct setting_info {
    setting_id id;
    const char *flag;       /* without the dashes */
    const char *env_suffix; /* appended to the spec's prefix; NULL: flag only */
    const char *argument;   /* shown in --help */
    const char *summary;
    bool merchant; /* offered only by a fake with merchant settings */
} setting_info;

static const setting_info setting_table[] = {
    {SETTING_HOST, "host", "HOST", "HOST", "address to listen on", false},
    {SETTING_PORT, "port", "PORT", "PORT", "TCP port to listen on (0: any free port)", false},
    {SETTING_WEBHOOK_URL, "webhook-url", "WEBHOOK_URL", "URL", "where webhooks are POSTed", false},
    {SETTING_KEY, "key", "KEY", "KEY", "the accepted API key", false},
    {SETTING_SECRET, "secret", "SECRET", "SECRET", "the accepted API secret", false},
    {SETTING_TTL_MS, "ttl-ms", "TTL_MS", "MS", "how long a record is kept, in milliseconds", false},
    {SETTING_CAPACITY, "capacity", "CAPACITY", "N", "records kept at most; past it the oldest goes", false},
    {SETTING_TOKEN_TTL_MS, "token-ttl-ms", "TOKEN_TTL_MS", "MS", "access token lifetime, in milliseconds", false},
    {SETTING_LATENCY, "latency", "LATENCY", "MS[,P99]",
     "hold vendor answers MS ms (effects are immediate); MEDIAN,P99: log-normal", false},
    {SETTING_USER, "user", "USER", "NAME", "started as root: run as this user once the port is bound", false},
    {SETTING_REFUSE_AMOUNT, "refuse-amount", "REFUSE_AMOUNT", "AMOUNT",
     "decline every billing-key charge of exactly this amount", false},
    {SETTING_MERCHANT_ID, "merchant-id", "MERCHANT_ID", "MID", "the accepted merchant id (mid)", true},
    {SETTING_IV, "iv", "IV", "IV", "the AES IV that goes with the API key (16 characters)", true},
    {SETTING_REFUSED_CARD, "refused-card", "REFUSED_CARD", "NUMBER", "the card number the issuer declines", true},
    {SETTING_STRICT, "strict", "STRICT", NULL, "behave as the real vendor where the original fake is lenient (below)",
     false},
    {SETTING_HELP, "help", NULL, NULL, "print this help and exit", false},
};
#define SETTING_COUNT (sizeof setting_table / sizeof setting_table[0])

static bool setting_offered(const setting_info *info, const fake_server_spec *spec)
{
    return !info->merchant || spec->default_merchant_id != NULL;
}

static void settings_fail(const fake_server_spec *spec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void settings_fail(const fake_server_spec *spec, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s (see --help)\n", spec->name, message);
}

/* Digits only: strtoull alone would take "-1" and " 7" and wrap around. */
static bool parse_unsigned(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!text || !*text || strlen(text) > 19)
        return false;
    uint64_t value = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        value = value * 10 + (uint64_t)(*p - '0');
    }
    if (value < min || value > max)
        return false;
    *out = value;
    return true;
}

static bool replace_string(char **slot, const char *value)
{
    char *copy = value ? strdup(value) : NULL;
    if (value && !copy)
        return false;
    free(*slot);
    *slot = copy;
    return true;
}

/* A whole number within [min, max]; else names origin and what it must be. */
static bool setting_number(const char *value, uint64_t min, uint64_t max, const char *what, const char *origin,
                           const fake_server_spec *spec, uint64_t *out)
{
    if (parse_unsigned(value, min, max, out))
        return true;
    settings_fail(spec, "%s must be %s", origin, what);
    return false;
}

/* "MS" (fixed, 0 for none) or "MEDIAN,P99" (log-normal, 1 <= MEDIAN <= P99). */
static bool parse_delay(const char *text, fake_delay *out)
{
    const char *comma = strchr(text, ',');
    uint64_t median = 0, p99 = 0;
    if (!comma) {
        if (!parse_unsigned(text, 0, FAKE_LATENCY_MAX_MS, &median))
            return false;
        *out = (fake_delay){median, median};
        return true;
    }
    char first[24];
    size_t len = (size_t)(comma - text);
    if (len >= sizeof first)
        return false;
    memcpy(first, text, len);
    first[len] = '\0';
    if (!parse_unsigned(first, 1, FAKE_LATENCY_MAX_MS, &median) ||
        !parse_unsigned(comma + 1, median, FAKE_LATENCY_MAX_MS, &p99))
        return false;
    *out = (fake_delay){median, p99};
    return true;
}

static bool url_acceptable(const char *url)
{
    return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

static char **setting_string_slot(fake_settings *out, setting_id id)
{
    switch (id) {
    case SETTING_HOST:
        return &out->host;
    case SETTING_KEY:
        return &out->key;
    case SETTING_SECRET:
        return &out->secret;
    case SETTING_USER:
        return &out->user;
    case SETTING_MERCHANT_ID:
        return &out->merchant_id;
    case SETTING_IV:
        return &out->iv;
    case SETTING_REFUSED_CARD:
        return &out->refused_card;
    default:
        return &out->webhook_url;
    }
}

/* Applies one value; origin names it in the error ("--port" or "X_PORT"). */
static bool setting_apply(fake_settings *out, setting_id id, const char *value, const char *origin,
                          const fake_server_spec *spec)
{
    uint64_t number = 0;
    switch (id) {
    case SETTING_HOST:
    case SETTING_KEY:
    case SETTING_SECRET:
    case SETTING_USER:
    case SETTING_MERCHANT_ID:
    case SETTING_REFUSED_CARD:
        if (!*value) {
            settings_fail(spec, "%s must not be empty", origin);
            return false;
        }
        break;
    case SETTING_IV:
        /* AES-128-CBC takes a 16-byte IV; a wrong one would fail every
         * refund to a bank account, long after start. */
        if (strlen(value) != 16) {
            settings_fail(spec, "%s must be 16 characters", origin);
            return false;
        }
        break;
    case SETTING_WEBHOOK_URL:
        if (!url_acceptable(value)) {
            settings_fail(spec, "%s must be an http:// or https:// URL", origin);
            return false;
        }
        break;
    case SETTING_PORT:
        if (!setting_number(value, 0, 65535, "an integer from 0 to 65535", origin, spec, &number))
            return false;
        out->port = (int)number;
        return true;
    case SETTING_TTL_MS:
    case SETTING_TOKEN_TTL_MS:
        if (!setting_number(value, 1, UINT64_C(315360000000), "a number of milliseconds from 1 to 315360000000", origin,
                            spec, &number))
            return false;
        *(id == SETTING_TTL_MS ? &out->ttl_ms : &out->token_ttl_ms) = number;
        return true;
    case SETTING_REFUSE_AMOUNT:
        if (!setting_number(value, 0, FAKE_BILLING_MAX_AMOUNT, "a whole amount from 0 (none) to 1000000000000", origin,
                            spec, &number))
            return false;
        out->refuse_amount = number;
        return true;
    case SETTING_CAPACITY:
        if (!setting_number(value, 1, 100000000, "an integer from 1 to 100000000", origin, spec, &number))
            return false;
        out->capacity = (size_t)number;
        return true;
    case SETTING_LATENCY:
        if (parse_delay(value, &out->latency))
            return true;
        settings_fail(spec,
                      "%s must be MS or MEDIAN,P99 in milliseconds, at most %u, with MEDIAN at least 1 and P99 "
                      "at least MEDIAN",
                      origin, FAKE_LATENCY_MAX_MS);
        return false;
    case SETTING_STRICT:
        /* The flag has no value; the variable says 1/true or 0/false. */
        if (!value || strcmp(value, "1") == 0 || strcmp(value, "true") == 0) {
            out->strict = true;
            return true;
        }
        if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0) {
            out->strict = false;
            return true;
        }
        settings_fail(spec, "%s must be 1, true, 0 or false", origin);
        return false;
    case SETTING_HELP:
        return true;
    }
    if (!replace_string(setting_string_slot(out, id), value)) {
        settings_fail(spec, "%s: out of memory", origin);
        return false;
    }
    return true;
}

static bool settings_defaults(fake_settings *out, const fake_server_spec *spec)
{
    memset(out, 0, sizeof *out);
    out->port = spec->default_port;
    out->ttl_ms = FAKE_DEFAULT_TTL_MS;
    out->capacity = FAKE_DEFAULT_CAPACITY;
    out->token_ttl_ms = FAKE_DEFAULT_TOKEN_TTL_MS;
    return replace_string(&out->host, FAKE_DEFAULT_HOST) && replace_string(&out->key, spec->default_key) &&
           replace_string(&out->secret, spec->default_secret) &&
           replace_string(&out->merchant_id, spec->default_merchant_id) && replace_string(&out->iv, spec->default_iv) &&
           replace_string(&out->refused_card, spec->default_refused_card);
}

static bool settings_from_env(fake_settings *out, const fake_server_spec *spec)
{
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const setting_info *info = &setting_table[i];
        if (!info->env_suffix || !setting_offered(info, spec))
            continue;
        char name[128];
        snprintf(name, sizeof name, "%s%s", spec->env_prefix, info->env_suffix);
        const char *value = getenv(name);
        if (value && *value && !setting_apply(out, info->id, value, name, spec))
            return false;
    }
    return true;
}

static const setting_info *setting_by_id(int id)
{
    for (size_t i = 0; i < SETTING_COUNT; i++)
        if ((int)setting_table[i].id == id)
            return &setting_table[i];
    return NULL;
}

static void settings_default_text(const fake_server_spec *spec, setting_id id, char *buf, size_t len)
{
    switch (id) {
    case SETTING_HOST:
        snprintf(buf, len, "%s", FAKE_DEFAULT_HOST);
        break;
    case SETTING_PORT:
        snprintf(buf, len, "%d", spec->default_port);
        break;
    case SETTING_WEBHOOK_URL:
        snprintf(buf, len, "none: webhooks are not sent");
        break;
    /* Credentials are never printed, not even the built-in test ones: help
     * text ends up in logs, and logs are searched for secrets. */
    case SETTING_KEY:
        snprintf(buf, len, "%s", spec->default_key ? "a built-in test key, not shown" : "none");
        break;
    case SETTING_SECRET:
        snprintf(buf, len, "%s", spec->default_secret ? "a built-in test secret, not shown" : "none");
        break;
    case SETTING_TTL_MS:
        snprintf(buf, len, "%u (3 minutes)", FAKE_DEFAULT_TTL_MS);
        break;
    case SETTING_CAPACITY:
        snprintf(buf, len, "%u", FAKE_DEFAULT_CAPACITY);
        break;
    case SETTING_TOKEN_TTL_MS:
        snprintf(buf, len, "%u (30 minutes)", FAKE_DEFAULT_TOKEN_TTL_MS);
        break;
    case SETTING_LATENCY:
        snprintf(buf, len, "0: answers go out at once; PUT /fake/latency changes it at run time");
        break;
    case SETTING_USER:
        snprintf(buf, len, "none: the user it was started as (also when not root)");
        break;
    case SETTING_REFUSE_AMOUNT:
        snprintf(buf, len, "0: none; PUT /fake/billing changes it at run time");
        break;
    case SETTING_MERCHANT_ID:
        snprintf(buf, len, "%s", spec->default_merchant_id);
        break;
    case SETTING_IV:
        snprintf(buf, len, "a built-in test IV, not shown");
        break;
    case SETTING_REFUSED_CARD:
        snprintf(buf, len, "a built-in test card number, not shown");
        break;
    case SETTING_STRICT:
        snprintf(buf, len, "off: as the original fake, for test suites written against it");
        break;
    case SETTING_HELP:
        buf[0] = '\0';
        break;
    }
}

static void settings_print_help(const fake_server_spec *spec)
{
    printf("Usage: %s [options]\n\n"
           "A look-alike of the vendor's HTTP API for automated tests; records live in memory.\n"
           "Each option can also be set by its environment variable; a flag wins.\n\n"
           "Options:\n",
           spec->name);
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const setting_info *info = &setting_table[i];
        if (!setting_offered(info, spec))
            continue;
        char flag[64], fallback[128];
        snprintf(flag, sizeof flag, "--%s%s%s", info->flag, info->argument ? " " : "",
                 info->argument ? info->argument : "");
        printf("  %-22s %s\n", flag, info->summary);
        if (!info->env_suffix)
            continue;
        settings_default_text(spec, info->id, fallback, sizeof fallback);
        printf("  %-22s   env %s%s, default %s\n", "", spec->env_prefix, info->env_suffix, fallback);
    }
    printf("\nTest controls, beside the vendor's API:\n"
           "  GET /fake/stats        counters of the effects made (cancels, confirms, charges, replays...)\n"
           "  GET /fake/latency      the standing delay and the run-time rule\n"
           "  PUT /fake/latency      {\"ms\": 1500, \"p99\": 4000, \"match\": \"/cancel\"} holds the answers of\n"
           "                         routes whose path contains match (p99, match optional); {\"ms\": 0} clears\n"
           "  GET /fake/billing      the billing-key charges declined: {\"fail_next\": N, \"refuse_amount\": X}\n"
           "  PUT /fake/billing      {\"fail_next\": 2} declines the next 2 billing-key charges;\n"
           "                         {\"refuse_amount\": 500} every charge of 500 ({\"refuse_amount\": 0} clears)\n");
    printf("\nWhat --strict changes (without it, the original fake's behaviour):\n"
           "  record expiry          expired records are dropped only when a record is stored, so the\n"
           "                         newest stays readable however short the ttl; --strict: a record\n"
           "                         past --ttl-ms is gone, read or not\n"
           "%s",
           spec->strict_rules ? spec->strict_rules : "");
}

static fake_settings_outcome settings_from_args(fake_settings *out, int argc, char **argv, const fake_server_spec *spec)
{
    struct option options[SETTING_COUNT + 1];
    memset(options, 0, sizeof options);
    size_t offered = 0;
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        if (!setting_offered(&setting_table[i], spec))
            continue;
        options[offered].name = setting_table[i].flag;
        options[offered].has_arg = setting_table[i].argument ? required_argument : no_argument;
        options[offered].val = (int)setting_table[i].id;
        offered++;
    }
    opterr = 0; /* our own one-line messages instead of getopt's */
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (c == 'h' || c == SETTING_HELP) {
            settings_print_help(spec);
            return FAKE_SETTINGS_HELP;
        }
        if (c == ':' || c == '?') {
            const char *arg = argv[optind - 1] ? argv[optind - 1] : "";
            settings_fail(spec, c == ':' ? "option %s needs a value" : "unknown option %s", arg);
            return FAKE_SETTINGS_ERROR;
        }
        const setting_info *info = setting_by_id(c);
        char origin[64];
        snprintf(origin, sizeof origin, "--%s", info ? info->flag : "?");
        if (!info || !setting_apply(out, info->id, optarg, origin, spec))
            return FAKE_SETTINGS_ERROR;
    }
    if (optind < argc) {
        settings_fail(spec, "unexpected argument %s", argv[optind]);
        return FAKE_SETTINGS_ERROR;
    }
    return FAKE_SETTINGS_RUN;
}

fake_settings_outcome fake_settings_load(fake_settings *out, int argc, char **argv, const fake_server_spec *spec)
{
    if (!settings_defaults(out, spec)) {
        settings_fail(spec, "out of memory");
        return FAKE_SETTINGS_ERROR;
    }
    if (!settings_from_env(out, spec))
        return FAKE_SETTINGS_ERROR;
    return settings_from_args(out, argc, argv, spec);
}

void fake_settings_free(fake_settings *settings)
{
    free(settings->host);
    free(settings->webhook_url);
    free(settings->user);
    free(settings->key);
    free(settings->secret);
    free(settings->merchant_id);
    free(settings->iv);
    free(settings->refused_card);
    memset(settings, 0, sizeof *settings);
}
