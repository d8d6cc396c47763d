/* setting_names: the table of the settings the master, the workers, the
 * updater and the `payments` command read, and the check of what an
 * operator set against it. The vendors' settings come from the adapters
 * (their table is the only place naming a vendor), passed in as extra. */
#include "setting_names.h"

#include <stdio.h>
#include <string.h>

extern char **environ;

#define PREFIX "PAYMENT_"

/* clang-format off */
static const char *const common_names[] = {
    "PAYMENT_ADMIN_HOST", "PAYMENT_ADMIN_PORT", "PAYMENT_ALERT_FAILURE_RUN", "PAYMENT_ALERT_WEBHOOK_URL", "PAYMENT_API_HOST", "PAYMENT_API_PORT",
    "PAYMENT_CANCEL_HISTORY_ENCRYPTION_IV", "PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEY",
    "PAYMENT_CIRCUIT_COOLDOWN", "PAYMENT_CIRCUIT_FAILURES",
    "PAYMENT_CONNECTION_ENCRYPTION_IV", "PAYMENT_CONNECTION_ENCRYPTION_KEY", "PAYMENT_CONTROL_SOCKET", "PAYMENT_CORS_ORIGINS",
    "PAYMENT_DRAIN_TIMEOUT_MS", "PAYMENT_DUNNING_SCHEDULE", "PAYMENT_ENV_FILE",
    "PAYMENT_GUESS_DELAY", "PAYMENT_GUESS_DELAY_MAX", "PAYMENT_GUESS_FREE", "PAYMENT_HEADER_TIMEOUT_MS",
    "PAYMENT_HISTORY_ENCRYPTION_IV", "PAYMENT_HISTORY_ENCRYPTION_KEY", "PAYMENT_IDEMPOTENCY_TTL",
    "PAYMENT_IDLE_TIMEOUT_MS", "PAYMENT_LOG_FILE", "PAYMENT_LOG_FORMAT", "PAYMENT_MASTER_BINARY", "PAYMENT_MAX_BODY_BYTES", "PAYMENT_MAX_CONNECTIONS",
    "PAYMENT_MAX_HEADER_BYTES", "PAYMENT_MODE", "PAYMENT_PASSWORD_SECRET", "PAYMENT_PID_FILE",
    "PAYMENT_POSTGRES_DATABASE", "PAYMENT_POSTGRES_HOST", "PAYMENT_POSTGRES_PASSWORD", "PAYMENT_POSTGRES_POOL", "PAYMENT_POSTGRES_QUEUE",
    "PAYMENT_POSTGRES_PORT", "PAYMENT_POSTGRES_SCHEMA", "PAYMENT_POSTGRES_URL", "PAYMENT_POSTGRES_USERNAME",
    "PAYMENT_POSTGRES_USERNAME_READONLY", "PAYMENT_RECONCILE_AFTER_MS", "PAYMENT_RECONCILE_INTERVAL_MS",
    "PAYMENT_RESERVATION_ENCRYPTION_IV", "PAYMENT_RESERVATION_ENCRYPTION_KEY", "PAYMENT_ROUTES_FILE", "PAYMENT_SCHEDULER_INTERVAL",
    "PAYMENT_SQL_DIR", "PAYMENT_SYSTEM_PASSWORD", "PAYMENT_TEST_CLOCK", "PAYMENT_UPDATER_LOG_FILE", "PAYMENT_UPDATER_PID_FILE",
    "PAYMENT_UPDATE_BUILD_DIR", "PAYMENT_UPDATE_BUILD_JOBS", "PAYMENT_UPDATE_BUILD_TYPE", "PAYMENT_UPDATE_CHECKOUT",
    "PAYMENT_UPDATE_COMMAND_TIMEOUT_MS", "PAYMENT_UPDATE_INSTANCE", "PAYMENT_UPDATE_ROLL_TIMEOUT_MS",
    "PAYMENT_UPDATE_TIMEOUT_MS", "PAYMENT_UPDATOR_BIND", "PAYMENT_UPDATOR_HEARTBEAT_MS", "PAYMENT_UPDATOR_MASTER",
    "PAYMENT_UPDATOR_PORT", "PAYMENT_USER", "PAYMENT_VENDOR_ALLOW_INTERNAL", "PAYMENT_VENDOR_CONCURRENCY", "PAYMENT_VENDOR_STORES_FILE",
    "PAYMENT_VENDOR_TIMEOUT_MS", "PAYMENT_WEBHOOK_ALLOW_HOSTS", "PAYMENT_WEBHOOK_BURST", "PAYMENT_WEBHOOK_RATE",
    "PAYMENT_WEBHOOK_POLL_MS", "PAYMENT_WEBHOOK_RETRY_SCHEDULE", "PAYMENT_WEBHOOK_SECRET", "PAYMENT_WEBHOOK_TIMEOUT_MS", "PAYMENT_WORKERS",
    "PAYMENT_WORKER_BINARY",
    /* Key rotation (config_keys.c). */
    "PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEYS_PREVIOUS", "PAYMENT_CONNECTION_ENCRYPTION_IV_PREVIOUS",
    "PAYMENT_CONNECTION_ENCRYPTION_KEY_PREVIOUS", "PAYMENT_CONNECTION_KEY_GRACE_UNTIL",
    "PAYMENT_HISTORY_ENCRYPTION_KEYS_PREVIOUS", "PAYMENT_PASSWORD_SECRET_PREVIOUS",
    "PAYMENT_RESERVATION_ENCRYPTION_KEYS_PREVIOUS",
    /* Set by the master for the processes it starts, never by an operator. */
    "PAYMENT_ADMIN_LISTEN_FD", "PAYMENT_COMMIT", "PAYMENT_INHERITED_ADMIN_FD", "PAYMENT_INHERITED_LISTEN_FD",
    "PAYMENT_IPC_FD", "PAYMENT_LISTEN_FD", "PAYMENT_METRICS_FD", "PAYMENT_SOURCE_DIR", "PAYMENT_UPGRADE_FROM", "PAYMENT_UPGRADE_IPC_FD",
    NULL,
};
/* clang-format on */

