/* Fuzz target of a request body's way in: the encrypted envelope
 * (api_body_read: base64, AES-CBC, padding, JSON, an object), then the field
 * checks each route runs on it. The first input byte says whether the rest
 * arrives as the body itself or as JSON text that the target encrypts with
 * the test key first (so mutations reach the JSON and the checks), and which
 * route's checks follow. */
#include "api_body.h"
#include "api_input.h"
#include "fuzz_api_body.h"
#include "fuzz_text.h"
#include "payment_input.h"

#include <stdint.h>
#include <stdlib.h>

static crypto_cbc_key key;

/* The checks of POST /payments/histories, in the handler's order. */
static bool check_history(const api_input *in)
{
    payment_vendor_input vendor;
    payment_source_input source;
    double price;
    const char *password, *webhook_url;
    return payment_input_vendor(in, &vendor) && payment_input_source(in, &source) &&
           api_input_number(in, "price", 0, PAYMENT_PRICE_MAX, &price) && payment_input_password(in, &password) &&
           api_input_url(in, "webhook_url", &webhook_url) && payment_input_store(NULL, &vendor, in->err);
}

/* PUT /payments/histories/cancel, with its optional refund account. */
static bool check_cancel(const api_input *in)
{
    payment_source_input source;
    const char *password, *reason, *text;
    double price;
    api_input account;
    bool has_account;
    if (!payment_input_source(in, &source) || !payment_input_password(in, &password) ||
        !api_input_number(in, "price", 0, PAYMENT_PRICE_MAX, &price) ||
        !api_input_string(in, "reason", PAYMENT_TEXT_MAX, &reason) ||
        !api_input_optional_object(in, "account", &account, &has_account))
        return false;
    return !has_account || (api_input_string(&account, "bank", PAYMENT_NAME_MAX, &text) &&
                            api_input_string(&account, "account", PAYMENT_NAME_MAX, &text) &&
                            api_input_string(&account, "holder", PAYMENT_NAME_MAX, &text) &&
                            api_input_string(&account, "mobile", PAYMENT_NAME_MAX, &text));
}

/* POST /payments/reservations. */
static bool check_reservation(const api_input *in)
{
    payment_vendor_input vendor;
    payment_source_input source;
    const char *title, *password;
    return payment_input_vendor(in, &vendor) && payment_input_source(in, &source) &&
           api_input_string(in, "title", PAYMENT_TEXT_MAX, &title) && payment_input_password(in, &password) &&
           payment_input_store(NULL, &vendor, in->err);
}

/* PATCH .../get: the source's fields and the password at the top. */
static bool check_lookup(const api_input *in)
{
    payment_source_input source;
    const char *password;
    return payment_input_source_fields(in, &source) && payment_input_password(in, &password);
}

static bool (*const checks[])(const api_input *in) = {check_history, check_cancel, check_reservation, check_lookup};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (crypto_cbc_key_init(&key, FUZZ_API_BODY_KEY, FUZZ_API_BODY_IV) != 0)
        abort();
    return 0;
}

/* A failure must be a 400 with a message; success leaves no error behind. */
static void check_outcome(bool passed, const app_error *err)
{
    if (passed ? err->status != 0 : (err->status != 400 && err->status != 422) || !err->message[0])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool encrypt = data[0] & 1;
    bool (*check)(const api_input *in) = checks[(data[0] >> 1) % (sizeof checks / sizeof checks[0])];
    size_t body_len = size - 1;
    /* NUL-terminated either way, as the server hands bodies out */
    char *body =
        encrypt ? crypto_cbc_encrypt_base64(&key, data + 1, size - 1, &body_len) : fuzz_text(data + 1, size - 1);
    if (!body)
        abort();
    http_request request = {.body = body, .body_len = body_len};
    app_error err = {0};
    json_t *doc = api_body_read(&key, &request, &err);
    if (!doc) {
        check_outcome(false, &err);
    } else {
        api_input in;
        api_input_init(&in, doc, &err);
        check_outcome(check(&in), &err);
        json_decref(doc);
    }
    free(body);
    return 0;
}
