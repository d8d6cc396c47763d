/* iamport's documents, normalized: an IIamportPayment becomes a
 * vendor_payment (times in unix seconds, 0 meaning "not yet"; refunds in
 * cancel_amount and cancel_history), an IIamportSubscription a billing key. */
#include "iamport.h"

#include <string.h>

/* The original fake iamport (and so the test suites of its users) says
 * "cancelled" after any cancel, partial ones included: the refunded amount
 * says which it was. */
static bool iamport_status(const char *text, double cancel_amount, double amount, vendor_status *out)
{
    if (!text)
        return false;
    if (strcmp(text, "ready") == 0)
        *out = VENDOR_STATUS_READY;
    else if (strcmp(text, "paid") == 0)
        *out = cancel_amount > 0 ? VENDOR_STATUS_PARTIAL : VENDOR_STATUS_PAID;
    else if (strcmp(text, "cancelled") == 0)
        *out = cancel_amount > 0 && cancel_amount < amount ? VENDOR_STATUS_PARTIAL : VENDOR_STATUS_CANCELLED;
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
    const json_t *history;
    if (!vendor_json_list(doc, "cancel_history", &history))
        return false;
    size_t i;
    json_t *entry;
    json_array_foreach(history, i, entry)
    {
        double amount;
        if (!json_is_object(entry) || !vendor_json_number(entry, "amount", &amount))
            return false;
        if (!vendor_cancels_add(out, vendor_json_string(entry, "reason"), amount,
                                iamport_time_ms(entry, "cancelled_at")))
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
    if (!iamport_status(vendor_json_string(doc, "status"), cancel_amount, p->amount, &p->status) ||
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
    return vendor_payment_read(doc, iamport_payment_fill, "out of memory reading an iamport payment",
                               "iamport sent a payment without imp_uid, merchant_uid, amount or a known status", err);
}

vendor_billing *iamport_billing_read(json_t *doc, app_error *err)
{
    return vendor_billing_read(doc, "customer_uid", "out of memory reading an iamport billing key",
                               "iamport sent a billing key without customer_uid", err);
}
