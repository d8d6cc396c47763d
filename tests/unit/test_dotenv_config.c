/* Unit tests of .env parsing (quotes, comments, ${VAR} expansion, errors)
 * and of configuration loading (defaults, validation naming the variable,
 * the stricter rules of dev and real mode). */
#include "address_class.h"
#include "config.h"
#include "config_vendor_url.h"
#include "dotenv.h"
#include "unit.h"
#include "vendor.h"

#include <netdb.h>
#include <stdlib.h>
#include <unistd.h>

UNIT_CASE(parse_forms, NULL)
{
    dotenv env = {0};
    char err[200];
    const char *text = "# a comment\n"
                       "PLAIN=value\n"
                       "export EXPORTED = spaced  \n"
                       "SINGLE='lit ${PLAIN} # not a comment'\n"
                       "DOUBLE=\"a\\nb ${PLAIN}\"\n"
                       "BARE=x${PLAIN}y # trailing comment\n"
                       "HASH=a#b\n"
                       "EMPTY=\n"
                       "CRLF=yes\r\n"
                       "\n";
    CHECK(dotenv_parse(&env, text, err, sizeof err) == 0);
    CHECK_STR(dotenv_get(&env, "PLAIN"), "value");
    CHECK_STR(dotenv_get(&env, "EXPORTED"), "spaced");
    CHECK_STR(dotenv_get(&env, "SINGLE"), "lit ${PLAIN} # not a comment");
    CHECK_STR(dotenv_get(&env, "DOUBLE"), "a\nb value");
    CHECK_STR(dotenv_get(&env, "BARE"), "xvaluey");
    CHECK_STR(dotenv_get(&env, "HASH"), "a#b");
    CHECK_STR(dotenv_get(&env, "EMPTY"), "");
    CHECK_STR(dotenv_get(&env, "CRLF"), "yes");
    CHECK(dotenv_get(&env, "MISSING_KEY_XYZ") == NULL);
    dotenv_free(&env);
}

UNIT_CASE(environment_wins_and_expands, NULL)
{
    setenv("UNIT_FROM_ENV", "env", 1);
    dotenv env = {0};
    char err[200];
    CHECK(dotenv_parse(&env, "UNIT_FROM_ENV=file\nUSES=${UNIT_FROM_ENV}-${UNKNOWN_NAME_Q}\n", err, sizeof err) == 0);
    CHECK_STR(dotenv_get(&env, "UNIT_FROM_ENV"), "env");
    CHECK_STR(dotenv_get(&env, "USES"), "env-");
    dotenv_free(&env);
    unsetenv("UNIT_FROM_ENV");
}

UNIT_CASE(parse_errors, NULL)
{
    const char *bad[] = {"NOEQUALS\n", "OK=1\n=value\n", "Q=\"unterminated\n", "S='open\n", "E=${OPEN\n"};
    const char *where[] = {"line 1", "line 2", "line 1", "line 1", "line 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dotenv env = {0};
        char err[200] = "";
        CHECK(dotenv_parse(&env, bad[i], err, sizeof err) == -1);
        CHECK(strncmp(err, where[i], strlen(where[i])) == 0);
        dotenv_free(&env);
    }
}

/* The suite runs with the test database's PAYMENT_* settings exported;
 * these tests describe the configuration from a clean environment. */
static bool clear_payment_environment(void)
{
    extern char **environ;
    for (size_t i = 0; environ[i];) {
        char name[256];
        size_t n = strcspn(environ[i], "=");
        if (strncmp(environ[i], "PAYMENT_", 8) == 0 && n < sizeof name) {
            memcpy(name, environ[i], n);
            name[n] = '\0';
            unsetenv(name);
        } else {
            i++;
        }
    }
    return true;
}

static const unit_fixture clean_environment = {"clean environment", clear_payment_environment, NULL};

