/* Identity certification by SMS one-time password. The fake sends no SMS:
 * the password is shown in the record's __otp field (an extension the SDK
 * documents for tests), and confirming it marks the record certified. */
#include "fake_iamport.h"

#include <string.h>
#include <time.h>

static const char *const carriers[] = {"SKT", "KT", "LGT", NULL};
static const char no_certification[] = "no certification has this imp_uid";

static bool certification_input(json_t *body, app_error *err)
{
    const char *name, *phone, *birth, *digit, *carrier, *merchant_uid;
    if (!fake_iamport_input_text(body, "name", true, &name, err) ||
        !fake_iamport_input_text(body, "phone", true, &phone, err) ||
        !fake_iamport_input_string(body, "birth", true, &birth, err) ||
        !fake_iamport_input_string(body, "gender_digit", true, &digit, err) ||
        !fake_iamport_input_enum(body, "carrier", true, carriers, &carrier, err) ||
        !fake_iamport_input_boolean(body, "is_mvno", false, err) ||
        !fake_iamport_input_string(body, "merchant_uid", false, &merchant_uid, err) ||
        !fake_iamport_input_optional_strings(body, (const char *const[]){"commpany", "pg", NULL}, err))
        return false;
    size_t digits = 0;
    for (const char *p = phone; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (*p != '-')
            digits = 100;
    }
    if (digits < 9 || digits > 12) {
        app_error_set(err, 400, "phone must be a phone number of digits and dashes");
        return false;
    }
    if (!fake_iamport_text_is_birth_date(birth)) {
        app_error_set(err, 400, "birth must be a date formatted as YYYYMMDD");
        return false;
    }
    if (strlen(digit) != 1 || digit[0] < '0' || digit[0] > '9') {
        app_error_set(err, 400, "gender_digit must be one digit");
        return false;
    }
    return true;
}

/* Midnight UTC of a YYYYMMDD date, in unix seconds. */
static json_int_t birth_seconds(const char *birth)
{
    struct tm tm = {0};
    tm.tm_year = (birth[0] - '0') * 1000 + (birth[1] - '0') * 100 + (birth[2] - '0') * 10 + (birth[3] - '0') - 1900;
    tm.tm_mon = (birth[4] - '0') * 10 + (birth[5] - '0') - 1;
    tm.tm_mday = (birth[6] - '0') * 10 + (birth[7] - '0');
    return (json_int_t)timegm(&tm);
}

static json_t *certification_new(fake_iamport_state *st, json_t *body)
{
    char imp_uid[17], otp[7], unique_key[33], unique_in_site[33], pg_tid[25];
    if (fake_iamport_new_imp_uid(st, imp_uid) != 0 || fake_iamport_random_digits(otp, 6) != 0 ||
        fake_iamport_random_hex(unique_key, 32) != 0 || fake_iamport_random_hex(unique_in_site, 32) != 0 ||
        fake_iamport_random_hex(pg_tid, 24) != 0)
        return NULL;
    char phone[32];
    size_t n = 0;
    for (const char *p = json_string_value(json_object_get(body, "phone")); *p && n < sizeof phone - 1; p++)
        if (*p != '-')
            phone[n++] = *p;
    phone[n] = '\0';
    const char *birth = json_string_value(json_object_get(body, "birth"));
    int digit = json_string_value(json_object_get(body, "gender_digit"))[0] - '0';
    json_t *cert = json_pack(
        "{s:s, s:O, s:s, s:I, s:s, s:b, s:s, s:O, s:b, s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "imp_uid", imp_uid, "name",
        json_object_get(body, "name"), "gender", digit % 2 ? "male" : "female", "birth", birth_seconds(birth),
        "birthday", birth, "foreigner", digit >= 5 && digit <= 8, "phone", phone, "carrier",
        json_object_get(body, "carrier"), "certified", 0, "certified_at", 0, "unique_key", unique_key, "unique_in_site",
        unique_in_site, "pg_tid", pg_tid, "pg_provider", "danal", "origin", "fake-iamport-server", "__otp", otp);
    if (cert && fake_iamport_copy_string(cert, "merchant_uid", body, "merchant_uid") != 0) {
        json_decref(cert);
        return NULL;
    }
    return cert;
}

static json_t *certification_request(fake_server *fs, json_t *body, const http_route_params *params, app_error *err)
{
    (void)params;
    fake_iamport_state *st = fs->vendor;
    json_t *cert = certification_new(st, body);
    const char *imp_uid = cert ? json_string_value(json_object_get(cert, "imp_uid")) : NULL;
    json_t *accessor = imp_uid ? json_pack("{s:s}", "imp_uid", imp_uid) : NULL;
    if (!accessor || fake_store_put(st->certifications, imp_uid, json_incref(cert)) != 0) {
        json_decref(accessor);
        accessor = NULL;
        app_error_set(err, 500, "cannot start the certification");
    }
    json_decref(cert);
    return accessor;
}

void fake_iamport_certification_request(http_exchange *ex, const http_route_params *params, void *context)
{
    static const fake_iamport_call request = {certification_input, certification_request, 201};
    fake_iamport_call_answer(ex, params, context, &request);
}

static bool otp_input(json_t *body, app_error *err)
{
    const char *otp;
    return fake_iamport_input_string(body, "otp", true, &otp, err);
}

static json_t *certification_confirm(fake_server *fs, json_t *body, const http_route_params *params, app_error *err)
{
    fake_iamport_state *st = fs->vendor;
    const char *otp = json_string_value(json_object_get(body, "otp"));
    json_t *cert = fake_iamport_lookup(st->certifications, http_route_param(params, "imp_uid"), no_certification, err);
    if (!cert)
        return NULL;
    if (json_is_true(json_object_get(cert, "certified"))) {
        app_error_set(err, 422, "the certification is already confirmed");
        return NULL;
    }
    if (strcmp(otp, json_string_value(json_object_get(cert, "__otp"))) != 0) {
        app_error_set(err, 400, "the OTP is wrong");
        return NULL;
    }
    json_int_t now = (json_int_t)fake_iamport_now();
    if (fake_iamport_update(cert, json_pack("{s:b, s:I}", "certified", 1, "certified_at", now)) != 0) {
        app_error_set(err, 500, "cannot record the confirmation");
        return NULL;
    }
    return json_incref(cert);
}

void fake_iamport_certification_confirm(http_exchange *ex, const http_route_params *params, void *context)
{
    static const fake_iamport_call confirm = {otp_input, certification_confirm, 201};
    fake_iamport_call_answer(ex, params, context, &confirm);
}

void fake_iamport_certification_at(http_exchange *ex, const http_route_params *params, void *context)
{
    fake_iamport_state *st = fake_iamport_authorize(ex, context);
    if (st)
        fake_iamport_reply_found(ex, st->certifications, http_route_param(params, "imp_uid"), no_certification);
}

void fake_iamport_certification_erase(http_exchange *ex, const http_route_params *params, void *context)
{
    fake_iamport_state *st = fake_iamport_authorize(ex, context);
    if (st)
        fake_iamport_reply_removed(ex, st->certifications, http_route_param(params, "imp_uid"), no_certification);
}
