/* Toss's documents, normalized: an ITossPayment becomes a vendor_payment
 * (times in ISO-8601 with Korea's offset; refunds in cancels[] and the
 * shrinking balanceAmount), an ITossBilling a billing key. */
#include "toss.h"

#include <string.h>

static bool toss_status(const char *text, vendor_status *out, bool *awaits_approval)
{
    static const struct {
        const char *name;
        vendor_status status;
        bool awaits_approval;
    } table[] = {
        {"DONE", VENDOR_STATUS_PAID, false},
        {"CANCELED", VENDOR_STATUS_CANCELLED, false},
        {"PARTIAL_CANCELED", VENDOR_STATUS_PARTIAL, false},
        {"WAITING_FOR_DEPOSIT", VENDOR_STATUS_READY, false},
        {"IN_PROGRESS", VENDOR_STATUS_READY, true},
        {"READY", VENDOR_STATUS_READY, true},
        {"ABORTED", VENDOR_STATUS_FAILED, false},
        {"EXPIRED", VENDOR_STATUS_FAILED, false},
    };
    for (size_t i = 0; text && i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(text, table[i].name) == 0) {
            *out = table[i].status;
            *awaits_approval = table[i].awaits_approval;
            return true;
        }
    }
    return false;
}

/* An ISO-8601 member to unix ms: absent or null is 0, malformed is false. */
static bool toss_time(const json_t *doc, const char *name, int64_t *out)
{
    json_t *value = json_object_get(doc, name);
    *out = 0;
    if (!value || json_is_null(value))
        return true;
    return vendor_time_parse_iso(json_string_value(value), out);
}

/* cancels[] as {"reason","price","created_at"}; their sum in *total. */
static bool toss_cancels(const json_t *doc, json_t *out, double *total)
{
    const json_t *cancels;
    *total = 0;
    if (!vendor_json_list(doc, "cancels", &cancels))
        return false;
    size_t i;
    json_t *entry;
    json_array_foreach(cancels, i, entry)
    {
        double amount;
        int64_t at;
        if (!json_is_object(entry) || !vendor_json_number(entry, "cancelAmount", &amount) ||
            !toss_time(entry, "canceledAt", &at))
            return false;
        if (!vendor_cancels_add(out, vendor_json_string(entry, "cancelReason"), amount, at))
            return false;
        *total += amount;
    }
    return true;
}

static bool toss_payment_fill(vendor_payment *p, json_t *doc)
{
    const char *currency = vendor_json_string(doc, "currency");
    double cancelled = 0, balance = 0;
    if (!vendor_copy_text(p->uid, sizeof p->uid, vendor_json_string(doc, "paymentKey")) ||
        !vendor_copy_text(p->order_id, sizeof p->order_id, vendor_json_string(doc, "orderId")) ||
        !vendor_copy_text(p->currency, sizeof p->currency, currency ? currency : "KRW") ||
        !vendor_json_number(doc, "totalAmount", &p->amount) ||
        !toss_status(vendor_json_string(doc, "status"), &p->status, &p->awaits_approval) ||
        !toss_time(doc, "approvedAt", &p->paid_at) || !toss_cancels(doc, p->cancels, &cancelled))
        return false;
    /* The cancels say exactly what was refunded; the balance is the fallback. */
    if (json_array_size(p->cancels) > 0)
        p->refunded = cancelled;
    else if (vendor_json_number(doc, "balanceAmount", &balance) && balance < p->amount)
        p->refunded = p->amount - balance;
    p->cancelled_at = vendor_cancels_sort(p->cancels);
    p->data = json_incref(doc);
    return true;
}

vendor_payment *toss_payment_read(json_t *doc, app_error *err)
{
    return vendor_payment_read(doc, toss_payment_fill, "out of memory reading a Toss payment",
                               "Toss Payments sent a payment without paymentKey, orderId, totalAmount, a known "
                               "status or well-formed times",
                               err);
}

vendor_billing *toss_billing_read(json_t *doc, app_error *err)
{
    return vendor_billing_read(doc, "billingKey", "out of memory reading a Toss billing key",
                               "Toss Payments sent a billing key without billingKey", err);
}
