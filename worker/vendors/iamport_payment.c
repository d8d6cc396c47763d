/* iamport's documents, normalized: an IIamportPayment becomes a
 * vendor_payment (times in unix seconds, 0 meaning "not yet"; refunds in
 * cancel_amount and cancel_history), an IIamportSubscription a billing key. */
#include "vendor_internal.h"

#include <stdlib.h>
#include <string.h>

static bool iamport_status(const char *text, double cancel_amount, vendor_status *out)
{
    if (!text)
        return false;
    if (strcmp(text, "ready") == 0)
        *out = VENDOR_STATUS_READY;
    else if (strcmp(text, "paid") == 0)
        *out = cancel_amount > 0 ? VENDOR_STATUS_PARTIAL : VENDOR_STATUS_PAID;
    else if (strcmp(text, "cancelled") == 0)
        *out = VENDOR_STATUS_CANCELLED;
    else if (strcmp(text, "failed") == 0)
        *out = VENDOR_STATUS_FAILED;
    else
        return false;
    return true;
}

/* Unix seconds to milliseconds; absent, null and 0 all mean "no time". */
static int64_t iamport_time_ms(const json_t *doc, const char *name)
{
    double seconds = 0;
    if (!vendor_json_number(doc, name, &seconds) || seconds <= 0)
        return 0;
    return (int64_t)seconds * 1000;
}

/* cancel_history entries as {"reason","price","created_at"}. */
static bool iamport_cancels(const json_t *doc, json_t *out)
{
    json_t *history = json_object_get(doc, "cancel_history");
    if (json_is_null(history) || !history)
        return true;
    if (!json_is_array(history))
        return false;
    size_t i;
    json_t *entry;
    json_array_foreach(history, i, entry) {
        double amount;
        if (!json_is_object(entry) || !vendor_json_number(entry, "amount", &amount))
            return false;
        const char *reason = vendor_json_string(entry, "reason");
        json_t *cancel = json_pack("{s:s, s:o, s:I}", "reason", reason ? reason : "", "price",
                                   vendor_json_amount(amount), "created_at",
                                   (json_int_t)iamport_time_ms(entry, "cancelled_at"));
        if (!cancel || json_array_append_new(out, cancel) != 0)
            return false;
    }
    return true;
}

static bool iamport_payment_fill(vendor_payment *p, json_t *doc)
{
    const char *currency = vendor_json_string(doc, "currency");
    double cancel_amount = 0;
    if (!vendor_copy_text(p->uid, sizeof p->uid, vendor_json_string(doc, "imp_uid")) ||
        !vendor_copy_text(p->order_id, sizeof p->order_id, vendor_json_string(doc, "merchant_uid")) ||
        !vendor_copy_text(p->currency, sizeof p->currency, currency ? currency : "KRW") ||
        !vendor_json_number(doc, "amount", &p->amount))
        return false;
    if (json_object_get(doc, "cancel_amount") && !vendor_json_number(doc, "cancel_amount", &cancel_amount))
        return false;
    if (!iamport_status(vendor_json_string(doc, "status"), cancel_amount, &p->status) ||
        !iamport_cancels(doc, p->cancels))
        return false;
    p->refunded = cancel_amount;
    p->paid_at = iamport_time_ms(doc, "paid_at");
    p->cancelled_at = vendor_cancels_sort(p->cancels);
    if (p->cancelled_at == 0)
        p->cancelled_at = iamport_time_ms(doc, "cancelled_at");
    p->awaits_approval = false;
    p->data = json_incref(doc);
    return true;
}

vendor_payment *iamport_payment_read(json_t *doc, app_error *err)
{
    vendor_payment *payment = vendor_payment_new();
    if (!payment) {
        app_error_set(err, 500, "out of memory reading an iamport payment");
        return NULL;
    }
    if (!iamport_payment_fill(payment, doc)) {
        vendor_payment_free(payment);
        app_error_set(err, 502, "iamport sent a payment without imp_uid, merchant_uid, amount or a known status");
        return NULL;
    }
    return payment;
}

vendor_billing *iamport_billing_read(json_t *doc, app_error *err)
{
    vendor_billing *billing = calloc(1, sizeof *billing);
    if (!billing) {
        app_error_set(err, 500, "out of memory reading an iamport billing key");
        return NULL;
    }
    if (!vendor_copy_text(billing->uid, sizeof billing->uid, vendor_json_string(doc, "customer_uid"))) {
        free(billing);
        app_error_set(err, 502, "iamport sent a billing key without customer_uid");
        return NULL;
    }
    billing->data = json_incref(doc);
    return billing;
}
