/* Configuration loading: each variable has one reader that validates it and
 * names it on failure. Defaults follow the original server where it has one. */
#include "config.h"

#include "crypto.h"
#include "dotenv.h"
#include "duration.h"
#include "hex.h"
#include "secret_strength.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

typedef struct cfg_reader {
    dotenv env;
    const char *path; /* of the .env file */
    char *err;
    size_t errlen;
    int failed;
} cfg_reader;

static void reader_fail(cfg_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reader_fail(cfg_reader *r, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
}

/* A required variable has no value. An empty one in the environment hides
 * the file's (the environment wins, as with dotenv): say so, since "not
 * set" would send the operator to a file that does set it. */
static void reader_missing(cfg_reader *r, const char *name, const char *hint)
{
    const char *in_environment = getenv(name);
    const char *in_file = dotenv_file_value(&r->env, name);
    if (in_environment && !*in_environment && in_file && *in_file)
        reader_fail(r, "%s is empty in the environment, which overrides its value in %s", name, r->path);
    else
        reader_fail(r, "%s is not set%s", name, hint);
}

static char *read_string(cfg_reader *r, const char *name, const char *fallback)
{
    const char *v = dotenv_get(&r->env, name);
    if (!v || !*v)
        v = fallback;
    if (!v) {
        reader_missing(r, name, "");
        return NULL;
    }
    char *copy = strdup(v);
    if (!copy)
        reader_fail(r, "%s: out of memory", name);
    return copy;
}

static long long read_integer(cfg_reader *r, const char *name, long long fallback, long long min, long long max)
{
    const char *v = dotenv_get(&r->env, name);
    if (!v || !*v)
        return fallback;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || end == v || n < min || n > max) {
        reader_fail(r, "%s must be an integer from %lld to %lld", name, min, max);
        return fallback;
    }
    return n;
}

/* A duration (duration.h) of at least 1 ms and at most max_ms. */
static uint64_t read_duration(cfg_reader *r, const char *name, const char *fallback, uint64_t max_ms)
{
    const char *v = dotenv_get(&r->env, name);
    if (!v || !*v)
        v = fallback;
    uint64_t ms = 0;
    if (duration_parse(v, strlen(v), max_ms, &ms) < 0 || ms == 0) {
        reader_fail(r, "%s must be a duration from 1ms to %llud (e.g. 30m, 24h, 7d)", name,
                    (unsigned long long)(max_ms / 86400000));
        return 0;
    }
    return ms;
}

static void read_cipher(cfg_reader *r, cfg_cipher *c, const char *key_name, const char *iv_name)
{
    c->key = read_string(r, key_name, NULL);
    c->iv = read_string(r, iv_name, NULL);
    if (c->key && strlen(c->key) != 16 && strlen(c->key) != 32)
        reader_fail(r, "%s must be 16 or 32 characters (AES-128 or AES-256)", key_name);
    if (c->iv && strlen(c->iv) != 16)
        reader_fail(r, "%s must be 16 characters", iv_name);
}

/* The hex text of a digest, as a string of its own. */
static char *digest_text(const unsigned char *digest, unsigned int len)
{
    char *text = malloc(2 * (size_t)len + 1);
    if (text)
        hex_encode(digest, len, text);
    return text;
}

/* A default secret of its own rather than a copy of a configured value:
 * hex(SHA-256(label || parts...)), stable across restarts. */
static char *derive_secret(const char *label, const char *const *parts, size_t count)
{
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int hash_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, label, strlen(label)) == 1;
    for (size_t i = 0; ok && i < count; i++)
        ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, hash, &hash_len) == 1;
    EVP_MD_CTX_free(ctx);
    char *secret = ok ? digest_text(hash, hash_len) : NULL;
    OPENSSL_cleanse(hash, sizeof hash);
    return secret;
}

/* The default password secret: derived from the history key and IV. */
static char *derive_password_secret(const cfg_cipher *history)
{
    const char *parts[] = {history->key, history->iv};
    return derive_secret("payments password secret v1", parts, 2);
}

/* A secret that dev and real mode require, random and long enough; NULL
 * when unset in local mode, where the caller derives a default. */
