/* The payment API's field checks: each invalid field gets a 400 naming its
 * path, and valid input passes untouched. These messages are what API
 * callers act on. (Bodies that cannot be read: test_api_body.c.) */
#include "api_input.h"
#include "unit.h"

#include <stdlib.h>

/* Runs one check on a document; returns the 400's message, or "" on success. */
static const char *check_message(const char *json, bool (*check)(const api_input *in), app_error *err)
{
    json_t *doc = json_loads(json, 0, NULL);
    api_input in;
    app_error_clear(err);
    api_input_init(&in, doc, err);
    bool ok = check(&in);
    json_decref(doc);
    if (ok != (err->status == 0))
        return "(result and error disagree)";
    return ok ? "" : err->message;
}

static bool check_source_id(const api_input *in)
{
    api_input source;
    const char *id;
    return api_input_object(in, "source", &source) && api_input_uuid(&source, "id", &id);
}

static bool check_code(const api_input *in)
{
    static const char *const codes[] = {"iamport", "toss.payments", NULL};
    const char *code;
    return api_input_enum(in, "code", codes, &code);
}

static bool check_price(const api_input *in)
{
    double price;
    return api_input_number(in, "price", 0, 1e15, &price);
}

static bool check_url(const api_input *in)
{
    const char *url;
    return api_input_url(in, "webhook_url", &url);
}

static bool check_name(const api_input *in)
{
    const char *name;
    return api_input_string(in, "name", 4, &name);
}

static bool check_account(const api_input *in)
{
    api_input account;
    bool present;
    const char *bank;
    return api_input_optional_object(in, "account", &account, &present) &&
           (!present || api_input_string(&account, "bank", 16, &bank));
}

/* A document, the field check run on it, and the 400's message it gets
 * ("" when it passes). */
static const struct field_case {
    const char *json;
    bool (*check)(const api_input *in);
    const char *message;
} field_cases[] = {
    {"{\"source\":{\"id\":\"6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b\"}}", check_source_id, ""},
    {"{\"source\":{\"id\":\"6F1D2C3B-4A5E-4F60-8A7B-9C0D1E2F3A4B\"}}", check_source_id, ""},
    {"{\"source\":{\"id\":\"not-a-uuid\"}}", check_source_id, "source.id must be a UUID"},
    {"{\"source\":{\"id\":\"6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4bb\"}}", check_source_id, "source.id must be a UUID"},
    {"{\"source\":{}}", check_source_id, "source.id is required"},
    {"{\"source\":[]}", check_source_id, "source must be an object"},
    {"{}", check_source_id, "source is required"},
    {"{\"source\":{\"id\":7}}", check_source_id, "source.id must be a string"},
    {"{\"code\":\"toss.payments\"}", check_code, ""},
    {"{\"code\":\"paypal\"}", check_code, "code must be one of \"iamport\", \"toss.payments\""},
    {"{\"price\":0}", check_price, ""},
    {"{\"price\":12.5}", check_price, ""},
    {"{\"price\":-1}", check_price, "price must be at least 0"},
    {"{\"price\":1e16}", check_price, "price must be at most 1e+15"},
    {"{\"price\":\"100\"}", check_price, "price must be a number"},
    {"{\"price\":null}", check_price, "price is required"},
    {"{\"webhook_url\":\"https://example.com/hook?x=1\"}", check_url, ""},
    {"{\"webhook_url\":\"HTTP://127.0.0.1:8080\"}", check_url, ""},
    {"{\"webhook_url\":\"ftp://example.com\"}", check_url, "webhook_url must be an absolute http or https URL"},
    {"{\"webhook_url\":\"http://\"}", check_url, "webhook_url must be an absolute http or https URL"},
    {"{\"webhook_url\":\"http://exa mple.com\"}", check_url, "webhook_url must be an absolute http or https URL"},
    {"{\"name\":\"abcd\"}", check_name, ""},
    {"{\"name\":\"abcde\"}", check_name, "name must be at most 4 bytes long"},
    {"{\"name\":\"\"}", check_name, "name must not be empty"},
    {"{\"account\":null}", check_account, ""},
    {"{}", check_account, ""},
    {"{\"account\":{\"bank\":\"088\"}}", check_account, ""},
    {"{\"account\":{}}", check_account, "account.bank is required"},
    {"{\"account\":\"088\"}", check_account, "account must be an object"},
};

UNIT_CASE(fields, NULL)
{
    for (size_t i = 0; i < sizeof field_cases / sizeof field_cases[0]; i++) {
        const struct field_case *c = &field_cases[i];
        app_error err;
        if (!CHECK_STR(check_message(c->json, c->check, &err), c->message))
            fprintf(stderr, "  for %s\n", c->json);
    }
}
