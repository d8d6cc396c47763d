/* `payments fake <vendor> <card|vbank|deposit|billing>`: a payment made at a
 * local fake vendor as a customer's checkout would make it, so that a
 * newcomer has a uid to record without writing a program. Each line of the
 * table below is the request the tests' drivers send (tests/lib/
 * vendor_drivers.mjs, tests/lib/fakes.mjs); the fakes speak plain JSON. */
#include "cli.h"

#include "cli_http.h"
#include "crypto.h"
#include "settings.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FAKE_TIMEOUT_MS 10000
/* The credentials the fakes accept when started without their own, as `make
 * run` starts them (fakes/fake_settings.c); the local server uses the same. */
#define FAKE_IAMPORT_KEY "test_imp_key"
#define FAKE_IAMPORT_SECRET "test_imp_secret"
#define FAKE_TOSS_SECRET "test_ak_ZORzdMaqN3wQd5k6ygr5AkYXQGwy"

typedef enum fake_auth { AUTH_NONE, AUTH_TOKEN, AUTH_BASIC } fake_auth;

/* A fake, where `make run` starts it, and how it wants to be asked. */
typedef struct fake_vendor {
    const char *name;
    const char *url_name; /* the server's variable of its base URL */
    const char *local_url;
    fake_auth auth;
} fake_vendor;

static const fake_vendor vendors[] = {
    {"iamport", "PAYMENT_IAMPORT_URL", "http://127.0.0.1:10851", AUTH_TOKEN},
    {"toss", "PAYMENT_TOSS_PAYMENTS_URL", "http://127.0.0.1:30771", AUTH_BASIC},
    {"inicis", "PAYMENT_INICIS_URL", "http://127.0.0.1:40571", AUTH_NONE},
};

/* One helper: the request, with {order}, {amount}, {customer}, {due} and
 * {uid} filled in, and where the answer names what to print (a member, or
 * one level down: "response.imp_uid"; NULL prints the uid given). */
typedef struct fake_action {
    const char *vendor;
    const char *action;
    const char *method;
    const char *path;
    const char *body;
    const char *answer_member;
} fake_action;

/* clang-format off */
static const fake_action actions[] = {
    {"iamport", "card", "POST", "/subscribe/payments/onetime",
     "{\"card_number\":\"1111-2222-3333-4444\",\"expiry\":\"2028-12\",\"birth\":\"880311\","
     "\"merchant_uid\":\"{order}\",\"amount\":{amount},\"name\":\"test order\"}", "response.imp_uid"},
    {"iamport", "vbank", "POST", "/vbanks",
     "{\"merchant_uid\":\"{order}\",\"amount\":{amount},\"vbank_code\":\"088\",\"vbank_due\":{due},"
     "\"vbank_holder\":\"홍길동\",\"name\":\"virtual account order\",\"buyer_email\":\"buyer@example.com\"}",
     "response.imp_uid"},
    {"iamport", "deposit", "PUT", "/internal/deposit/{uid}", NULL, NULL},
    {"iamport", "billing", "POST", "/subscribe/customers/{customer}",
     "{\"customer_uid\":\"{customer}\",\"card_number\":\"5555-4444-3333-2222\",\"expiry\":\"2029-12\","
     "\"birth\":\"900101\",\"pwd_2digit\":\"12\",\"customer_name\":\"홍길동\","
     "\"customer_email\":\"someone@example.com\"}", "response.customer_uid"},
    /* Awaiting approval, as after a real checkout: recording it confirms it. */
    {"toss", "card", "POST", "/v1/payments/key-in",
     "{\"method\":\"card\",\"cardNumber\":\"1111222233334444\",\"cardExpirationYear\":\"28\","
     "\"cardExpirationMonth\":\"03\",\"orderId\":\"{order}\",\"orderName\":\"test order\",\"amount\":{amount},"
     "\"__approved\":false}", "paymentKey"},
    {"toss", "vbank", "POST", "/v1/virtual-accounts",
     "{\"method\":\"virtual-account\",\"orderId\":\"{order}\",\"orderName\":\"virtual account order\","
     "\"bank\":\"신한\",\"customerName\":\"홍길동\",\"amount\":{amount}}", "paymentKey"},
    {"toss", "deposit", "PUT", "/internal/{uid}/deposit", NULL, NULL},
    {"toss", "billing", "POST", "/v1/billing/authorizations/card",
     "{\"customerKey\":\"{customer}\",\"cardNumber\":\"5555444433332222\",\"cardExpirationYear\":\"29\","
     "\"cardExpirationMonth\":\"12\",\"cardPassword\":\"12\",\"customerBirthday\":\"900101\","
     "\"customerEmail\":\"someone@example.com\"}", "billingKey"},
    {"inicis", "card", "POST", "/internal/payments",
     "{\"moid\":\"{order}\",\"price\":{amount},\"cardNumber\":\"4111111111111111\"}", "tid"},
    {"inicis", "vbank", "POST", "/internal/vbanks", "{\"moid\":\"{order}\",\"price\":{amount}}", "tid"},
    {"inicis", "deposit", "PUT", "/internal/vbanks/{uid}/deposit", NULL, NULL},
    {"inicis", "billing", "POST", "/internal/billkeys",
     "{\"cardNumber\":\"4111111111111111\",\"buyerName\":\"홍길동\"}", "billKey"},
};
/* clang-format on */
#define ACTION_COUNT (sizeof actions / sizeof actions[0])