static const char *required[][2] = {
    {"PAYMENT_MODE", "local"},
    {"PAYMENT_SYSTEM_PASSWORD", "secret"},
    {"PAYMENT_CONNECTION_ENCRYPTION_KEY", "0123456789abcdef0123456789abcdef"},
    {"PAYMENT_CONNECTION_ENCRYPTION_IV", "0123456789abcdef"},
    {"PAYMENT_HISTORY_ENCRYPTION_KEY", "0123456789abcdef"},
    {"PAYMENT_HISTORY_ENCRYPTION_IV", "0123456789abcdef"},
    {"PAYMENT_RESERVATION_ENCRYPTION_KEY", "0123456789abcdef"},
    {"PAYMENT_RESERVATION_ENCRYPTION_IV", "0123456789abcdef"},
    {"PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY", "0123456789abcdef"},
    {"PAYMENT_CANCEL_HISTORY_ENCRYPTION_IV", "0123456789abcdef"},
};

/* The required settings, and no .env file, whatever ran before. */
static void set_required(void)
{
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        setenv(required[i][0], required[i][1], 1);
    setenv("PAYMENT_ENV_FILE", "", 1);
}

UNIT_CASE(config_defaults, &clean_environment)
{
    set_required();
    cfg c;
    char err[256] = "";
    int rc = cfg_load(&c, err, sizeof err);
    CHECK(rc == 0);
    if (rc != 0) {
        fprintf(stderr, "cfg_load: %s\n", err);
        return;
    }
    CHECK(c.mode == CFG_MODE_LOCAL);
    CHECK(c.api_port == 37821);
    CHECK(c.updator_port == 37820);
    CHECK(c.workers >= 1);
    CHECK_STR(c.postgres.schema, "payments");
    /* Variables no member holds are kept by name; an empty one is unset. */
    CHECK_STR(cfg_setting(&c, "PAYMENT_MODE"), "local");
    CHECK(cfg_setting(&c, "PAYMENT_ENV_FILE") == NULL);
    CHECK(cfg_setting(&c, "PAYMENT_NO_SUCH_SETTING") == NULL);
    /* The adapters' accounts default to the fake servers' in local mode. */
    CHECK_STR(vendor_settings_key(&c, vendor_find("iamport")), "test_imp_key");
    CHECK_STR(vendor_settings_url(&c, vendor_find("iamport")), "http://127.0.0.1:10851");
    CHECK(vendor_settings_check(&c, err, sizeof err) == 0);
    char *conninfo = cfg_postgres_conninfo(&c);
    CHECK_STR(conninfo, "host='127.0.0.1' port='5432' dbname='postgres' user='postgres'");
    free(conninfo);
    cfg_free(&c);
}

/* Sets name=value, loads, and checks that the error names the variable. */
static void expect_rejected(const char *name, const char *value)
{
    set_required();
    setenv(name, value, 1);
    cfg c;
    char err[256] = "";
    CHECK(cfg_load(&c, err, sizeof err) == -1);
    CHECK(strstr(err, name) != NULL);
    unsetenv(name);
}

UNIT_CASE(config_rejects, &clean_environment)
{
    expect_rejected("PAYMENT_API_PORT", "70000");
    expect_rejected("PAYMENT_API_PORT", "12ab");
    expect_rejected("PAYMENT_MODE", "production");
    expect_rejected("PAYMENT_WORKERS", "0");
    expect_rejected("PAYMENT_CONNECTION_ENCRYPTION_KEY", "short");
    expect_rejected("PAYMENT_HISTORY_ENCRYPTION_IV", "0123");
    expect_rejected("PAYMENT_POSTGRES_SCHEMA", "bad-name;drop");
    set_required();
    unsetenv("PAYMENT_SYSTEM_PASSWORD");
    cfg c;
    char err[256] = "";
    CHECK(cfg_load(&c, err, sizeof err) == -1);
    CHECK_STR(err, "PAYMENT_SYSTEM_PASSWORD is not set");
    /* Outside local mode vendor credentials have no default: the adapters'
     * start-up check refuses them. */
    set_required();
    setenv("PAYMENT_MODE", "real", 1);
    setenv("PAYMENT_SYSTEM_PASSWORD", "7f3a9c1e5b2d8f4a", 1);
    setenv("PAYMENT_PASSWORD_SECRET", "e0c4b8a2f6d1c9e7b3a5f8d2c6e1b4a9", 1);
    setenv("PAYMENT_WEBHOOK_SECRET", "5d0f3b8e1a7c4f2d9b6e0a3c8f1d7b4e", 1);
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(vendor_settings_check(&c, err, sizeof err) == -1);
    CHECK_STR(err, "PAYMENT_IAMPORT_KEY is not set");
    cfg_free(&c);
    unsetenv("PAYMENT_PASSWORD_SECRET");
    unsetenv("PAYMENT_WEBHOOK_SECRET");
    set_required();
}

