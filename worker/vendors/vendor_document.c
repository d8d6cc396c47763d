/* Readers of vendor documents and builders of the normalized payment: the
 * small steps every adapter takes between a vendor's JSON and a
 * vendor_payment, written once so each adapter reads as its mapping only. */
#include "vendor_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *vendor_json_string(const json_t *doc, const char *name)
{
    return json_string_value(json_object_get(doc, name));
}

const char *vendor_json_text(const json_t *doc, const char *name)
{
    const char *value = vendor_json_string(doc, name);
    return value && *value ? value : NULL;
}

bool vendor_json_number(const json_t *doc, const char *name, double *out)
{
    json_t *value = json_object_get(doc, name);
    if (!json_is_number(value) || !isfinite(json_number_value(value)))
        return false;
    *out = json_number_value(value);
    return true;
}

bool vendor_json_list(const json_t *doc, const char *name, const json_t **out)
{
    const json_t *value = json_object_get(doc, name);
    *out = json_is_array(value) ? value : NULL;
    return !value || json_is_null(value) || json_is_array(value);
}

json_t *vendor_json_amount(double amount)
{
    if (amount == floor(amount) && fabs(amount) < 9007199254740992.0)
        return json_integer((json_int_t)amount);
    return json_real(amount);
}

bool vendor_copy_text(char *out, size_t cap, const char *src)
{
    if (!src || !*src || strlen(src) >= cap)
        return false;
    memcpy(out, src, strlen(src) + 1);
    return true;
}

bool vendor_cancels_add(json_t *cancels, const char *reason, double amount, int64_t created_at)
{
    json_t *cancel = json_pack("{s:s, s:o, s:I}", "reason", reason ? reason : "", "price", vendor_json_amount(amount),
                               "created_at", (json_int_t)created_at);
    return cancel && json_array_append_new(cancels, cancel) == 0;
}

typedef struct cancel_slot {
    json_t *cancel;
    json_int_t created_at;
    size_t position; /* keeps equal times in the vendor's order */
} cancel_slot;

static int cancel_slot_compare(const void *a, const void *b)
{
    const cancel_slot *x = a, *y = b;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    return x->position < y->position ? -1 : x->position > y->position;
}

int64_t vendor_cancels_sort(json_t *cancels)
{
    size_t count = json_array_size(cancels);
    if (count == 0)
        return 0;
    cancel_slot *slots = calloc(count, sizeof *slots);
    if (!slots) /* left in the vendor's order, which is already by time for both vendors */
        return json_integer_value(json_object_get(json_array_get(cancels, 0), "created_at"));
    for (size_t i = 0; i < count; i++) {
        slots[i].cancel = json_incref(json_array_get(cancels, i));
        slots[i].created_at = json_integer_value(json_object_get(slots[i].cancel, "created_at"));
        slots[i].position = i;
    }
    qsort(slots, count, sizeof *slots, cancel_slot_compare);
    for (size_t i = 0; i < count; i++)
        json_array_set_new(cancels, i, slots[i].cancel); /* moves our reference in */
    int64_t first = slots[0].created_at;
    free(slots);
    return first;
}

vendor_payment *vendor_payment_new(void)
{
    vendor_payment *payment = calloc(1, sizeof *payment);
    if (!payment)
        return NULL;
    payment->cancels = json_array();
    if (!payment->cancels) {
        free(payment);
        return NULL;
    }
    return payment;
}

vendor_payment *vendor_payment_read(json_t *doc, bool (*fill)(vendor_payment *payment, json_t *doc),
                                    const char *out_of_memory, const char *malformed, app_error *err)
{
    vendor_payment *payment = vendor_payment_new();
    if (!payment) {
        app_error_set(err, 500, "%s", out_of_memory);
        return NULL;
    }
    if (!fill(payment, doc)) {
        vendor_payment_free(payment);
        app_error_set(err, 502, "%s", malformed);
        return NULL;
    }
    return payment;
}

vendor_billing *vendor_billing_read(json_t *doc, const char *uid_member, const char *out_of_memory,
                                    const char *malformed, app_error *err)
{
    vendor_billing *billing = calloc(1, sizeof *billing);
    if (!billing) {
        app_error_set(err, 500, "%s", out_of_memory);
        return NULL;
    }
    if (!vendor_copy_text(billing->uid, sizeof billing->uid, vendor_json_string(doc, uid_member))) {
        free(billing);
        app_error_set(err, 502, "%s", malformed);
        return NULL;
    }
    billing->data = json_incref(doc);
    return billing;
}
