/* What every Toss request goes through before a handler trusts it: the Basic
 * secret key, a JSON object body, and fields of the right type and format.
 * Problems are answered as Toss does, with {code, message}. */
#include "crypto.h"
#include "fake_toss.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void fake_toss_respond_error(http_exchange *ex, int status, const char *code, const char *message)
{
    json_t *doc = json_pack("{s:s, s:s}", "code", code, "message", message);
    if (doc == NULL) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    fake_respond_json(ex, status, doc);
}

static const char *fake_toss_error_code(int status)
{
    switch (status) {
    case 400:
        return "INVALID_REQUEST";
    case 401:
        return "UNAUTHORIZED_KEY";
    case 403:
        return "FORBIDDEN_REQUEST";
    case 404:
        return "NOT_FOUND";
    default:
        return "FAILED_INTERNAL_SYSTEM_PROCESSING";
    }
}

void fake_toss_respond_app_error(http_exchange *ex, const app_error *err)
{
    fake_toss_respond_error(ex, err->status, fake_toss_error_code(err->status), err->message);
}

void fake_toss_respond_record(http_exchange *ex, int status, json_t *record)
{
    fake_respond_json(ex, status, json_incref(record));
}

/* Toss takes the secret key as the Basic user name with an empty password. */
static bool fake_toss_credentials_match(const char *header, const char *secret)
{
    if (header == NULL || secret == NULL || strncasecmp(header, "Basic ", 6) != 0)
        return false;
    const char *token = header + 6;
    while (*token == ' ')
        token++;
    size_t decoded_len = 0;
    unsigned char *decoded = crypto_base64_decode(token, strlen(token), &decoded_len);
    if (decoded == NULL)
        return false;
    size_t secret_len = strlen(secret);
    bool match =
        decoded_len == secret_len + 1 && memcmp(decoded, secret, secret_len) == 0 && decoded[secret_len] == ':';
    free(decoded);
    return match;
}

bool fake_toss_authorized(fake_server *fs, http_exchange *ex)
{
    const http_request *req = http_exchange_request(ex);
    if (fake_toss_credentials_match(http_request_header(req, "Authorization"), fs->settings.secret))
        return true;
    fake_toss_respond_error(ex, 401, "UNAUTHORIZED_KEY", "Unauthorized secret key or client key.");
    return false;
}

json_t *fake_toss_read_body(http_exchange *ex, bool allow_empty)
{
    const http_request *req = http_exchange_request(ex);
    if (req->body == NULL || req->body_len == 0) {
        if (allow_empty)
            return json_object();
        fake_toss_respond_error(ex, 400, "INVALID_REQUEST", "The request body must be a JSON object.");
        return NULL;
    }
    json_error_t error;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &error);
    if (body == NULL) {
        char message[128];
        snprintf(message, sizeof message, "The request body is not valid JSON (line %d, column %d).", error.line,
                 error.column);
        fake_toss_respond_error(ex, 400, "INVALID_REQUEST", message);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        fake_toss_respond_error(ex, 400, "INVALID_REQUEST", "The request body must be a JSON object.");
        return NULL;
    }
    return body;
}

/* The member to read, or NULL when err is already set or the member is
 * absent (null counts as absent; absent and required sets err). */
static json_t *fake_toss_field(json_t *obj, const char *name, fake_toss_presence presence, app_error *err)
{
    if (err->status != 0)
        return NULL;
    json_t *value = json_object_get(obj, name);
    if (value != NULL && !json_is_null(value))
        return value;
    if (presence == FAKE_TOSS_REQUIRED)
        app_error_set(err, 400, "%s is required.", name);
    return NULL;
}

const char *fake_toss_field_string(json_t *obj, const char *name, fake_toss_presence presence, app_error *err)
{
    json_t *value = fake_toss_field(obj, name, presence, err);
    if (value == NULL)
        return NULL;
    if (!json_is_string(value)) {
        app_error_set(err, 400, "%s must be a string.", name);
        return NULL;
    }
    size_t len = json_string_length(value);
    if (len > FAKE_TOSS_MAX_STRING) {
        app_error_set(err, 400, "%s is longer than %d bytes.", name, FAKE_TOSS_MAX_STRING);
        return NULL;
    }
    if (len == 0 && presence == FAKE_TOSS_REQUIRED) {
        app_error_set(err, 400, "%s must not be empty.", name);
        return NULL;
    }
    return json_string_value(value);
}

const char *fake_toss_field_digits(json_t *obj, const char *name, fake_toss_presence presence, size_t min_digits,
                                   size_t max_digits, app_error *err)
{
    const char *text = fake_toss_field_string(obj, name, presence, err);
    if (text == NULL)
        return NULL;
    size_t len = strlen(text);
    bool digits = len >= min_digits && len <= max_digits;
    for (size_t i = 0; digits && i < len; i++)
        digits = isdigit((unsigned char)text[i]) != 0;
    if (digits)
        return text;
    if (min_digits == max_digits)
        app_error_set(err, 400, "%s must be %zu digits.", name, min_digits);
    else
        app_error_set(err, 400, "%s must be %zu to %zu digits.", name, min_digits, max_digits);
    return NULL;
}

