/* Unit tests of what an Idempotency-Key header becomes: its syntax, the
 * stored key and the scope it is bound to (route, header, source,
 * password), the body hash, and the durations PAYMENT_IDEMPOTENCY_TTL is
 * written in. */
#include "duration.h"
#include "idempotency_key.h"
#include "unit.h"

static password_secret secret;

static bool secret_setup(void)
{
    return password_secret_init(&secret, "unit test secret") == 0;
}

static void secret_teardown(void)
{
    password_secret_clear(&secret);
}

static const unit_fixture keyed = {"password secret", secret_setup, secret_teardown};

UNIT_CASE(header_syntax, NULL)
{
    char longest[IDEMPOTENCY_KEY_MAX + 2];
    memset(longest, 'k', sizeof longest);
    longest[IDEMPOTENCY_KEY_MAX] = '\0';
    CHECK(idempotency_key_valid("a"));
    CHECK(idempotency_key_valid("6f1c0e6e-8d1b-4a47-9f6e-0c1d2e3f4a5b"));
    CHECK(idempotency_key_valid("with spaces and ~!@#$%^&*()"));
    CHECK(idempotency_key_valid(longest));
    longest[IDEMPOTENCY_KEY_MAX] = 'k';
    longest[IDEMPOTENCY_KEY_MAX + 1] = '\0';
    CHECK(!idempotency_key_valid(longest));
    CHECK(!idempotency_key_valid(""));
    CHECK(!idempotency_key_valid(NULL));
    CHECK(!idempotency_key_valid("tab\there"));
    CHECK(!idempotency_key_valid("del\x7f"));
    CHECK(!idempotency_key_valid("caf\xc3\xa9"));
}

static const payment_source_input order_a = {"shopping", "orders", "0a4c9b2e-1111-4222-8333-944455556666"};
static const payment_source_input order_b = {"shopping", "orders", "0a4c9b2e-1111-4222-8333-944455556667"};

static void derive(const idempotency_scope *scope, char out[IDEMPOTENCY_HEX_SIZE])
{
    memset(out, 0, IDEMPOTENCY_HEX_SIZE);
    CHECK(idempotency_key_derive(&secret, scope, out) == 0);
    CHECK(strlen(out) == 64);
}

UNIT_CASE(key_is_bound_to_its_scope, &keyed)
{
    const idempotency_scope base = {"PUT", "/payments/histories/cancel", "key-1", &order_a, "password"};
    char first[IDEMPOTENCY_HEX_SIZE], again[IDEMPOTENCY_HEX_SIZE], other[IDEMPOTENCY_HEX_SIZE];
    derive(&base, first);
    derive(&base, again);
    CHECK_STR(again, first);
    const idempotency_scope variants[] = {
        {"POST", "/payments/histories/cancel", "key-1", &order_a, "password"},
        {"PUT", "/payments/reservations", "key-1", &order_a, "password"},
        {"PUT", "/payments/histories/cancel", "key-2", &order_a, "password"},
        {"PUT", "/payments/histories/cancel", "key-1", &order_b, "password"},
        {"PUT", "/payments/histories/cancel", "key-1", &order_a, "another password"},
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        derive(&variants[i], other);
        CHECK(strcmp(other, first) != 0);
    }
}

/* Fields are length-prefixed: moving bytes from one field to the next is
 * another scope, not the same concatenation. */
UNIT_CASE(fields_do_not_run_together, &keyed)
{
    const payment_source_input split_a = {"shop", "ping", "x"};
    const payment_source_input split_b = {"shopp", "ing", "x"};
    const idempotency_scope a = {"PUT", "/p", "k", &split_a, "pw"};
    const idempotency_scope b = {"PUT", "/p", "k", &split_b, "pw"};
    char key_a[IDEMPOTENCY_HEX_SIZE], key_b[IDEMPOTENCY_HEX_SIZE];
    derive(&a, key_a);
    derive(&b, key_b);
    CHECK(strcmp(key_a, key_b) != 0);
}

UNIT_CASE(key_depends_on_the_secret, &keyed)
{
    password_secret other_secret;
    if (!CHECK(password_secret_init(&other_secret, "another secret") == 0))
        return;
    const idempotency_scope scope = {"POST", "/payments/histories", "k", &order_a, "pw"};
    char mine[IDEMPOTENCY_HEX_SIZE], theirs[IDEMPOTENCY_HEX_SIZE];
    derive(&scope, mine);
    CHECK(idempotency_key_derive(&other_secret, &scope, theirs) == 0);
    CHECK(strcmp(mine, theirs) != 0);
    password_secret_clear(&other_secret);
}

static void body_hash(const char *json, char out[IDEMPOTENCY_HEX_SIZE])
{
    json_t *body = json_loads(json, 0, NULL);
    memset(out, 0, IDEMPOTENCY_HEX_SIZE);
    CHECK(body && idempotency_body_hash(&secret, body, out) == 0);
    CHECK(strlen(out) == 64);
    json_decref(body);
}

UNIT_CASE(body_hash_compares_content, &keyed)
{
    char first[IDEMPOTENCY_HEX_SIZE], reordered[IDEMPOTENCY_HEX_SIZE], other[IDEMPOTENCY_HEX_SIZE];
    body_hash("{\"price\": 1000, \"reason\": \"a\", \"source\": {\"id\": \"x\", \"table\": \"t\"}}", first);
    body_hash("{\"source\":{\"table\":\"t\",\"id\":\"x\"},\"reason\":\"a\",\"price\":1000}", reordered);
    body_hash("{\"price\": 1001, \"reason\": \"a\", \"source\": {\"id\": \"x\", \"table\": \"t\"}}", other);
    CHECK_STR(reordered, first);
    CHECK(strcmp(other, first) != 0);
}

UNIT_CASE(durations, NULL)
{
    const uint64_t max = 30ULL * 86400000;
    const struct {
        const char *text;
        uint64_t ms;
    } good[] = {{"24h", 86400000}, {"1d", 86400000}, {"90s", 90000}, {"250ms", 250}, {" 5m ", 300000}, {"7", 7000}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t ms = 0;
        CHECK(duration_parse(good[i].text, strlen(good[i].text), max, &ms) == 0);
        CHECK(ms == good[i].ms);
    }
    const char *bad[] = {"", "h", "24 h", "1w", "-1s", "31d", "1.5h", "99999999999999d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t ms = 0;
        CHECK(duration_parse(bad[i], strlen(bad[i]), max, &ms) == -1);
    }
}
