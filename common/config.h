/* Configuration: the original server's PAYMENT_* variables plus our own, read
 * from the environment and an optional .env file (PAYMENT_ENV_FILE, default
 * ".env"). Every binary loads the same struct; a bad value stops start-up
 * with one line naming the variable. */
#ifndef PAYMENTS_CONFIG_H
#define PAYMENTS_CONFIG_H

#include "dotenv.h"
#include "dunning_schedule.h"
#include "host_allow_list.h"
#include "log.h"
#include "webhook_schedule.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cfg_mode { CFG_MODE_LOCAL, CFG_MODE_DEV, CFG_MODE_REAL } cfg_mode;

/* A key/IV pair as given: raw ASCII bytes, as the original server uses them. */
typedef struct cfg_cipher {
    char *key; /* 16 or 32 bytes */
    char *iv;  /* 16 bytes */
} cfg_cipher;

/* Key rotation: the keys a sealed table's values may still be under. */
#define CFG_PREVIOUS_KEYS_MAX 3 /* the ring holds the current key and these */
typedef struct cfg_previous_keys {
    cfg_cipher keys[CFG_PREVIOUS_KEYS_MAX]; /* newest first */
    size_t count;
} cfg_previous_keys;

typedef struct cfg_postgres {
    char *url; /* PAYMENT_POSTGRES_URL; when unset built from the parts below */
    char *host;
    int port;
    char *database;
    char *schema;
    char *username;
    char *username_readonly;
    char *password;
    int pool_size; /* PAYMENT_POSTGRES_POOL, connections per worker */
    /* PAYMENT_POSTGRES_QUEUE: statements a worker lets wait for a connection
     * before it answers 503. Requests that waited on a slow vendor all come
     * back to the database at once, so it must be of the order of the
     * requests a worker holds (PAYMENT_MAX_CONNECTIONS), not of the pool. */
    int queue_size;
} cfg_postgres;