/* JSON numbers may arrive as 1000 or 1000.0; both are whole. */
static bool fake_toss_whole_number(const json_t *value, int64_t *out)
{
    if (json_is_integer(value)) {
        *out = json_integer_value(value);
        return true;
    }
    if (!json_is_real(value))
        return false;
    double real = json_real_value(value);
    if (!isfinite(real) || real != floor(real) || fabs(real) > (double)FAKE_TOSS_MAX_AMOUNT * 1000)
        return false;
    *out = (int64_t)real;
    return true;
}

bool fake_toss_field_integer(json_t *obj, const char *name, fake_toss_presence presence, int64_t minimum,
                             int64_t maximum, int64_t *out, app_error *err)
{
    json_t *value = fake_toss_field(obj, name, presence, err);
    if (value == NULL)
        return false;
    int64_t number = 0;
    if (!fake_toss_whole_number(value, &number)) {
        app_error_set(err, 400, "%s must be a whole number.", name);
        return false;
    }
    if (number < minimum || number > maximum) {
        app_error_set(err, 400, "%s must be between %lld and %lld.", name, (long long)minimum, (long long)maximum);
        return false;
    }
    *out = number;
    return true;
}

bool fake_toss_field_boolean(json_t *obj, const char *name, bool *out, app_error *err)
{
    json_t *value = fake_toss_field(obj, name, FAKE_TOSS_OPTIONAL, err);
    if (value == NULL)
        return false;
    if (!json_is_boolean(value)) {
        app_error_set(err, 400, "%s must be a boolean.", name);
        return false;
    }
    *out = json_is_true(value);
    return true;
}

json_t *fake_toss_field_object(json_t *obj, const char *name, fake_toss_presence presence, app_error *err)
{
    json_t *value = fake_toss_field(obj, name, presence, err);
    if (value != NULL && !json_is_object(value)) {
        app_error_set(err, 400, "%s must be an object.", name);
        return NULL;
    }
    return value;
}

void fake_toss_field_matches(json_t *obj, const char *name, const char *expected, app_error *err)
{
    const char *value = fake_toss_field_string(obj, name, FAKE_TOSS_OPTIONAL, err);
    if (value != NULL && strcmp(value, expected) != 0)
        app_error_set(err, 400, "%s must be %s here.", name, expected);
}

void fake_toss_read_order(json_t *body, fake_toss_presence order_name, fake_toss_order *order, app_error *err)
{
    order->order_id = fake_toss_field_string(body, "orderId", FAKE_TOSS_REQUIRED, err);
    order->order_name = fake_toss_field_string(body, "orderName", order_name, err);
    if (order->order_name == NULL)
        order->order_name = "test";
    order->amount = 0;
    fake_toss_field_integer(body, "amount", FAKE_TOSS_REQUIRED, 1, FAKE_TOSS_MAX_AMOUNT, &order->amount, err);
    order->tax_free_amount = 0;
    fake_toss_field_integer(body, "taxFreeAmount", FAKE_TOSS_OPTIONAL, 0, order->amount, &order->tax_free_amount, err);
}

/* Two digits 01-12 at text (the caller checked they are digits). */
static bool fake_toss_is_month(const char *text)
{
    return (text[0] == '0' && text[1] >= '1') || (text[0] == '1' && text[1] <= '2');
}

/* YYMMDD with a month 01-12 and a day 01-31. */
static bool fake_toss_is_birthday(const char *text)
{
    if (!fake_toss_is_month(text + 2))
        return false;
    int day = (text[4] - '0') * 10 + (text[5] - '0');
    return day >= 1 && day <= 31;
}

static void fake_toss_check_email(json_t *body, app_error *err)
{
    const char *email = fake_toss_field_string(body, "customerEmail", FAKE_TOSS_OPTIONAL, err);
    if (email == NULL)
        return;
    const char *at = strchr(email, '@');
    if (at == NULL || at == email || strchr(at + 1, '.') == NULL || strchr(email, ' ') != NULL)
        app_error_set(err, 400, "customerEmail must be an e-mail address.");
}

static void fake_toss_check_vbv(json_t *body, app_error *err)
{
    json_t *vbv = fake_toss_field_object(body, "vbv", FAKE_TOSS_OPTIONAL, err);
    if (vbv == NULL)
        return;
    fake_toss_field_string(vbv, "cavv", FAKE_TOSS_REQUIRED, err);
    fake_toss_field_string(vbv, "xid", FAKE_TOSS_REQUIRED, err);
    fake_toss_field_string(vbv, "eci", FAKE_TOSS_REQUIRED, err);
}

void fake_toss_check_card_input(json_t *body, fake_toss_presence birthday, app_error *err)
{
    fake_toss_field_digits(body, "cardNumber", FAKE_TOSS_REQUIRED, 16, 16, err);
    fake_toss_field_digits(body, "cardExpirationYear", FAKE_TOSS_REQUIRED, 2, 2, err);
    const char *month = fake_toss_field_digits(body, "cardExpirationMonth", FAKE_TOSS_REQUIRED, 2, 2, err);
    if (month != NULL && !fake_toss_is_month(month))
        app_error_set(err, 400, "cardExpirationMonth must be 01 to 12.");
    const char *born = fake_toss_field_digits(body, "customerBirthday", birthday, 6, 6, err);
    if (born != NULL && !fake_toss_is_birthday(born))
        app_error_set(err, 400, "customerBirthday must be YYMMDD.");
    fake_toss_check_email(body, err);
    fake_toss_check_vbv(body, err);
}
