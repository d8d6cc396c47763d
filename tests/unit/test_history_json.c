/* Unit tests of history_json: a stored history printed as the contract's
 * IPaymentHistory, its vendor document copied in unparsed (byte for byte
 * when we sealed it, re-printed after a check when the original server did),
 * amounts as numbers, a refund of 0 as null, and a 500 (never a half
 * document) when the document cannot be opened. */
#include "history_json.h"
#include "sealed_json.h"
#include "unit.h"

#include <stdlib.h>

#define HISTORY_KEY "A7fQ2mZx9LpR4tWv8KcN3bHs6JdE1yGu"
#define HISTORY_IV "pQ7rT2vX9zB4nM6k"
/* A vendor document with characters that need escaping, UTF-8, and spacing
 * no printer of ours would produce: it must come back exactly as sealed. */
#define DOCUMENT "{\"imp_uid\": \"imp_1\", \"name\": \"\\\"quoted\\\"\\n\xea\xb2\xb0\xec\xa0\x9c\", \"amount\": 25000}"

/* The histories table's keys, as the worker holds them. */
static seal_ring histories_ring;

static bool ring_set_up(void)
{
    return CHECK(seal_ring_add(&histories_ring, HISTORY_KEY, HISTORY_IV, "histories") == 0);
}

static void ring_tear_down(void)
{
    seal_ring_clear(&histories_ring);
}

static history_record record_with(char *data)
{
    return (history_record){
        .id = "00000000-0000-0000-0000-000000000001",
        .vendor_code = "iamport",
        .vendor_store_id = "store \"one\"",
        .vendor_uid = "imp_1",
        .source_schema = "shop",
        .source_table = "orders",
        .source_id = "order-1",
        .webhook_url = NULL,
        .currency = "KRW",
        .price = "25000",
        .refund = "0",
        .data = data,
        .created_at = "2026-12-01T08:00:00.000Z",
        .paid_at = "2026-12-01T08:00:01.000Z",
        .cancelled_at = NULL,
        /* as PostgreSQL's json_agg prints it */
        .cancels = "[{\"reason\" : \"r\", \"price\" : 1000.50, \"created_at\" : \"2026-12-01T08:00:02.000Z\"}]",
    };
}

static char *printed(const history_record *record, const seal_ring *ring, app_error *err)
{
    json_text text;
    json_text_init(&text);
    char *copy = NULL;
    if (history_json_text(record, ring, &text, err) == 0) {
        const char *result = json_text_result(&text, NULL);
        copy = result ? strdup(result) : NULL;
    }
    json_text_free(&text);
    return copy;
}

static const unit_fixture keys = {"histories ring", ring_set_up, ring_tear_down};

UNIT_CASE(shape, &keys)
{
    const seal_ring *ring = &histories_ring;
    char *sealed = seal_value(ring, DOCUMENT, strlen(DOCUMENT));
    history_record record = record_with(sealed);
    app_error err = {0};
    char *text = printed(&record, ring, &err);
    CHECK(text != NULL);
    /* the document byte for byte as sealed: copied, not parsed and printed */
    CHECK(text && strstr(text, ",\"data\":" DOCUMENT ",\"currency\":") != NULL);
    json_error_t parse_error;
    json_t *doc = text ? json_loads(text, JSON_REJECT_DUPLICATES, &parse_error) : NULL;
    json_error_t pack_error;
    json_t *expected = json_pack_ex(
        &pack_error, 0,
        "{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:i}, s:s, s:i, s:n, s:n, s:s, s:s, s:n,"
        " s:[{s:s, s:f, s:s}]}",
        "id", record.id, "vendor_code", "iamport", "vendor", "code", "iamport", "store_id", "store \"one\"", "uid",
        "imp_1", "source", "schema", "shop", "table", "orders", "id", "order-1", "data", "imp_uid", "imp_1", "name",
        "\"quoted\"\n\xea\xb2\xb0\xec\xa0\x9c", "amount", 25000, "currency", "KRW", "price", 25000, "refund",
        "webhook_url", "created_at", record.created_at, "paid_at", record.paid_at, "cancelled_at", "cancels", "reason",
        "r", "price", 1000.5, "created_at", "2026-12-01T08:00:02.000Z");
    CHECK(expected != NULL);
    CHECK(doc && expected && json_equal(doc, expected));
    /* the tree form is the same document */
    json_t *tree = history_json(&record, ring, &err);
    CHECK(tree && expected && json_equal(tree, expected));
    json_decref(tree);

    record.refund = "1000.50";
    record.webhook_url = "http://127.0.0.1/hook";
    free(text);
    text = printed(&record, ring, &err);
    CHECK(text && strstr(text, "\"refund\":1000.5,\"webhook_url\":\"http://127.0.0.1/hook\"") != NULL);
    record.cancels = NULL;
    free(text);
    text = printed(&record, ring, &err);
    CHECK(text && strstr(text, "\"cancels\":[]}") != NULL);

    json_decref(doc);
    json_decref(expected);
    free(text);
    free(sealed);
}

/* The original server's AES-CBC values carry no tag: parsed, then printed. */
UNIT_CASE(legacy, &keys)
{
    const seal_ring *ring = &histories_ring;
    crypto_cbc_key legacy;
    CHECK(crypto_cbc_key_init(&legacy, HISTORY_KEY, HISTORY_IV) == 0);
    const char spaced[] = "{ \"imp_uid\" : \"imp_1\" ,\n \"amount\" : 25000 }";
    char *sealed = crypto_cbc_encrypt_base64(&legacy, spaced, strlen(spaced), NULL);
    history_record record = record_with(sealed);
    app_error err = {0};
    char *text = printed(&record, ring, &err);
    CHECK(text && strstr(text, "\"data\":{\"imp_uid\":\"imp_1\",\"amount\":25000}") != NULL);
    free(text);
    free(sealed);

    const char not_json[] = "imp_uid=imp_1";
    sealed = crypto_cbc_encrypt_base64(&legacy, not_json, strlen(not_json), NULL);
    record = record_with(sealed);
    app_error_clear(&err);
    CHECK(printed(&record, ring, &err) == NULL);
    CHECK(err.status == 500);
    free(sealed);
    crypto_cbc_key_clear(&legacy);
}

UNIT_CASE(unreadable, &keys)
{
    const seal_ring *ring = &histories_ring;
    seal_ring other = {0};
    CHECK(seal_ring_add(&other, "Zq8Wm3Xc7Vb1Nk5Lp9Rt2Yh6Gf4Dj0Sa", "Hy3Jk8Lm1Np6Qr4S", "histories") == 0);
    char *sealed = seal_value(&other, DOCUMENT, strlen(DOCUMENT));
    history_record record = record_with(sealed);
    app_error err = {0};
    CHECK(printed(&record, ring, &err) == NULL);
    CHECK(err.status == 500);
    app_error_clear(&err);
    CHECK(history_json(&record, ring, &err) == NULL);
    CHECK(err.status == 500);

    char *good = seal_value(ring, DOCUMENT, strlen(DOCUMENT));
    record = record_with(good);
    record.price = "a lot";
    app_error_clear(&err);
    CHECK(printed(&record, ring, &err) == NULL);
    CHECK(err.status == 500);
    free(good);
    free(sealed);
    seal_ring_clear(&other);
}