typedef struct cfg {
    cfg_mode mode;  /* PAYMENT_MODE, required: unset never means local */
    char *env_file; /* the .env actually read, or NULL */
    char *host;     /* PAYMENT_API_HOST, bind address */
    int api_port;
    int updator_port;
    /* PAYMENT_SYSTEM_PASSWORD; in dev and real mode at least 16 characters
     * and no well-known default (secret_strength.h). */
    char *system_password;
    cfg_postgres postgres;
    cfg_cipher connection_cipher;
    cfg_cipher history_cipher;
    cfg_cipher reservation_cipher;
    cfg_cipher cancel_history_cipher;
    /* PAYMENT_PASSWORD_SECRET keys the record password hashes. Required in
     * dev and real mode (at least 32 characters). In local mode, when unset,
     * it is hex(SHA-256("payments password secret v1" || history key ||
     * history IV)), so existing local deployments need no new variable; set
     * it before rotating the history key, or stored passwords stop matching.
     * Never logged. */
    char *password_secret;
    /* PAYMENT_VENDOR_STORES_FILE: credentials per store id (JSON), or NULL. */
    char *vendor_stores_file;

    int workers;                /* PAYMENT_WORKERS, default online CPUs */
    size_t max_body_bytes;      /* PAYMENT_MAX_BODY_BYTES */
    size_t max_header_bytes;    /* PAYMENT_MAX_HEADER_BYTES */
    uint64_t header_timeout_ms; /* PAYMENT_HEADER_TIMEOUT_MS */
    uint64_t idle_timeout_ms;   /* PAYMENT_IDLE_TIMEOUT_MS (keep-alive) */
    uint64_t drain_timeout_ms;  /* PAYMENT_DRAIN_TIMEOUT_MS */
    uint64_t vendor_timeout_ms; /* PAYMENT_VENDOR_TIMEOUT_MS */
    /* The reconciler of operations that move money: how often it claims,
     * and how long an operation stays pending before it is taken (default
     * the vendor timeout plus 5 s, so a call still in flight is left alone). */
    uint64_t reconcile_interval_ms; /* PAYMENT_RECONCILE_INTERVAL_MS */
    uint64_t reconcile_after_ms;    /* PAYMENT_RECONCILE_AFTER_MS */
    char *pid_file;                 /* PAYMENT_PID_FILE */
    char *control_socket;           /* PAYMENT_CONTROL_SOCKET */
    char *log_file;                 /* PAYMENT_LOG_FILE, empty: stderr */
    char *worker_path;              /* PAYMENT_WORKER_BINARY, default beside the master */

    /* Webhook notifications to each history's webhook_url. The secret signs
     * them (HMAC-SHA-256). PAYMENT_WEBHOOK_SECRET is required in dev and real
     * mode (at least 32 characters); in local mode, when unset, it is
     * hex(HMAC-SHA-256(key: history key, "payments webhook secret v2")),
     * never derived from an operator's password, which every receiver could
     * then guess offline. Never logged. */
    char *webhook_secret;
    uint64_t webhook_timeout_ms;    /* PAYMENT_WEBHOOK_TIMEOUT_MS, each attempt */
    uint64_t webhook_poll_ms;       /* PAYMENT_WEBHOOK_POLL_MS: how often a worker looks for due notifications */
    webhook_schedule webhook_retry; /* PAYMENT_WEBHOOK_RETRY_SCHEDULE */

    /* PAYMENT_IDEMPOTENCY_TTL: how long an answer to a request with an
     * Idempotency-Key header is kept for its retries (a duration, "24h"). */
    uint64_t idempotency_ttl_ms;

    /* No unlimited guessing (read_limit_settings): failed password checks
     * per client address and per record are free up to guess_free, then
     * blocked for guess_delay_ms, doubling per further failure up to
     * guess_delay_max_ms. Each worker counts on its own. */
    unsigned guess_free;         /* PAYMENT_GUESS_FREE */
    uint64_t guess_delay_ms;     /* PAYMENT_GUESS_DELAY */
    uint64_t guess_delay_max_ms; /* PAYMENT_GUESS_DELAY_MAX */
    /* The vendor webhook routes: a token bucket per client address. */
    unsigned webhook_rate;  /* PAYMENT_WEBHOOK_RATE, requests a second */
    unsigned webhook_burst; /* PAYMENT_WEBHOOK_BURST */
    /* The operators' listener (the operators' routes, /monitors/health),
     * apart from the public API port. */
    char *admin_host; /* PAYMENT_ADMIN_HOST */
    int admin_port;   /* PAYMENT_ADMIN_PORT */
    /* PAYMENT_WEBHOOK_ALLOW_HOSTS: internal webhook destinations an operator
     * allows outside local mode (names, addresses, CIDR ranges), checked
     * when a history is created and again at each delivery's connection. */
    host_allow_list webhook_allow_hosts;
    /* Safe defaults outside local mode (config_vendor_url.h): whether vendor
     * URLs may name loopback, private or link-local hosts in dev and real
     * mode (PAYMENT_VENDOR_ALLOW_INTERNAL=1, for a test bed or a proxy on
     * the same network). */
    bool vendor_allow_internal;

    /* Least privilege. PAYMENT_USER: the user a master started as root runs
     * its workers as (default "payments"; "root", or any user of uid 0,
     * keeps them root). Ignored when the master is not root. */
    char *user;

    /* Every variable as loaded (the environment over the .env file), for
     * settings that belong to a module rather than to this struct: each
     * vendor adapter declares and reads its own (cfg_setting). */
    dotenv settings;
    /* Routing by merchant id and currency (worker/routing/):
     * PAYMENT_ROUTES_FILE, the JSON table of rules (pg, mid, currency) ->
     * (vendor, store id), or NULL when unset. Read by every worker at start,
     * so that a reload (a roll) reads it anew. */
    char *routes_file;

    /* Vendor circuit breakers (worker/vendors/vendor_circuit.c), per vendor
     * and store in each worker: open after circuit_failures consecutive
     * calls the vendor did not answer or answered 5xx (0: never), then a
     * trial call after circuit_cooldown_ms. */
    unsigned circuit_failures;    /* PAYMENT_CIRCUIT_FAILURES, default 5 */
    uint64_t circuit_cooldown_ms; /* PAYMENT_CIRCUIT_COOLDOWN, a duration, default 30s */

    /* The shape of log lines (common/log.c): PAYMENT_LOG_FORMAT, "text"
     * (the default, for people) or "json" (one object a line, for a log
     * pipeline); the master and its workers follow it. */
    log_line_format log_format;
    /* Subscriptions (worker/subscriptions/, read by config_subscriptions.c):
     * how often each worker looks for due periods, when a refused charge is
     * tried again, and the test clock: a file holding the instant the
     * scheduler takes for now, read at each look (local mode only). The
     * alerts go to alert_webhook_url (Slack-compatible; NULL: none), one when
     * a subscription becomes past due and one when alert_failure_run charges
     * in a row, across subscriptions and instances, were refused (counted in
     * PostgreSQL: worker/subscriptions/subscription_alert.c). */
    uint64_t scheduler_interval_ms; /* PAYMENT_SCHEDULER_INTERVAL, default 10s */
    dunning_schedule dunning;       /* PAYMENT_DUNNING_SCHEDULE, default 1d,3d,7d */
    char *test_clock;               /* PAYMENT_TEST_CLOCK, a file's path, or NULL */
    char *alert_webhook_url;        /* PAYMENT_ALERT_WEBHOOK_URL */
    unsigned alert_failure_run;     /* PAYMENT_ALERT_FAILURE_RUN, default 5 (0: never) */

    /* Key rotation (config_keys.c). Each sealed table's previous keys
     * ("key:iv,key:iv", newest first): values under them are still opened,
     * new ones are sealed with the current key, and `payments reseal` moves
     * old values to it. A record password hashed under the previous password
     * secret still verifies and is hashed anew at that first use. The
     * previous connection key is accepted until connection_grace_until_ms
     * (an instant; 0: no previous key), answering in the key each request
     * used. Never logged. */
    cfg_previous_keys history_previous;        /* PAYMENT_HISTORY_ENCRYPTION_KEYS_PREVIOUS */
    cfg_previous_keys reservation_previous;    /* PAYMENT_RESERVATION_ENCRYPTION_KEYS_PREVIOUS */
    cfg_previous_keys cancel_history_previous; /* PAYMENT_CANCEL_HISTORY_ENCRYPTION_KEYS_PREVIOUS */
    char *password_secret_previous;            /* PAYMENT_PASSWORD_SECRET_PREVIOUS */
    cfg_cipher connection_previous;            /* PAYMENT_CONNECTION_ENCRYPTION_KEY/IV_PREVIOUS */
    int64_t connection_grace_until_ms;         /* PAYMENT_CONNECTION_KEY_GRACE_UNTIL, ms since the epoch */
    /* Limits that protect each worker under load (read by
     * read_capacity_settings): past them a request is answered 503 with
     * Retry-After at once instead of growing memory and descriptors. */
    unsigned vendor_concurrency; /* PAYMENT_VENDOR_CONCURRENCY: vendor calls waiting at once, default 2048 (0: none) */
    unsigned max_connections;    /* PAYMENT_MAX_CONNECTIONS: open client connections, default 16384 (0: none) */
} cfg;

/* Loads from the environment and the .env file. Returns 0, or -1 with one
 * line in err naming the variable at fault. */
int cfg_load(cfg *c, char *err, size_t errlen);
void cfg_free(cfg *c);
const char *cfg_mode_name(cfg_mode mode);
/* A libpq connection string (URL or key=value) for the configured database,
 * without the schema: connections set search_path themselves. Caller frees. */
char *cfg_postgres_conninfo(const cfg *c);
/* config_keys.c: reads the key rotation settings from env into c (called by
 * cfg_load). Returns 0, or -1 with one line in err naming the variable. */
int cfg_keys_read(cfg *c, const dotenv *env, char *err, size_t errlen);
void cfg_keys_free(cfg *c);
/* The value of variable name as loaded, or NULL when unset or empty. */
const char *cfg_setting(const cfg *c, const char *name);

#endif