static char *read_required_secret(cfg_reader *r, const cfg *c, const char *name)
{
    const char *v = dotenv_get(&r->env, name);
    if (c->mode == CFG_MODE_LOCAL && (!v || !*v))
        return NULL;
    char *secret = read_string(r, name, NULL);
    char why[160];
    if (secret && c->mode != CFG_MODE_LOCAL && secret_strength_key(name, secret, why, sizeof why) < 0)
        reader_fail(r, "%s", why);
    return secret;
}

/* PAYMENT_PASSWORD_SECRET; in local mode, when unset, the default derived
 * from the history cipher (which must have been read first). */
static void read_password_secret(cfg_reader *r, cfg *c)
{
    c->password_secret = read_required_secret(r, c, "PAYMENT_PASSWORD_SECRET");
    if (c->password_secret || c->mode != CFG_MODE_LOCAL)
        return;
    if (!c->history_cipher.key || !c->history_cipher.iv)
        return; /* already reported as missing */
    c->password_secret = derive_password_secret(&c->history_cipher);
    if (!c->password_secret)
        reader_fail(r, "PAYMENT_PASSWORD_SECRET: cannot derive the default from PAYMENT_HISTORY_ENCRYPTION_KEY");
}

/* Required: an unset mode must not quietly mean local, whose vendors are the
 * fake servers on loopback. */
static cfg_mode read_mode(cfg_reader *r)
{
    const char *v = dotenv_get(&r->env, "PAYMENT_MODE");
    if (!v || !*v) {
        reader_missing(r, "PAYMENT_MODE", " (local, dev or real)");
        return CFG_MODE_LOCAL;
    }
    if (strcmp(v, "local") == 0)
        return CFG_MODE_LOCAL;
    if (strcmp(v, "dev") == 0)
        return CFG_MODE_DEV;
    if (strcmp(v, "real") == 0)
        return CFG_MODE_REAL;
    reader_fail(r, "PAYMENT_MODE must be local, dev or real");
    return CFG_MODE_LOCAL;
}

