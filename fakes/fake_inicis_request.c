/* What every INIAPI call goes through before a handler trusts it: a form body,
 * a known type, the merchant id and hashData. The protocol as the fake
 * speaks it (README, Fake vendors, has the same with its sources):
 *
 * Confirmed (manual.inicis.com/iniapi and Inicis' sample code):
 * - POST https://iniapi.inicis.com/api/v1/<service>, fields as
 *   application/x-www-form-urlencoded (JSON is refused), answer JSON.
 * - Every request: type, paymethod, timestamp (YYYYMMDDhhmmss), clientIp,
 *   mid, hashData = hex SHA-512 of INIAPIKey + the fields below, in order.
 * - /api/v1/refund, type=Refund: tid, msg; hash key+type+paymethod+timestamp
 *   +clientIp+mid+tid.
 * - /api/v1/refund, type=PartialRefund: tid, price (refunded now),
 *   confirmPrice (what remains after), msg; for paymethod=Vacct also
 *   refundAcctNum [ENC], refundBankCode, refundAcctName; hash ...+mid+tid
 *   +price+confirmPrice+refundAcctNum (the encrypted text).
 * - [ENC]: base64(AES-128-CBC(PKCS#7), INIAPI key, INIAPI IV); Inicis' FAQ
 *   vector: 123456789 with INIpayTest's key -> qwMHVJqsmXKoR+d8wQTS4g==.
 * - resultCode "00" is success; resultMsg says why otherwise.
 *
 * From public integration code, not seen in the manual itself:
 * - /api/v1/billing, type=Billing, paymethod=Card: moid, goodName,
 *   buyerName, buyerEmail, buyerTel, price, billKey (url, cardQuota,
 *   quotaInterest, authentification optional); hash ...+mid+moid+price
 *   +billKey. Answer: tid, payDate, payTime, payAuthCode, price, cardCode,
 *   cardQuota.
 *
 * The fake's own choices (not confirmed):
 * - type=Refund of a Vacct also takes refundAcctNum/BankCode/AcctName when
 *   the account was paid, its hash ending with refundAcctNum like the
 *   partial refund's.
 * - /api/v1/inquiry, type=Inquiry: tid, or moid when tid is absent; hash
 *   ...+mid+tid+moid (absent fields count as "").
 * - Result codes other than "00" (fake_inicis.h), and HTTP 200 for all.
 * - timestamp must be 14 digits; its distance from now is not checked. */
#include "fake_inicis.h"
#include "fake_stats.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void fake_inicis_respond_result(http_exchange *ex, const char *code, const char *message)
{
    json_t *doc = json_pack("{s:s, s:s}", "resultCode", code, "resultMsg", message);
    if (!doc) {
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    fake_respond_json(ex, 200, doc);
}

void fake_inicis_respond_success(http_exchange *ex, json_t *fields, const char *message)
{
    if (!fields || json_object_set_new(fields, "resultCode", json_string(FAKE_INICIS_OK)) != 0 ||
        json_object_set_new(fields, "resultMsg", json_string(message)) != 0) {
        json_decref(fields);
        http_respond_error(ex, 500, "out of memory");
        return;
    }
    fake_respond_json(ex, 200, fields);
}

const char *fake_inicis_field(const json_t *form, const char *name)
{
    const char *value = json_string_value(json_object_get(form, name));
    return value && *value ? value : NULL;
}

const char *fake_inicis_required(http_exchange *ex, const json_t *form, const char *name)
{
    const char *value = fake_inicis_field(form, name);
    if (value && strlen(value) <= FAKE_INICIS_MAX_FIELD)
        return value;
    char message[160];
    snprintf(message, sizeof message, "%s is required (at most %d bytes).", name, FAKE_INICIS_MAX_FIELD);
    fake_inicis_respond_result(ex, FAKE_INICIS_BAD_REQUEST, message);
    return NULL;
}

static bool request_digits(const char *text, size_t min_len, size_t max_len)
{
    size_t len = strlen(text);
    if (len < min_len || len > max_len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)text[i]))
            return false;
    return true;
}

