/* Unit tests of .env parsing (quotes, comments, ${VAR} expansion, errors)
 * and of configuration loading (defaults, validation naming the variable). */
#include "config.h"
#include "dotenv.h"
#include "unit.h"

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
    CHECK_STR(c.iamport_key, "test_imp_key");
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
    /* Outside local mode vendor credentials have no default. */
    set_required();
    setenv("PAYMENT_MODE", "real", 1);
    CHECK(cfg_load(&c, err, sizeof err) == -1);
    CHECK(strstr(err, "PAYMENT_IAMPORT_KEY") != NULL);
    unsetenv("PAYMENT_MODE");
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
