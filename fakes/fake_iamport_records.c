/* Record fields of the iamport fake: how amounts are written, how optional
 * strings are carried over from a request, one checked way to change a
 * stored record, so a failed allocation never leaves half an update, and the
 * state a record must be in for a call to go on. */
#include "fake_iamport.h"

#include <math.h>
#include <string.h>

/* Whole amounts stay JSON integers ("25000", not "25000.0"). */
json_t *fake_iamport_amount_json(double amount)
{
    if (amount == floor(amount) && fabs(amount) < 9007199254740992.0)
        return json_integer((json_int_t)amount);
    return json_real(amount);
}

int fake_iamport_copy_string(json_t *out, const char *key, json_t *in, const char *in_key)
{
    json_t *value = in ? json_object_get(in, in_key) : NULL;
    return json_object_set_new(out, key, json_is_string(value) ? json_copy(value) : json_null());
}

int fake_iamport_update(json_t *record, json_t *changes)
{
    int rc = changes && json_is_object(changes) ? json_object_update(record, changes) : -1;
    json_decref(changes);
    return rc;
}

bool fake_iamport_require(json_t *record, const char *field, const char *value, const char *refusal, app_error *err)
{
    const char *actual = json_string_value(json_object_get(record, field));
    if (actual && strcmp(actual, value) == 0)
        return true;
    app_error_set(err, 422, "%s", refusal);
    return false;
}