/* Names made of a prefix and a mode: PAYMENT_API_HOST_DEV. */
static const char *const per_mode_prefixes[] = {"PAYMENT_API_HOST_", "PAYMENT_API_SCHEME_", "PAYMENT_UPDATOR_HOST_",
                                                NULL};
static const char *const modes[] = {"LOCAL", "DEV", "REAL", NULL};

static bool in_list(const char *name, const char *const *list)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(name, list[i]) == 0)
            return true;
    return false;
}

static bool per_mode(const char *name)
{
    for (size_t i = 0; per_mode_prefixes[i]; i++) {
        size_t n = strlen(per_mode_prefixes[i]);
        if (strncmp(name, per_mode_prefixes[i], n) == 0 && in_list(name + n, modes))
            return true;
    }
    return false;
}

/* The updater's settings keep the original's spelling UPDATOR; dotenv
 * accepts UPDATER for any of them, so such a name is known too. */
static bool updater_alias(const char *name, const char *const *extra)
{
    static const char alias[] = "PAYMENT_UPDATER_";
    if (strncmp(name, alias, sizeof alias - 1) != 0)
        return false;
    char original[128];
    int n = snprintf(original, sizeof original, "PAYMENT_UPDATOR_%s", name + sizeof alias - 1);
    return n > 0 && (size_t)n < sizeof original && setting_names_known(original, extra);
}

bool setting_names_known(const char *name, const char *const *extra)
{
    return in_list(name, common_names) || in_list(name, extra) || per_mode(name) || updater_alias(name, extra);
}

/* Edit distance, bounded: names are short, and only a close one helps. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return (size_t)-1;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

static void consider(const char *name, const char *candidate, const char **nearest, size_t *best)
{
    size_t d = distance(name, candidate);
    if (d < *best) {
        *best = d;
        *nearest = candidate;
    }
}

/* The closest known name, within a third of the length of what follows
 * the prefix (PAYMENT_FOO suggests nothing). */
static const char *nearest_known(const char *name, const char *const *extra)
{
    const char *nearest = NULL;
    size_t best = (strlen(name) - strlen(PREFIX)) / 3 + 1;
    for (size_t i = 0; common_names[i]; i++)
        consider(name, common_names[i], &nearest, &best);
    for (size_t i = 0; extra && extra[i]; i++)
        consider(name, extra[i], &nearest, &best);
    return nearest;
}

typedef struct unknown_scan {
    const char *const *extra;
    void (*report)(const char *name, const char *nearest, void *data);
    void *data;
    char seen[64][128]; /* reported already */
    size_t count;
    size_t reported;
} unknown_scan;

static void check_name(unknown_scan *scan, const char *name)
{
    if (strncmp(name, PREFIX, strlen(PREFIX)) != 0 || setting_names_known(name, scan->extra))
        return;
    for (size_t i = 0; i < scan->count; i++)
        if (strcmp(scan->seen[i], name) == 0)
            return;
    if (scan->count < sizeof scan->seen / sizeof scan->seen[0])
        snprintf(scan->seen[scan->count++], sizeof scan->seen[0], "%s", name);
    scan->reported++;
    scan->report(name, nearest_known(name, scan->extra), scan->data);
}

size_t setting_names_unknown(const dotenv *env, const char *const *extra,
                             void (*report)(const char *name, const char *nearest, void *data), void *data)
{
    unknown_scan scan = {.extra = extra, .report = report, .data = data};
    char name[128];
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
        if (n >= sizeof name)
            continue;
        memcpy(name, *e, n);
        name[n] = '\0';
        check_name(&scan, name);
    }
    for (size_t i = 0; env && i < env->count; i++)
        check_name(&scan, env->entries[i].key);
    return scan.reported;
}
