/* fake_server: what both fake vendor servers share: settings from flags and
 * environment, --help, one loop with an HTTP server and client, graceful stop
 * on TERM/INT, webhook sending, the fake's state, and the test controls
 * (/fake/stats, /fake/latency, /fake/billing). A fake supplies a spec: its name, its
 * defaults, its route table, its stores and the names of its counters. */
#ifndef PAYMENTS_FAKE_SERVER_H
#define PAYMENTS_FAKE_SERVER_H

#include "fake_answer.h"
#include "fake_billing_rules.h"
#include "fake_latency.h"
#include "fake_store.h"
#include "http_client.h"
#include "http_router.h"
#include "http_server.h"

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

typedef struct fake_settings {
    char *host;             /* --host, <PREFIX>HOST; default 127.0.0.1 */
    int port;               /* --port, <PREFIX>PORT */
    char *webhook_url;      /* --webhook-url, <PREFIX>WEBHOOK_URL; NULL: webhooks not sent */
    char *key;              /* --key, <PREFIX>KEY: the accepted API key (iamport imp_key) */
    char *secret;           /* --secret, <PREFIX>SECRET: imp_secret, or Toss secret key */
    uint64_t ttl_ms;        /* --ttl-ms, <PREFIX>TTL_MS; default 180000 */
    size_t capacity;        /* --capacity, <PREFIX>CAPACITY; default 1000 */
    uint64_t token_ttl_ms;  /* --token-ttl-ms, <PREFIX>TOKEN_TTL_MS: access token lifetime; default 1800000 */
    fake_delay latency;     /* --latency, <PREFIX>LATENCY: how long vendor answers are held; default none */
    char *user;             /* --user, <PREFIX>USER: started as root, run as this user once bound; NULL: stay */
    uint64_t refuse_amount; /* --refuse-amount, <PREFIX>REFUSE_AMOUNT: billing charges of it are declined; 0: none */
    /* Offered only by a fake whose spec names a default merchant id (Inicis
     * signs with a key, an IV and the merchant id; it refuses one card). */
    char *merchant_id;  /* --merchant-id, <PREFIX>MERCHANT_ID: the accepted mid */
    char *iv;           /* --iv, <PREFIX>IV: the AES IV of the API key (16 characters) */
    char *refused_card; /* --refused-card, <PREFIX>REFUSED_CARD: the card number the issuer declines */
    /* --strict, <PREFIX>STRICT: the real vendor's stricter behaviour where
     * the original fake is lenient; off by default, so that test suites
     * written against the original fakes pass unchanged. */
    bool strict;
} fake_settings;

typedef struct fake_held_answer fake_held_answer;

typedef struct fake_server {
    uv_loop_t *loop;
    http_server *http;
    http_client *client;
    fake_settings settings;
    void *vendor; /* the fake's own state, made by spec->init */
    fake_latency latency;
    fake_billing_rules billing; /* the billing-key charges to decline */
    json_t *stats;              /* counter name -> how many times it happened */
    fake_held_answer *held;     /* answers waiting out their delay, newest first */
    size_t held_count;
    /* Set while a request whose answer is to be kept is handled; fake
     * handlers answer before they return, so it lives on the caller's stack. */
    fake_answer_capture *capture;
} fake_server;

/* How long the records of one of a fake's stores live. */
typedef enum fake_store_lifetime {
    FAKE_LIFETIME_RECORD, /* ttl_ms */
    FAKE_LIFETIME_TOKEN,  /* token_ttl_ms */
} fake_store_lifetime;

/* One fake_store * member of a fake's state. */
typedef struct fake_store_slot {
    size_t offset; /* offsetof(the fake's state, the member) */
    fake_store_lifetime lifetime;
} fake_store_slot;

typedef struct fake_server_spec {
    const char *name;       /* "fake-iamport-server" */
    const char *env_prefix; /* "FAKE_IAMPORT_" */
    int default_port;
    const char *default_key;    /* may be NULL */
    const char *default_secret; /* may be NULL */
    /* NULL: the fake has no merchant settings (--merchant-id, --iv,
     * --refused-card are then unknown options). */
    const char *default_merchant_id;
    const char *default_iv;
    const char *default_refused_card;
    const http_route *routes;
    size_t route_count;
    /* The fake's state (fs->vendor) is state_size zeroed bytes with these
     * stores in it; the shell makes and frees it all. */
    size_t state_size;
    const fake_store_slot *stores;
    size_t store_count;
    /* The counters GET /fake/stats shows from the start, at 0; NULL-ended. */
    const char *const *counters;
    /* The fake's own rules of --strict, lines of its --help (each "  name"
     * padded to 25 columns, then the rule); NULL: only the shared ones. */
    const char *strict_rules;
    /* How a vendor request reaches the route table (a fake wraps it to add
     * what every route shares); NULL: fake_server_route. */
    void (*serve)(const struct fake_server_spec *spec, http_exchange *ex, fake_server *fs);
} fake_server_spec;

/* Parses argv and the environment, runs until TERM/INT, returns the exit code. */
int fake_server_main(int argc, char **argv, const fake_server_spec *spec);
/* Hands the request to the spec's route table (404/405 when none fits). */
void fake_server_route(const fake_server_spec *spec, http_exchange *ex, fake_server *fs);

/* POSTs doc (JSON) to the webhook URL when one is set; the result is logged.
 * Takes the caller's reference to doc. */
void fake_server_send_webhook(fake_server *fs, json_t *doc);
/* The same to url (NULL: the webhook URL), for a vendor that notifies an
 * address given with the payment. */
void fake_server_send_webhook_to(fake_server *fs, const char *url, json_t *doc);
/* POSTs an application/x-www-form-urlencoded body (the caller's) to the
 * webhook URL when one is set, as vendors that notify by form do. */
void fake_server_send_form_webhook(fake_server *fs, const char *form);

#endif