/* PAYMENT_PASSWORD_SECRET: set wins; unset derives a value from the history
 * key and IV (expected value from Python's hashlib.sha256 over
 * "payments password secret v1" || key || IV), which follows that key. */
UNIT_CASE(password_secret, &clean_environment)
{
    set_required();
    unsetenv("PAYMENT_PASSWORD_SECRET");
    cfg c;
    char err[256] = "";
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK_STR(c.password_secret, "340befc77865eefc52ee15d011449ed781505af63de036af37075e1f441a7d42");
    cfg_free(&c);
    setenv("PAYMENT_HISTORY_ENCRYPTION_KEY", "fedcba9876543210", 1);
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(c.password_secret && strlen(c.password_secret) == 64 &&
          strcmp(c.password_secret, "340befc77865eefc52ee15d011449ed781505af63de036af37075e1f441a7d42") != 0);
    cfg_free(&c);
    setenv("PAYMENT_PASSWORD_SECRET", "an explicit secret", 1);
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK_STR(c.password_secret, "an explicit secret");
    cfg_free(&c);
    unsetenv("PAYMENT_PASSWORD_SECRET");
    set_required();
}

/* Key rotation: previous keys as key:iv pairs, the connection key's grace. */
UNIT_CASE(previous_keys_settings, &clean_environment)
{
    set_required();
    /* A ':' inside a key is fine: the IV is the last 16 characters. */
    setenv("PAYMENT_HISTORY_ENCRYPTION_KEYS_PREVIOUS",
           "history-key-A-0123456789abcdef01:history-iv-A-012,key:with:colon16:history-iv-Z-012", 1);
    setenv("PAYMENT_CONNECTION_ENCRYPTION_KEY_PREVIOUS", "connection-key-A", 1);
    setenv("PAYMENT_CONNECTION_ENCRYPTION_IV_PREVIOUS", "connection-iv-A1", 1);
    setenv("PAYMENT_CONNECTION_KEY_GRACE_UNTIL", "2027-01-31T12:00:00Z", 1);
    cfg c;
    char err[256] = "";
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(c.history_previous.count == 2);
    CHECK_STR(c.history_previous.keys[0].key, "history-key-A-0123456789abcdef01");
    CHECK_STR(c.history_previous.keys[0].iv, "history-iv-A-012");
    CHECK_STR(c.history_previous.keys[1].key, "key:with:colon16");
    CHECK(c.reservation_previous.count == 0);
    CHECK_STR(c.connection_previous.key, "connection-key-A");
    CHECK(c.connection_grace_until_ms == 1801396800000LL);
    cfg_free(&c);
    unsetenv("PAYMENT_HISTORY_ENCRYPTION_KEYS_PREVIOUS");
    unsetenv("PAYMENT_CONNECTION_ENCRYPTION_KEY_PREVIOUS");
    unsetenv("PAYMENT_CONNECTION_ENCRYPTION_IV_PREVIOUS");
    unsetenv("PAYMENT_CONNECTION_KEY_GRACE_UNTIL");

    expect_rejected("PAYMENT_HISTORY_ENCRYPTION_KEYS_PREVIOUS", "history-key-A-0123456789abcdef01");
    expect_rejected("PAYMENT_RESERVATION_ENCRYPTION_KEYS_PREVIOUS", "short:reservation-ivA1");
    expect_rejected("PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEYS_PREVIOUS",
                    "cancel-key-A-012:cancel-iv-A-0123,cancel-key-C-012:cancel-iv-C-0123,"
                    "cancel-key-D-012:cancel-iv-D-0123,cancel-key-E-012:cancel-iv-E-0123");
    /* A previous connection key without an end of its grace, or the reverse. */
    expect_rejected("PAYMENT_CONNECTION_KEY_GRACE_UNTIL", "2027-01-31T12:00:00Z");
    set_required();
    setenv("PAYMENT_CONNECTION_ENCRYPTION_KEY_PREVIOUS", "connection-key-A", 1);
    setenv("PAYMENT_CONNECTION_ENCRYPTION_IV_PREVIOUS", "connection-iv-A1", 1);
    expect_rejected("PAYMENT_CONNECTION_KEY_GRACE_UNTIL", "tomorrow");
    unsetenv("PAYMENT_CONNECTION_ENCRYPTION_KEY_PREVIOUS");
    unsetenv("PAYMENT_CONNECTION_ENCRYPTION_IV_PREVIOUS");
    set_required();
}