static int is_identifier(const char *s)
{
    if (!s || !(islower((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

static void read_postgres(cfg_reader *r, cfg_postgres *pg)
{
    const char *url = dotenv_get(&r->env, "PAYMENT_POSTGRES_URL");
    pg->url = url && *url ? read_string(r, "PAYMENT_POSTGRES_URL", NULL) : NULL;
    pg->host = read_string(r, "PAYMENT_POSTGRES_HOST", "127.0.0.1");
    pg->port = (int)read_integer(r, "PAYMENT_POSTGRES_PORT", 5432, 1, 65535);
    pg->database = read_string(r, "PAYMENT_POSTGRES_DATABASE", "postgres");
    pg->schema = read_string(r, "PAYMENT_POSTGRES_SCHEMA", "payments");
    pg->username = read_string(r, "PAYMENT_POSTGRES_USERNAME", "postgres");
    pg->username_readonly = read_string(r, "PAYMENT_POSTGRES_USERNAME_READONLY", pg->username);
    pg->password = read_string(r, "PAYMENT_POSTGRES_PASSWORD", "");
    pg->pool_size = (int)read_integer(r, "PAYMENT_POSTGRES_POOL", 4, 1, 64);
    pg->queue_size = (int)read_integer(r, "PAYMENT_POSTGRES_QUEUE", 32768, 16, 1048576);
    if (pg->schema && !is_identifier(pg->schema))
        reader_fail(r, "PAYMENT_POSTGRES_SCHEMA must be a lower-case identifier ([a-z_][a-z0-9_]*)");
}

static char *default_worker_path(void)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return strdup("payments-worker");
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    const char *name = "payments-worker";
    if (!slash || (size_t)(slash - self) + 1 + strlen(name) + 1 > sizeof self)
        return strdup(name);
    strcpy(slash + 1, name);
    return strdup(self);
}

static void read_process_settings(cfg_reader *r, cfg *c)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    c->workers = (int)read_integer(r, "PAYMENT_WORKERS", cpus > 0 ? cpus : 1, 1, 256);
    c->max_body_bytes = (size_t)read_integer(r, "PAYMENT_MAX_BODY_BYTES", 1 << 20, 1024, 1 << 30);
    c->max_header_bytes = (size_t)read_integer(r, "PAYMENT_MAX_HEADER_BYTES", 16 << 10, 1024, 1 << 20);
    c->header_timeout_ms = (uint64_t)read_integer(r, "PAYMENT_HEADER_TIMEOUT_MS", 10000, 10, 3600000);
    c->idle_timeout_ms = (uint64_t)read_integer(r, "PAYMENT_IDLE_TIMEOUT_MS", 60000, 10, 86400000);
    c->drain_timeout_ms = (uint64_t)read_integer(r, "PAYMENT_DRAIN_TIMEOUT_MS", 30000, 10, 86400000);
    c->vendor_timeout_ms = (uint64_t)read_integer(r, "PAYMENT_VENDOR_TIMEOUT_MS", 10000, 10, 600000);
    c->reconcile_interval_ms = (uint64_t)read_integer(r, "PAYMENT_RECONCILE_INTERVAL_MS", 5000, 10, 3600000);
    c->reconcile_after_ms =
        (uint64_t)read_integer(r, "PAYMENT_RECONCILE_AFTER_MS", (long long)c->vendor_timeout_ms + 5000, 0, 86400000);
    c->pid_file = read_string(r, "PAYMENT_PID_FILE", "var/run/payments.pid");
    c->control_socket = read_string(r, "PAYMENT_CONTROL_SOCKET", "var/run/payments.sock");
    c->log_file = read_string(r, "PAYMENT_LOG_FILE", "");
    const char *worker = dotenv_get(&r->env, "PAYMENT_WORKER_BINARY");
    c->worker_path = worker && *worker ? strdup(worker) : default_worker_path();
    if (!c->worker_path)
        reader_fail(r, "PAYMENT_WORKER_BINARY: out of memory");
}

/* The local default webhook secret: hex(HMAC-SHA-256(history key, label)).
 * Every receiver learns the secret, so it must not open an offline guess at
 * anything an operator chose: the history key is random (make run writes
 * it) and never leaves the server, unlike the connection key clients hold. */
static char *derive_webhook_secret(const cfg_cipher *history)
{
    static const char label[] = "payments webhook secret v2";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    int ok = HMAC(EVP_sha256(), history->key, (int)strlen(history->key), (const unsigned char *)label, strlen(label),
                  mac, &mac_len) != NULL;
    char *secret = ok ? digest_text(mac, mac_len) : NULL;
    OPENSSL_cleanse(mac, sizeof mac);
    return secret;
}

/* PAYMENT_WEBHOOK_*: the signing secret (required outside local mode; in
 * local mode derived from the history key, which must have been read
 * first), the timeout of each attempt and the retry schedule. */
static void read_webhook_settings(cfg_reader *r, cfg *c)
{
    c->webhook_secret = read_required_secret(r, c, "PAYMENT_WEBHOOK_SECRET");
    if (!c->webhook_secret && c->mode == CFG_MODE_LOCAL && c->history_cipher.key) {
        c->webhook_secret = derive_webhook_secret(&c->history_cipher);
        if (!c->webhook_secret)
            reader_fail(r, "PAYMENT_WEBHOOK_SECRET: cannot derive the default from PAYMENT_HISTORY_ENCRYPTION_KEY");
    }
    c->webhook_timeout_ms = (uint64_t)read_integer(r, "PAYMENT_WEBHOOK_TIMEOUT_MS", 10000, 10, 600000);
    c->webhook_poll_ms = (uint64_t)read_integer(r, "PAYMENT_WEBHOOK_POLL_MS", 200, 10, 3600000);
    const char *schedule = dotenv_get(&r->env, "PAYMENT_WEBHOOK_RETRY_SCHEDULE");
    char why[160];
    if (webhook_schedule_parse(&c->webhook_retry, schedule && *schedule ? schedule : WEBHOOK_SCHEDULE_DEFAULT, why,
                               sizeof why) < 0)
        reader_fail(r, "PAYMENT_WEBHOOK_RETRY_SCHEDULE: %s", why);
}

/* The limits on guessing and on webhook rates, and the operators'
 * listener; its port must differ from the API's and the updater's. */
static void read_limit_settings(cfg_reader *r, cfg *c)
{
    c->guess_free = (unsigned)read_integer(r, "PAYMENT_GUESS_FREE", 5, 0, 1000);
    c->guess_delay_ms = read_duration(r, "PAYMENT_GUESS_DELAY", "1s", 86400000);
    c->guess_delay_max_ms = read_duration(r, "PAYMENT_GUESS_DELAY_MAX", "15m", 7ULL * 86400000);
    if (c->guess_delay_max_ms && c->guess_delay_max_ms < c->guess_delay_ms)
        reader_fail(r, "PAYMENT_GUESS_DELAY_MAX must not be shorter than PAYMENT_GUESS_DELAY");
    c->webhook_rate = (unsigned)read_integer(r, "PAYMENT_WEBHOOK_RATE", 20, 1, 1000000);
    c->webhook_burst = (unsigned)read_integer(r, "PAYMENT_WEBHOOK_BURST", 200, 1, 1000000);
    c->admin_host = read_string(r, "PAYMENT_ADMIN_HOST", "127.0.0.1");
    c->admin_port = (int)read_integer(r, "PAYMENT_ADMIN_PORT", 37822, 0, 65535);
    if (c->admin_port && (c->admin_port == c->api_port || c->admin_port == c->updator_port))
        reader_fail(r, "PAYMENT_ADMIN_PORT must differ from PAYMENT_API_PORT and PAYMENT_UPDATOR_PORT");
}

/* PAYMENT_WEBHOOK_ALLOW_HOSTS, read whole here so that a malformed entry
 * stops start-up instead of refusing deliveries later. */
static void read_webhook_destination_settings(cfg_reader *r, cfg *c)
{
    char why[160];
    if (host_allow_list_parse(&c->webhook_allow_hosts, dotenv_get(&r->env, "PAYMENT_WEBHOOK_ALLOW_HOSTS"), why,
                              sizeof why) < 0)
        reader_fail(r, "PAYMENT_WEBHOOK_ALLOW_HOSTS: %s", why);
}

/* PAYMENT_SYSTEM_PASSWORD (the mode must have been read first): outside
 * local mode it guards money-moving operator routes on a reachable server,
 * so a short or well-known one is refused. */
static void read_system_password(cfg_reader *r, cfg *c)
{
    c->system_password = read_string(r, "PAYMENT_SYSTEM_PASSWORD", NULL);
    char why[160];
    if (c->system_password && c->mode != CFG_MODE_LOCAL &&
        secret_strength_password("PAYMENT_SYSTEM_PASSWORD", c->system_password, why, sizeof why) < 0)
        reader_fail(r, "%s", why);
}

/* PAYMENT_USER: resolved by the master (master/privilege.c), which alone
 * knows whether it runs as root. */
static void read_privilege_settings(cfg_reader *r, cfg *c)
{
    c->user = read_string(r, "PAYMENT_USER", "payments");
}

static void read_all(cfg_reader *r, cfg *c)
{
    c->mode = read_mode(r);
    c->host = read_string(r, "PAYMENT_API_HOST", "0.0.0.0");
    c->api_port = (int)read_integer(r, "PAYMENT_API_PORT", 37821, 0, 65535);
    c->updator_port = (int)read_integer(r, "PAYMENT_UPDATOR_PORT", 37820, 0, 65535);
    read_system_password(r, c);
    read_postgres(r, &c->postgres);
    read_cipher(r, &c->connection_cipher, "PAYMENT_CONNECTION_ENCRYPTION_KEY", "PAYMENT_CONNECTION_ENCRYPTION_IV");
    read_cipher(r, &c->history_cipher, "PAYMENT_HISTORY_ENCRYPTION_KEY", "PAYMENT_HISTORY_ENCRYPTION_IV");
    read_cipher(r, &c->reservation_cipher, "PAYMENT_RESERVATION_ENCRYPTION_KEY", "PAYMENT_RESERVATION_ENCRYPTION_IV");
    read_cipher(r, &c->cancel_history_cipher, "PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY",
                "PAYMENT_CANCEL_HISTORY_ENCRYPTION_IV");
    read_password_secret(r, c);
    const char *stores = dotenv_get(&r->env, "PAYMENT_VENDOR_STORES_FILE");
    c->vendor_stores_file = stores && *stores ? read_string(r, "PAYMENT_VENDOR_STORES_FILE", NULL) : NULL;
    read_process_settings(r, c);
    read_webhook_settings(r, c);
    c->idempotency_ttl_ms = read_duration(r, "PAYMENT_IDEMPOTENCY_TTL", "24h", 30ULL * 86400000);
    read_limit_settings(r, c);
    read_webhook_destination_settings(r, c);
    read_privilege_settings(r, c);
}

/* Safe defaults outside local mode: the one explicit way to let vendor URLs
 * reach internal hosts there. */
static void read_safe_defaults(cfg_reader *r, cfg *c)
{
    c->vendor_allow_internal = read_integer(r, "PAYMENT_VENDOR_ALLOW_INTERNAL", 0, 0, 1) == 1;
}

/* Routing: where the routing table lives (checked when it is read). */
static void read_routing_settings(cfg_reader *r, cfg *c)
{
    const char *routes = dotenv_get(&r->env, "PAYMENT_ROUTES_FILE");
    c->routes_file = routes && *routes ? read_string(r, "PAYMENT_ROUTES_FILE", NULL) : NULL;
}

/* The vendor circuit breakers: how many failures open one, how long it stays
 * open before a trial call. */
static void read_circuit_settings(cfg_reader *r, cfg *c)
{
    c->circuit_failures = (unsigned)read_integer(r, "PAYMENT_CIRCUIT_FAILURES", 5, 0, 1000000);
    c->circuit_cooldown_ms = read_duration(r, "PAYMENT_CIRCUIT_COOLDOWN", "30s", 86400000);
}

/* The log lines' shape: text for a terminal, json for a log pipeline. */
static void read_log_format(cfg_reader *r, cfg *c)
{
    const char *format = dotenv_get(&r->env, "PAYMENT_LOG_FORMAT");
    if (!format || !*format || strcmp(format, "text") == 0)
        c->log_format = LOG_FORMAT_TEXT;
    else if (strcmp(format, "json") == 0)
        c->log_format = LOG_FORMAT_JSON;
    else
        reader_fail(r, "PAYMENT_LOG_FORMAT must be text or json");
}

/* Subscriptions: the scheduler's pace, dunning, the test clock (refused
 * outside local mode: a server that bills real cards takes the real time),
 * and the alerts' destination. */
static void read_subscription_settings(cfg_reader *r, cfg *c)
{
    c->scheduler_interval_ms = read_duration(r, "PAYMENT_SCHEDULER_INTERVAL", "10s", 3600000);
    const char *dunning = dotenv_get(&r->env, "PAYMENT_DUNNING_SCHEDULE");
    char why[160];
    if (dunning_schedule_parse(&c->dunning, dunning && *dunning ? dunning : DUNNING_SCHEDULE_DEFAULT, why, sizeof why) <
        0)
        reader_fail(r, "PAYMENT_DUNNING_SCHEDULE: %s", why);
    const char *clock = dotenv_get(&r->env, "PAYMENT_TEST_CLOCK");
    if (clock && *clock && c->mode != CFG_MODE_LOCAL)
        reader_fail(r, "PAYMENT_TEST_CLOCK is refused in %s mode: only a local server may bill by a test clock",
                    cfg_mode_name(c->mode));
    else if (clock && *clock)
        c->test_clock = read_string(r, "PAYMENT_TEST_CLOCK", NULL);
    const char *alert = dotenv_get(&r->env, "PAYMENT_ALERT_WEBHOOK_URL");
    if (alert && *alert)
        c->alert_webhook_url = read_string(r, "PAYMENT_ALERT_WEBHOOK_URL", NULL);
    c->alert_failure_run = (unsigned)read_integer(r, "PAYMENT_ALERT_FAILURE_RUN", 5, 0, 1000000);
}

/* The limits that keep a worker answering under load: how many vendor calls
 * may wait at once and how many client connections may be open (each a
 * descriptor; the descriptor limit must allow both, see README). */
static void read_capacity_settings(cfg_reader *r, cfg *c)
{
    c->vendor_concurrency = (unsigned)read_integer(r, "PAYMENT_VENDOR_CONCURRENCY", 2048, 0, 1000000);
    c->max_connections = (unsigned)read_integer(r, "PAYMENT_MAX_CONNECTIONS", 16384, 0, 1000000);
}

int cfg_load(cfg *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    cfg_reader r = {.err = err, .errlen = errlen};
    const char *path = getenv("PAYMENT_ENV_FILE");
    int required = path && *path;
    if (!required)
        path = ".env";
    r.path = path;
    if (dotenv_load(&r.env, path, required, err, errlen) < 0) {
        dotenv_free(&r.env);
        return -1;
    }
    if (access(path, R_OK) == 0)
        c->env_file = strdup(path);
    read_all(&r, c);
    read_safe_defaults(&r, c);
    read_routing_settings(&r, c);
    read_circuit_settings(&r, c);
    read_log_format(&r, c);
    read_subscription_settings(&r, c);
    if (!r.failed && cfg_keys_read(c, &r.env, err, errlen) < 0)
        r.failed = 1;
    read_capacity_settings(&r, c);
    c->settings = r.env; /* kept for cfg_setting */
    if (r.failed) {
        cfg_free(c);
        return -1;
    }
    return 0;
}

static void free_cipher(cfg_cipher *c)
{
    free(c->key);
    free(c->iv);
}

void cfg_free(cfg *c)
{
    cfg_keys_free(c);
    free(c->test_clock);
    free(c->alert_webhook_url);
    free(c->env_file);
    free(c->host);
    free(c->system_password);
    free(c->postgres.url);
    free(c->postgres.host);
    free(c->postgres.database);
    free(c->postgres.schema);
    free(c->postgres.username);
    free(c->postgres.username_readonly);
    free(c->postgres.password);
    free_cipher(&c->connection_cipher);
    free_cipher(&c->history_cipher);
    free_cipher(&c->reservation_cipher);
    free_cipher(&c->cancel_history_cipher);
    crypto_secret_free(c->password_secret);
    free(c->vendor_stores_file);
    free(c->pid_file);
    free(c->control_socket);
    free(c->log_file);
    free(c->worker_path);
    crypto_secret_free(c->webhook_secret);
    free(c->admin_host);
    host_allow_list_free(&c->webhook_allow_hosts);
    free(c->user);
    dotenv_free(&c->settings);
    free(c->routes_file);
    memset(c, 0, sizeof *c);
}

const char *cfg_setting(const cfg *c, const char *name)
{
    const char *value = dotenv_get(&c->settings, name);
    return value && *value ? value : NULL;
}

const char *cfg_mode_name(cfg_mode mode)
{
    return mode == CFG_MODE_REAL ? "real" : mode == CFG_MODE_DEV ? "dev" : "local";
}

/* Quotes a value for a key=value conninfo string: 'a\'b'. */
static void append_conninfo_value(char *out, size_t cap, const char *key, const char *value)
{
    size_t n = strlen(out);
    n += (size_t)snprintf(out + n, cap > n ? cap - n : 0, "%s%s='", n ? " " : "", key);
    for (; *value && n + 3 < cap; value++) {
        if (*value == '\'' || *value == '\\')
            out[n++] = '\\';
        out[n++] = *value;
    }
    if (n + 2 <= cap) {
        out[n++] = '\'';
        out[n] = '\0';
    }
}

char *cfg_postgres_conninfo(const cfg *c)
{
    const cfg_postgres *pg = &c->postgres;
    if (pg->url)
        return strdup(pg->url);
    size_t cap = 64 + 2 * (strlen(pg->host) + strlen(pg->database) + strlen(pg->username) + strlen(pg->password));
    char *out = calloc(1, cap);
    if (!out)
        return NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", pg->port);
    append_conninfo_value(out, cap, "host", pg->host);
    append_conninfo_value(out, cap, "port", port);
    append_conninfo_value(out, cap, "dbname", pg->database);
    append_conninfo_value(out, cap, "user", pg->username);
    if (*pg->password)
        append_conninfo_value(out, cap, "password", pg->password);
    return out;
}
