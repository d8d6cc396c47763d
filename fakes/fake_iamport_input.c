/* Input checks for the iamport fake: every field a handler reads goes through
 * one of these, so a wrong type, a missing field or a malformed value becomes
 * a 400 that names the field, never a crash or a record with a bad shape. */
#include "fake_iamport.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

const char *const fake_iamport_currencies[] = {"KRW", "USD", "EUR", "JPY", NULL};
const char *const fake_iamport_buyer_fields[] = {"buyer_name",     "buyer_tel",   "buyer_addr",
                                                 "buyer_postcode", "custom_data", NULL};

/* NULL (absent) is fine for optional fields; JSON null counts as absent. */
static json_t *field_get(json_t *obj, const char *name, bool required, app_error *err)
{
    json_t *value = json_object_get(obj, name);
    if (value && json_is_null(value))
        value = NULL;
    if (!value && required)
        app_error_set(err, 400, "%s is required", name);
    return value;
}

bool fake_iamport_input_string(json_t *obj, const char *name, bool required, const char **out, app_error *err)
{
    *out = NULL;
    json_t *value = field_get(obj, name, required, err);
    if (!value)
        return !required;
    if (!json_is_string(value)) {
        app_error_set(err, 400, "%s must be a string", name);
        return false;
    }
    *out = json_string_value(value);
    return true;
}

bool fake_iamport_input_text(json_t *obj, const char *name, bool required, const char **out, app_error *err)
{
    if (!fake_iamport_input_string(obj, name, required, out, err))
        return false;
    if (*out && !**out) {
        app_error_set(err, 400, "%s must not be empty", name);
        return false;
    }
    return true;
}

bool fake_iamport_input_number(json_t *obj, const char *name, bool required, double *out, bool *present, app_error *err)
{
    *out = 0;
    if (present)
        *present = false;
    json_t *value = field_get(obj, name, required, err);
    if (!value)
        return !required;
    if (!json_is_number(value) || !isfinite(json_number_value(value))) {
        app_error_set(err, 400, "%s must be a number", name);
        return false;
    }
    *out = json_number_value(value);
    if (present)
        *present = true;
    return true;
}

/* A number that also passes check; what names the values check accepts. */
static bool input_number_checked(json_t *obj, const char *name, bool required, bool (*check)(double), const char *what,
                                 double *out, bool *present, app_error *err)
{
    bool here = false;
    if (!fake_iamport_input_number(obj, name, required, out, &here, err))
        return false;
    if (present)
        *present = here;
    if (here && !check(*out)) {
        app_error_set(err, 400, "%s must be %s", name, what);
        return false;
    }
    return true;
}

/* Money: positive and below what a double holds exactly in whole units. */
static bool number_is_amount(double value)
{
    return value > 0 && value <= 1e15;
}

/* Unix seconds up to the end of year 9999. */
static bool number_is_time(double value)
{
    return value >= 0 && value <= 253402300799.0;
}

bool fake_iamport_input_amount(json_t *obj, const char *name, bool required, double *out, bool *present, app_error *err)
{
    return input_number_checked(obj, name, required, number_is_amount, "a positive amount", out, present, err);
}

bool fake_iamport_input_time(json_t *obj, const char *name, bool required, double *out, bool *present, app_error *err)
{
    return input_number_checked(obj, name, required, number_is_time, "a time in unix seconds", out, present, err);
}

bool fake_iamport_input_boolean(json_t *obj, const char *name, bool required, app_error *err)
{
    json_t *value = field_get(obj, name, required, err);
    if (!value)
        return !required;
    if (!json_is_boolean(value)) {
        app_error_set(err, 400, "%s must be true or false", name);
        return false;
    }
    return true;
}

bool fake_iamport_input_enum(json_t *obj, const char *name, bool required, const char *const *allowed, const char **out,
                             app_error *err)
{
    if (!fake_iamport_input_string(obj, name, required, out, err))
        return false;
    if (!*out)
        return true;
    for (const char *const *a = allowed; *a; a++)
        if (strcmp(*a, *out) == 0)
            return true;
    char list[128] = "";
    for (const char *const *a = allowed; *a; a++) {
        strncat(list, *a, sizeof list - strlen(list) - 1);
        if (a[1])
            strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    app_error_set(err, 400, "%s must be one of %s", name, list);
    return false;
}

static bool email_local_char(char c)
{
    return isalnum((unsigned char)c) || strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

/* A DNS label: 1-63 letters, digits and inner hyphens. */
static bool email_label(const char *label, size_t len)
{
    if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)label[i]) && label[i] != '-')
            return false;
    return true;
}