UNIT_CASE(config_from_file, &clean_environment)
{
    char path[] = "/tmp/payments-unit-env-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *text = "PAYMENT_API_PORT=4100\nBASE=abcdefgh\nPAYMENT_SYSTEM_PASSWORD=\"${BASE}${BASE}\"\n"
                       "PAYMENT_POSTGRES_URL=postgresql://u@127.0.0.1:5/db\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    set_required();
    unsetenv("PAYMENT_SYSTEM_PASSWORD");
    setenv("PAYMENT_ENV_FILE", path, 1);
    cfg c;
    char err[256] = "";
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(c.api_port == 4100);
    CHECK_STR(c.system_password, "abcdefghabcdefgh");
    CHECK_STR(c.env_file, path);
    char *conninfo = cfg_postgres_conninfo(&c);
    CHECK_STR(conninfo, "postgresql://u@127.0.0.1:5/db");
    free(conninfo);
    cfg_free(&c);
    unlink(path);
    /* A named file that does not exist is an error, naming the file. */
    CHECK(cfg_load(&c, err, sizeof err) == -1);
    CHECK(strstr(err, path) != NULL);
    unsetenv("PAYMENT_ENV_FILE");
}

/* The limits on guessing and on webhook rates, and the operators' listener:
 * defaults, and refusals that name the variable. */
UNIT_CASE(limit_settings, &clean_environment)
{
    set_required();
    cfg c;
    char err[256] = "";
    if (!CHECK(cfg_load(&c, err, sizeof err) == 0))
        return;
    CHECK(c.guess_free == 5 && c.guess_delay_ms == 1000 && c.guess_delay_max_ms == 15 * 60 * 1000);
    CHECK(c.webhook_rate == 20 && c.webhook_burst == 200);
    CHECK_STR(c.admin_host, "127.0.0.1");
    CHECK(c.admin_port == 37822);
    cfg_free(&c);
    expect_rejected("PAYMENT_GUESS_FREE", "-1");
    expect_rejected("PAYMENT_GUESS_DELAY", "soon");
    expect_rejected("PAYMENT_WEBHOOK_RATE", "0");
    expect_rejected("PAYMENT_ADMIN_PORT", "37821"); /* the API's */
    expect_rejected("PAYMENT_ADMIN_PORT", "37820"); /* the updater's */
    setenv("PAYMENT_GUESS_DELAY", "10m", 1);
    expect_rejected("PAYMENT_GUESS_DELAY_MAX", "1m");
    unsetenv("PAYMENT_GUESS_DELAY");
}

/* The circuit breakers' settings, and each adapter's own timeout, which
 * defaults to PAYMENT_VENDOR_TIMEOUT_MS and may not exceed it. */
