/* history_values: from a vendor_payment to stored values. Every vendor
 * document is sealed before it leaves this file; plaintext copies are wiped. */
#include "history_values.h"

#include "api_body.h"
#include "db_row.h"
#include "sealed_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void milliseconds_text(int64_t ms, char *out, size_t cap)
{
    if (ms > 0)
        snprintf(out, cap, "%" PRId64, ms);
    else
        out[0] = '\0';
}

/* One cancel as stored: its place, amount, reason, time and sealed document
 * (the adapter's "data" when it gives one, else the cancel itself). */
static json_t *stored_cancel(const json_t *cancel, size_t sequence, const seal_ring *ring)
{
    const json_t *document = json_object_get(cancel, "data");
    char *sealed = sealed_json_seal(ring, document ? document : cancel);
    if (!sealed)
        return NULL;
    const char *reason = json_string_value(json_object_get(cancel, "reason"));
    json_t *price = json_object_get(cancel, "price");
    json_t *amount = json_is_number(price) ? json_incref(price) : json_integer(0);
    json_t *stored = json_pack("{s:I, s:o, s:s, s:I, s:s}", "sequence", (json_int_t)sequence, "price", amount, "reason",
                               reason ? reason : "", "created_at",
                               json_integer_value(json_object_get(cancel, "created_at")), "data", sealed);
    free(sealed);
    return stored;
}

static char *stored_cancels(const json_t *cancels, const seal_ring *ring)
{
    json_t *list = json_array();
    if (!list)
        return NULL;
    for (size_t i = 0; i < json_array_size(cancels); i++) {
        json_t *stored = stored_cancel(json_array_get(cancels, i), i, ring);
        if (!stored || json_array_append_new(list, stored) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    char *text = json_dumps(list, API_JSON_FLAGS);
    json_decref(list);
    return text;
}

int history_values_from_payment(history_values *out, const vendor_payment *payment, const seal_ring *history_seal,
                                const seal_ring *cancel_seal)
{
    memset(out, 0, sizeof *out);
    snprintf(out->currency, sizeof out->currency, "%s", payment->currency[0] ? payment->currency : "KRW");
    if (payment->refunded > 0)
        db_amount_text(payment->refunded, out->refund, sizeof out->refund);
    milliseconds_text(payment->paid_at, out->paid_at, sizeof out->paid_at);
    milliseconds_text(payment->cancelled_at, out->cancelled_at, sizeof out->cancelled_at);
    snprintf(out->cancel_count, sizeof out->cancel_count, "%zu", json_array_size(payment->cancels));
    out->data = sealed_json_seal(history_seal, payment->data);
    out->cancels = stored_cancels(payment->cancels, cancel_seal);
    if (!out->data || !out->cancels) {
        history_values_free(out);
        return -1;
    }
    return 0;
}

void history_values_free(history_values *values)
{
    free(values->data);
    free(values->cancels);
    values->data = NULL;
    values->cancels = NULL;
}

const char *history_values_param(const char *text)
{
    return text && text[0] ? text : NULL;
}