/* What the template's placeholders become. */
typedef struct fake_values {
    char order[96];
    char amount[24];
    char customer[96];
    char due[24];
    char uid[160];
} fake_values;

/* Letters, digits and -_.: the values go into JSON strings and URL paths
 * unescaped. */
static bool plain_value(const char *text)
{
    if (!*text || strlen(text) > 80)
        return false;
    for (const char *c = text; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
              *c == '_' || *c == '.'))
            return false;
    return true;
}

/* template with its placeholders filled, in out; -1 when it does not fit. */
static int fill(const char *template, const fake_values *v, char *out, size_t cap)
{
    static const struct {
        const char *name;
        size_t offset;
    } names[] = {{"{order}", offsetof(fake_values, order)},
                 {"{amount}", offsetof(fake_values, amount)},
                 {"{customer}", offsetof(fake_values, customer)},
                 {"{due}", offsetof(fake_values, due)},
                 {"{uid}", offsetof(fake_values, uid)}};
    size_t used = 0;
    for (const char *c = template; *c;) {
        const char *value = NULL;
        size_t skip = 1;
        for (size_t i = 0; i < sizeof names / sizeof names[0] && !value; i++)
            if (strncmp(c, names[i].name, strlen(names[i].name)) == 0) {
                value = (const char *)v + names[i].offset;
                skip = strlen(names[i].name);
            }
        size_t len = value ? strlen(value) : 1;
        if (used + len >= cap)
            return -1;
        memcpy(out + used, value ? value : c, len);
        used += len;
        c += skip;
    }
    out[used] = '\0';
    return 0;
}

static const fake_vendor *find_vendor(const char *name)
{
    for (size_t i = 0; i < sizeof vendors / sizeof vendors[0]; i++)
        if (strcmp(vendors[i].name, name) == 0)
            return &vendors[i];
    return NULL;
}

static const fake_action *find_action(const char *vendor, const char *action)
{
    for (size_t i = 0; i < ACTION_COUNT; i++)
        if (strcmp(actions[i].vendor, vendor) == 0 && strcmp(actions[i].action, action) == 0)
            return &actions[i];
    return NULL;
}

/* ---- asking the fake ---- */