UNIT_CASE(circuit_and_vendor_timeouts, &clean_environment)
{
    set_required();
    cfg c;
    char err[256] = "";
    if (!CHECK(cfg_load(&c, err, sizeof err) == 0))
        return;
    CHECK(c.circuit_failures == 5 && c.circuit_cooldown_ms == 30000);
    CHECK(vendor_settings_timeout_ms(&c, vendor_find("iamport")) == 10000);
    cfg_free(&c);
    expect_rejected("PAYMENT_CIRCUIT_FAILURES", "-1");
    expect_rejected("PAYMENT_CIRCUIT_COOLDOWN", "soon");
    set_required();
    setenv("PAYMENT_IAMPORT_TIMEOUT_MS", "500", 1);
    setenv("PAYMENT_CIRCUIT_COOLDOWN", "250ms", 1);
    if (!CHECK(cfg_load(&c, err, sizeof err) == 0))
        return;
    CHECK(c.circuit_cooldown_ms == 250);
    CHECK(vendor_settings_timeout_ms(&c, vendor_find("iamport")) == 500);
    for (size_t i = 0; i < vendor_count(); i++)
        if (strcmp(vendor_at(i)->code, "iamport") != 0)
            CHECK(vendor_settings_timeout_ms(&c, vendor_at(i)) == 10000);
    CHECK(vendor_settings_check(&c, err, sizeof err) == 0);
    cfg_free(&c);
    const char *refused[] = {"20000", "5", "fast", "100ms"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        setenv("PAYMENT_IAMPORT_TIMEOUT_MS", refused[i], 1);
        if (!CHECK(cfg_load(&c, err, sizeof err) == 0))
            return;
        CHECK(vendor_settings_check(&c, err, sizeof err) == -1);
        CHECK(strstr(err, "PAYMENT_IAMPORT_TIMEOUT_MS") != NULL);
        cfg_free(&c);
    }
    unsetenv("PAYMENT_IAMPORT_TIMEOUT_MS");
    unsetenv("PAYMENT_CIRCUIT_COOLDOWN");
}

/* PAYMENT_WEBHOOK_ALLOW_HOSTS: read into a list; a malformed entry stops
 * start-up naming the variable. */
UNIT_CASE(webhook_allow_hosts, &clean_environment)
{
    set_required();
    setenv("PAYMENT_WEBHOOK_ALLOW_HOSTS", "hooks.internal, 10.0.0.0/8", 1);
    cfg c;
    char err[256] = "";
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(c.webhook_allow_hosts.count == 2);
    CHECK(host_allow_list_has_host(&c.webhook_allow_hosts, "hooks.internal"));
    CHECK(host_allow_list_has_host(&c.webhook_allow_hosts, "10.1.2.3"));
    cfg_free(&c);
    expect_rejected("PAYMENT_WEBHOOK_ALLOW_HOSTS", "hooks.internal, 10.0.0.0/40");
    unsetenv("PAYMENT_WEBHOOK_ALLOW_HOSTS");
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(c.webhook_allow_hosts.count == 0);
    cfg_free(&c);
}

/* ---- dev and real mode: no unsafe default ---- */

static const char *strong[][2] = {
    {"PAYMENT_SYSTEM_PASSWORD", "q9Vx2Lm7Rt4Kp8Zw"},
    {"PAYMENT_WEBHOOK_SECRET", "5d0f3b8e1a7c4f2d9b6e0a3c8f1d7b4e"},
    {"PAYMENT_PASSWORD_SECRET", "a8e3c1f7d2b9e4a6c0f5d8b3e7a1c4f9"},
    {"PAYMENT_IAMPORT_KEY", "imp_key"},
    {"PAYMENT_IAMPORT_SECRET", "imp_secret"},
    {"PAYMENT_TOSS_PAYMENTS_SECRET", "toss_secret"},
    {"PAYMENT_INICIS_MID", "inicis_mid"},
    {"PAYMENT_INICIS_KEY", "inicis_key_16byt"},
    {"PAYMENT_INICIS_IV", "inicis_iv_16byte"},
};

/* Everything dev or real mode asks for, with the vendors' own URLs. */
static void set_outside_local(const char *mode)
{
    set_required();
    setenv("PAYMENT_MODE", mode, 1);
    for (size_t i = 0; i < sizeof strong / sizeof strong[0]; i++)
        setenv(strong[i][0], strong[i][1], 1);
    unsetenv("PAYMENT_IAMPORT_URL");
    unsetenv("PAYMENT_TOSS_PAYMENTS_URL");
    unsetenv("PAYMENT_INICIS_URL");
    unsetenv("PAYMENT_VENDOR_ALLOW_INTERNAL");
}

/* Dev or real mode with name set to value (unset when NULL). */
static void set_outside_local_but(const char *mode, const char *name, const char *value)
{
    set_outside_local(mode);
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
}