bool fake_inicis_price(http_exchange *ex, const json_t *form, const char *name, bool allow_zero, int64_t *out)
{
    const char *text = fake_inicis_required(ex, form, name);
    if (!text)
        return false;
    int64_t value = request_digits(text, 1, 13) ? strtoll(text, NULL, 10) : -1;
    if (value < (allow_zero ? 0 : 1) || value > FAKE_INICIS_MAX_PRICE) {
        char message[160];
        snprintf(message, sizeof message, "%s must be a whole number of won from %d to %lld.", name, allow_zero ? 0 : 1,
                 (long long)FAKE_INICIS_MAX_PRICE);
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_REQUEST, message);
        return false;
    }
    *out = value;
    return true;
}

/* The hash the client should have sent: malloc'd hex, or NULL. */
static char *request_expected_hash(const char *key, const fake_inicis_operation *op, const json_t *form)
{
    size_t len = strlen(key);
    for (const char *const *f = op->hashed; *f; f++) {
        const char *value = fake_inicis_field(form, *f);
        len += value ? strlen(value) : 0;
    }
    char *text = malloc(len + 1);
    char *hex = malloc(FAKE_INICIS_HASH_HEX_LEN);
    if (!text || !hex) {
        free(text);
        free(hex);
        return NULL;
    }
    size_t used = strlen(key);
    memcpy(text, key, used);
    for (const char *const *f = op->hashed; *f; f++) {
        const char *value = fake_inicis_field(form, *f);
        if (!value)
            continue;
        memcpy(text + used, value, strlen(value));
        used += strlen(value);
    }
    int rc = fake_inicis_sha512_hex(text, used, hex);
    free(text);
    if (rc != 0) {
        free(hex);
        return NULL;
    }
    return hex;
}

/* The common fields, the merchant id and the hash: true when all hold. */
static bool request_authentic(fake_server *fs, http_exchange *ex, const fake_inicis_operation *op, json_t *form)
{
    const char *timestamp = fake_inicis_required(ex, form, "timestamp");
    if (!timestamp || !fake_inicis_required(ex, form, "clientIp") || !fake_inicis_required(ex, form, "paymethod"))
        return false;
    if (!request_digits(timestamp, 14, 14)) {
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_REQUEST, "timestamp must be YYYYMMDDhhmmss.");
        return false;
    }
    const char *mid = fake_inicis_required(ex, form, "mid");
    const char *hash = mid ? fake_inicis_required(ex, form, "hashData") : NULL;
    if (!hash)
        return false;
    if (strcmp(mid, fs->settings.merchant_id) != 0) {
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_MID, "No merchant has this mid.");
        return false;
    }
    char *expected = request_expected_hash(fs->settings.key, op, form);
    if (!expected) {
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_REQUEST, "The hash could not be computed.");
        return false;
    }
    bool match = strcasecmp(expected, hash) == 0;
    free(expected);
    if (!match) {
        fake_stats_count(fs, "hash_refusals");
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_HASH, "hashData does not match the request.");
    }
    return match;
}

static json_t *request_form(http_exchange *ex)
{
    const http_request *req = http_exchange_request(ex);
    const char *type = http_request_header(req, "Content-Type");
    if (!type || strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0) {
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_REQUEST,
                                   "The request must be application/x-www-form-urlencoded.");
        return NULL;
    }
    const char *problem = NULL;
    json_t *form = form_urlencoded_parse(req->body ? req->body : "", req->body_len, &problem);
    if (!form) {
        char message[160];
        snprintf(message, sizeof message, "The form cannot be read: %s.", problem);
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_REQUEST, message);
    }
    return form;
}

void fake_inicis_serve(fake_server *fs, http_exchange *ex, const fake_inicis_operation *operations, size_t count)
{
    json_t *form = request_form(ex);
    if (!form)
        return;
    const char *type = fake_inicis_required(ex, form, "type");
    const fake_inicis_operation *op = NULL;
    for (size_t i = 0; type && i < count && !op; i++)
        if (strcmp(type, operations[i].type) == 0)
            op = &operations[i];
    if (type && !op)
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_REQUEST, "This type is not served at this path.");
    else if (op && request_authentic(fs, ex, op, form))
        op->run(fs, ex, form);
    json_decref(form);
}