/* The member of doc the action names ("a" or "a.b"), or NULL. */
static const char *answer_value(json_t *doc, const char *member)
{
    char first[64];
    const char *dot = strchr(member, '.');
    if (!dot)
        return json_string_value(json_object_get(doc, member));
    snprintf(first, sizeof first, "%.*s", (int)(dot - member), member);
    return json_string_value(json_object_get(json_object_get(doc, first), dot + 1));
}

/* Sends one request to the fake; the JSON answer (new reference) of a 2xx,
 * else NULL with err. */
static json_t *ask(const char *method, const char *url, const char *authorization, const char *body, char *err,
                   size_t errlen)
{
    const char *headers[] = {"Content-Type: application/json", authorization, NULL};
    cli_http_request request = {method, url, headers, body, FAKE_TIMEOUT_MS};
    cli_http_answer answer;
    if (cli_http_exchange(&request, &answer, err, errlen) < 0)
        return NULL;
    json_t *doc = json_loadb(answer.body, answer.body_len, JSON_DECODE_ANY, NULL);
    if (answer.status < 200 || answer.status > 299) {
        snprintf(err, errlen, "%s %s: HTTP %ld: %.300s", method, url, answer.status, answer.body);
        json_decref(doc);
        doc = NULL;
    } else if (!doc) {
        doc = json_null();
    }
    cli_http_answer_free(&answer);
    return doc;
}

/* "Authorization: ..." for the vendor, from the server's settings (the
 * fakes' own credentials when unset, as the local server uses them). */
static int authorization(const fake_vendor *vendor, const dotenv *env, const char *base, char *out, size_t cap,
                         char *err, size_t errlen)
{
    out[0] = '\0';
    if (vendor->auth == AUTH_BASIC) {
        char pair[256];
        snprintf(pair, sizeof pair, "%s:", settings_get(env, "PAYMENT_TOSS_PAYMENTS_SECRET", FAKE_TOSS_SECRET));
        char *encoded = crypto_base64_encode(pair, strlen(pair), NULL);
        int n = encoded ? snprintf(out, cap, "Authorization: Basic %s", encoded) : -1;
        free(encoded);
        return n < 0 || (size_t)n >= cap ? (snprintf(err, errlen, "out of memory"), -1) : 0;
    }
    if (vendor->auth != AUTH_TOKEN)
        return 0;
    json_t *credentials = json_pack("{s:s, s:s}", "imp_key", settings_get(env, "PAYMENT_IAMPORT_KEY", FAKE_IAMPORT_KEY),
                                    "imp_secret", settings_get(env, "PAYMENT_IAMPORT_SECRET", FAKE_IAMPORT_SECRET));
    char *body = credentials ? json_dumps(credentials, JSON_COMPACT) : NULL;
    json_decref(credentials);
    char url[512];
    snprintf(url, sizeof url, "%s/users/getToken", base);
    json_t *doc = body ? ask("POST", url, NULL, body, err, errlen) : NULL;
    free(body);
    const char *token = doc ? answer_value(doc, "response.access_token") : NULL;
    int rc = token && snprintf(out, cap, "Authorization: %s", token) < (int)cap ? 0 : -1;
    if (doc && rc < 0)
        snprintf(err, errlen, "the fake's token answer has no access token");
    json_decref(doc);
    return rc;
}

/* ---- the command ---- */

/* Defaults: a fresh order id and customer, 10000 won, due tomorrow. */
static void default_values(fake_values *v)
{
    unsigned long stamp = (unsigned long)time(NULL);
    unsigned pid = (unsigned)getpid();
    *v = (fake_values){0};
    snprintf(v->order, sizeof v->order, "order-%lx-%x", stamp, pid);
    snprintf(v->customer, sizeof v->customer, "customer-%lx-%x", stamp, pid);
    snprintf(v->amount, sizeof v->amount, "10000");
    snprintf(v->due, sizeof v->due, "%lu", stamp + 86400);
}