/* cfg_load refuses, naming name and never quoting the value it was given. */
static void expect_refused_outside_local(const char *mode, const char *name, const char *value)
{
    set_outside_local_but(mode, name, value);
    cfg c;
    char err[256] = "";
    CHECK(cfg_load(&c, err, sizeof err) == -1);
    CHECK(strncmp(err, name, strlen(name)) == 0);
    CHECK(!value || strstr(err, value) == NULL);
    if (strncmp(err, name, strlen(name)) != 0)
        fprintf(stderr, "%s %s: %s\n", mode, name, err);
}

/* The configuration loads, and the start-up check of the adapters'
 * settings refuses it with message. */
static void expect_vendor_refused(const char *mode, const char *name, const char *value, const char *message)
{
    set_outside_local_but(mode, name, value);
    cfg c;
    char err[256] = "";
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(vendor_settings_check(&c, err, sizeof err) == -1);
    CHECK_STR(err, message);
    cfg_free(&c);
}

UNIT_CASE(mode_is_required, &clean_environment)
{
    set_required();
    unsetenv("PAYMENT_MODE");
    cfg c;
    char err[256] = "";
    CHECK(cfg_load(&c, err, sizeof err) == -1);
    CHECK_STR(err, "PAYMENT_MODE is not set (local, dev or real)");
    setenv("PAYMENT_MODE", "", 1);
    CHECK(cfg_load(&c, err, sizeof err) == -1);
    CHECK_STR(err, "PAYMENT_MODE is not set (local, dev or real)");
}

UNIT_CASE(secrets_outside_local, &clean_environment)
{
    const char *modes[] = {"dev", "real"};
    for (size_t i = 0; i < 2; i++) {
        set_outside_local(modes[i]);
        cfg c;
        char err[256] = "";
        CHECK(cfg_load(&c, err, sizeof err) == 0);
        CHECK_STR(c.webhook_secret, "5d0f3b8e1a7c4f2d9b6e0a3c8f1d7b4e");
        CHECK_STR(c.password_secret, "a8e3c1f7d2b9e4a6c0f5d8b3e7a1c4f9");
        CHECK_STR(vendor_settings_url(&c, vendor_find("iamport")), "https://api.iamport.kr");
        CHECK_STR(vendor_settings_url(&c, vendor_find("toss.payments")), "https://api.tosspayments.com");
        CHECK_STR(vendor_settings_secret(&c, vendor_find("toss.payments")), "toss_secret");
        CHECK(!c.vendor_allow_internal);
        cfg_free(&c);
        expect_vendor_refused(modes[i], "PAYMENT_IAMPORT_KEY", NULL, "PAYMENT_IAMPORT_KEY is not set");
        expect_vendor_refused(modes[i], "PAYMENT_TOSS_PAYMENTS_SECRET", NULL,
                              "PAYMENT_TOSS_PAYMENTS_SECRET is not set");
        expect_vendor_refused(modes[i], "PAYMENT_INICIS_IV", NULL, "PAYMENT_INICIS_IV is not set");
        expect_vendor_refused(modes[i], "PAYMENT_TOSS_PAYMENTS_URL", "ftp://toss",
                              "PAYMENT_TOSS_PAYMENTS_URL must start with http:// or https://");
        expect_refused_outside_local(modes[i], "PAYMENT_WEBHOOK_SECRET", NULL);
        expect_refused_outside_local(modes[i], "PAYMENT_WEBHOOK_SECRET", "only-31-characters-long-0123456");
        expect_refused_outside_local(modes[i], "PAYMENT_PASSWORD_SECRET", NULL);
        expect_refused_outside_local(modes[i], "PAYMENT_PASSWORD_SECRET", "short password secret");
        expect_refused_outside_local(modes[i], "PAYMENT_SYSTEM_PASSWORD", "15-characters-x");
        expect_refused_outside_local(modes[i], "PAYMENT_SYSTEM_PASSWORD", "Test-System-Password");
        expect_refused_outside_local(modes[i], "PAYMENT_SYSTEM_PASSWORD", "PASSWORDPASSWORD");
        expect_refused_outside_local(modes[i], "PAYMENT_SYSTEM_PASSWORD", "aaaaaaaaaaaaaaaaaaaa");
        expect_refused_outside_local(modes[i], "PAYMENT_VENDOR_ALLOW_INTERNAL", "yes");
    }
    /* Local mode asks for none of it: the test suites' weak password and no
     * secrets still start a local server. */
    clear_payment_environment();
    set_required();
    cfg c;
    char err[256] = "";
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(c.webhook_secret && strlen(c.webhook_secret) == 64);
    CHECK(c.password_secret && strlen(c.password_secret) == 64);
    cfg_free(&c);
}