/* The rule ajv-formats applies to "email": dot-atoms @ dotted labels. */
bool fake_iamport_text_is_email(const char *text)
{
    const char *at = strchr(text, '@');
    if (!at || at == text || strchr(at + 1, '@'))
        return false;
    for (const char *p = text; p < at; p++) {
        if (*p == '.') {
            if (p == text || p[1] == '.' || p + 1 == at)
                return false;
        } else if (!email_local_char(*p)) {
            return false;
        }
    }
    const char *label = at + 1;
    int labels = 0;
    for (;;) {
        const char *dot = strchr(label, '.');
        size_t len = dot ? (size_t)(dot - label) : strlen(label);
        if (!email_label(label, len))
            return false;
        labels++;
        if (!dot)
            break;
        label = dot + 1;
    }
    return labels >= 2;
}

bool fake_iamport_input_email(json_t *obj, const char *name, const char **out, app_error *err)
{
    if (!fake_iamport_input_string(obj, name, false, out, err))
        return false;
    if (*out && !fake_iamport_text_is_email(*out)) {
        app_error_set(err, 400, "%s must be an email address", name);
        return false;
    }
    return true;
}

static bool text_digits(const char *text, size_t from, size_t count)
{
    for (size_t i = from; i < from + count; i++)
        if (!isdigit((unsigned char)text[i]))
            return false;
    return true;
}

static int text_number(const char *text, size_t from, size_t count)
{
    int n = 0;
    for (size_t i = from; i < from + count; i++)
        n = n * 10 + (text[i] - '0');
    return n;
}

static bool month_day_valid(int month, int day)
{
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

bool fake_iamport_text_is_birth_date(const char *text)
{
    return strlen(text) == 8 && text_digits(text, 0, 8) &&
           month_day_valid(text_number(text, 4, 2), text_number(text, 6, 2));
}

static bool text_is_card_number(const char *t)
{
    return strlen(t) == 19 && text_digits(t, 0, 4) && t[4] == '-' && text_digits(t, 5, 4) && t[9] == '-' &&
           text_digits(t, 10, 4) && t[14] == '-' && text_digits(t, 15, 4);
}

static bool text_is_expiry(const char *t)
{
    return strlen(t) == 7 && text_digits(t, 0, 4) && t[4] == '-' && text_digits(t, 5, 2) &&
           month_day_valid(text_number(t, 5, 2), 1);
}

/* YYMMDD of a person, or the 10 digits of a business registration. */
static bool text_is_card_birth(const char *t)
{
    size_t len = strlen(t);
    if (len == 10)
        return text_digits(t, 0, 10);
    return len == 6 && text_digits(t, 0, 6) && month_day_valid(text_number(t, 2, 2), text_number(t, 4, 2));
}

static bool text_is_digits(const char *t, size_t min, size_t max)
{
    size_t len = strlen(t);
    return len >= min && len <= max && text_digits(t, 0, len);
}

static bool input_checked(json_t *obj, const char *name, bool required, bool (*check)(const char *), const char *format,
                          app_error *err)
{
    const char *value;
    if (!fake_iamport_input_string(obj, name, required, &value, err))
        return false;
    if (value && !check(value)) {
        app_error_set(err, 400, "%s must be %s", name, format);
        return false;
    }
    return true;
}

static bool text_is_two_digits(const char *t)
{
    return text_is_digits(t, 2, 2);
}

static bool text_is_cvc(const char *t)
{
    return text_is_digits(t, 2, 4);
}

/* The card fields of IIamportSubscription.ICreate and IOnetime. */
bool fake_iamport_input_card(json_t *obj, app_error *err)
{
    const char *email;
    return input_checked(obj, "card_number", true, text_is_card_number, "formatted as 0000-0000-0000-0000", err) &&
           input_checked(obj, "expiry", true, text_is_expiry, "formatted as YYYY-MM", err) &&
           input_checked(obj, "birth", true, text_is_card_birth, "YYMMDD or a 10-digit business number", err) &&
           input_checked(obj, "pwd_2digit", false, text_is_two_digits, "two digits", err) &&
           input_checked(obj, "cvc", false, text_is_cvc, "two to four digits", err) &&
           fake_iamport_input_email(obj, "customer_email", &email, err) &&
           fake_iamport_input_optional_strings(obj,
                                               (const char *const[]){"customer_name", "customer_tel", "customer_addr",
                                                                     "customr_addr", "customer_postcode", NULL},
                                               err);
}

bool fake_iamport_input_optional_strings(json_t *obj, const char *const *names, app_error *err)
{
    const char *ignored;
    for (const char *const *n = names; *n; n++)
        if (!fake_iamport_input_string(obj, *n, false, &ignored, err))
            return false;
    return true;
}

bool fake_iamport_input_same_as_path(const char *name, const char *in_body, const char *in_path, app_error *err)
{
    if (!in_body || strcmp(in_body, in_path) == 0)
        return true;
    app_error_set(err, 400, "%s in the body differs from the one in the path", name);
    return false;
}