/* The options after "<vendor> <action>"; 0, or the usage error's status. */
static int parse_values(int argc, char **argv, const fake_action *action, fake_values *v)
{
    default_values(v);
    const char *value;
    for (int i = 3; i < argc; i++) {
        char *target = NULL;
        size_t cap = 0;
        if ((value = cli_option_value(argc, argv, &i, "--order")))
            target = v->order, cap = sizeof v->order;
        else if ((value = cli_option_value(argc, argv, &i, "--customer")))
            target = v->customer, cap = sizeof v->customer;
        else if ((value = cli_option_value(argc, argv, &i, "--amount"))) {
            char *end;
            unsigned long amount = strtoul(value, &end, 10);
            if (*end || amount < 1 || amount > 100000000 || value[0] == '-')
                return cli_usage_error(argv[0], "--amount takes a whole number of won from 1");
            target = v->amount, cap = sizeof v->amount;
        } else if (argv[i][0] != '-' && !v->uid[0])
            value = argv[i], target = v->uid, cap = sizeof v->uid;
        else
            return cli_usage_error(argv[0], "unexpected argument %s", argv[i]);
        if (!plain_value(value))
            return cli_usage_error(argv[0], "%s: letters, digits, '-', '_' and '.' only, at most 80", value);
        snprintf(target, cap, "%s", value);
    }
    if (strstr(action->path, "{uid}") && !v->uid[0])
        return cli_usage_error(argv[0], "%s %s: which uid?", action->vendor, action->action);
    return 0;
}

/* Runs the action; prints what it names on stdout; the exit status. */
static int fake_run(const fake_vendor *vendor, const fake_action *action, const fake_values *v, const dotenv *env)
{
    char err[1024] = "", base[400], path[512], body[2048], url[1024], auth[512];
    snprintf(base, sizeof base, "%s", settings_get(env, vendor->url_name, vendor->local_url));
    size_t len = strlen(base);
    while (len > 0 && base[len - 1] == '/')
        base[--len] = '\0';
    if (fill(action->path, v, path, sizeof path) < 0 ||
        (action->body && fill(action->body, v, body, sizeof body) < 0) ||
        snprintf(url, sizeof url, "%s%s", base, path) >= (int)sizeof url) {
        fprintf(stderr, "payments fake: the request is too long\n");
        return 1;
    }
    json_t *doc = NULL;
    if (authorization(vendor, env, base, auth, sizeof auth, err, sizeof err) == 0)
        doc = ask(action->method, url, auth[0] ? auth : NULL, action->body ? body : NULL, err, sizeof err);
    const char *named = !doc ? NULL : action->answer_member ? answer_value(doc, action->answer_member) : v->uid;
    int rc = 1;
    if (!doc)
        fprintf(stderr, "payments fake: %s\n", *err ? err : "no answer");
    else if (!named)
        fprintf(stderr, "payments fake: %s answered without %s\n", url, action->answer_member);
    else
        rc = printf("%s\n", named) < 0 ? 1 : 0;
    json_decref(doc);
    return rc;
}

int cli_fake(int argc, char **argv)
{
    if (argc < 3)
        return cli_usage_error(argv[0],
                               "which vendor (iamport, toss, inicis) and what (card, vbank, deposit, billing)?");
    const fake_vendor *vendor = find_vendor(argv[1]);
    const fake_action *action = vendor ? find_action(vendor->name, argv[2]) : NULL;
    if (!vendor)
        return cli_usage_error(argv[0], "unknown vendor %s (iamport, toss, inicis)", argv[1]);
    if (!action)
        return cli_usage_error(argv[0], "unknown helper %s (card, vbank, deposit, billing)", argv[2]);
    fake_values values;
    int usage = parse_values(argc, argv, action, &values);
    if (usage != 0)
        return usage;
    dotenv env;
    if (cli_settings_open(&env) < 0)
        return 1;
    int rc = fake_run(vendor, action, &values, &env);
    dotenv_free(&env);
    return rc;
}