/* Loads dev mode with PAYMENT_IAMPORT_URL=url; returns what the start-up
 * check of the vendor URLs says, its message in err. */
static int vendor_url_verdict(const char *url, const char *allow, char *err, size_t errlen)
{
    set_outside_local("dev");
    setenv("PAYMENT_IAMPORT_URL", url, 1);
    if (allow)
        setenv("PAYMENT_VENDOR_ALLOW_INTERNAL", allow, 1);
    cfg c;
    if (cfg_load(&c, err, errlen) < 0)
        return -2;
    int rc = vendor_settings_check(&c, err, errlen);
    cfg_free(&c);
    return rc;
}

UNIT_CASE(vendor_urls_outside_local, &clean_environment)
{
    const char *internal[] = {
        "http://127.0.0.1:10851",
        "http://10.0.0.1/",
        "http://[::1]:8080",
        "http://localhost:10851",
        "https://LOCALHOST",
        "http://192.168.1.5",
        "http://169.254.169.254/latest",
        "http://u:pa55w0rd@172.16.0.9/",
    };
    char err[512];
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++) {
        err[0] = '\0';
        CHECK(vendor_url_verdict(internal[i], NULL, err, sizeof err) == -1);
        CHECK(strncmp(err, "PAYMENT_IAMPORT_URL: host ", 26) == 0);
        CHECK(strstr(err, "PAYMENT_VENDOR_ALLOW_INTERNAL=1") != NULL);
        CHECK(strstr(err, "pa55w0rd") == NULL);
        CHECK(vendor_url_verdict(internal[i], "1", err, sizeof err) == 0);
    }
    CHECK(vendor_url_verdict("https://8.8.8.8", NULL, err, sizeof err) == 0);
    CHECK(vendor_url_verdict("https://[2001:4860:4860::8888]/v1", NULL, err, sizeof err) == 0);
    /* A name the resolver cannot answer now is accepted (with a warning):
     * DNS may come up after the server. */
    CHECK(vendor_url_verdict("https://vendor.invalid", NULL, err, sizeof err) == 0);
    /* The fake servers' default URLs stay usable in local mode. */
    set_required();
    setenv("PAYMENT_IAMPORT_URL", "http://127.0.0.1:10851", 1);
    cfg c;
    CHECK(cfg_load(&c, err, sizeof err) == 0);
    CHECK(vendor_settings_check(&c, err, sizeof err) == 0);
    cfg_free(&c);
    unsetenv("PAYMENT_IAMPORT_URL");
}

/* This machine's own name, when the resolver maps it to an internal address
 * only (Debian's /etc/hosts does): a name, not a literal, so it is judged by
 * what it resolves to. */
static bool own_name_is_internal(char *name, size_t len)
{
    struct addrinfo *found = NULL;
    if (gethostname(name, len) < 0 || getaddrinfo(name, NULL, NULL, &found) != 0)
        return false;
    bool internal = address_class_host(name) == -1;
    for (struct addrinfo *a = found; a; a = a->ai_next)
        internal = internal && address_class_is_internal(a->ai_addr);
    freeaddrinfo(found);
    return internal;
}

UNIT_CASE(vendor_url_resolved_to_internal, &clean_environment)
{
    char name[256], url[300], err[512] = "";
    if (!own_name_is_internal(name, sizeof name)) {
        fprintf(stderr, "skipped: this machine's name does not resolve to internal addresses only\n");
        return;
    }
    snprintf(url, sizeof url, "https://%s/", name);
    CHECK(vendor_url_verdict(url, NULL, err, sizeof err) == -1);
    CHECK(strstr(err, "resolves to") != NULL);
    CHECK(vendor_url_verdict(url, "1", err, sizeof err) == 0);
}
