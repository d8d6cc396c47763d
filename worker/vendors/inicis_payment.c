/* KG Inicis' transaction inquiry, normalized: a tid and the merchant's moid,
 * the price and what remains of it, a status, the approval time in Korea's
 * YYYYMMDDhhmmss and every refund. Amounts may come as numbers or as
 * digit strings (INIAPI writes fields as text); both are read. */
#include "inicis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool inicis_amount(const json_t *doc, const char *name, double *out)
{
    if (vendor_json_number(doc, name, out))
        return true;
    const char *text = vendor_json_text(doc, name);
    char *end = NULL;
    if (!text)
        return false;
    *out = strtod(text, &end);
    return end && *end == '\0' && *out >= 0;
}

static bool inicis_status(const char *text, vendor_status *out)
{
    static const struct {
        const char *name;
        vendor_status status;
    } table[] = {
        {"ready", VENDOR_STATUS_READY},
        {"paid", VENDOR_STATUS_PAID},
        {"partial_refunded", VENDOR_STATUS_PARTIAL},
        {"refunded", VENDOR_STATUS_CANCELLED},
    };
    for (size_t i = 0; text && i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(text, table[i].name) == 0) {
            *out = table[i].status;
            return true;
        }
    }
    return false;
}

/* YYYYMMDDhhmmss in Korea to unix ms; absent or empty is 0. */
static bool inicis_time(const json_t *doc, const char *name, int64_t *out)
{
    const char *text = vendor_json_string(doc, name);
    *out = 0;
    if (!text || !*text)
        return true;
    if (strlen(text) != 14 || strspn(text, "0123456789") != 14)
        return false;
    char iso[32];
    snprintf(iso, sizeof iso, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s+09:00", text, text + 4, text + 6, text + 8, text + 10,
             text + 12);
    return vendor_time_parse_iso(iso, out);
}

static bool inicis_refunds(const json_t *doc, json_t *cancels)
{
    const json_t *refunds;
    if (!vendor_json_list(doc, "refunds", &refunds))
        return false;
    size_t i;
    json_t *entry;
    json_array_foreach(refunds, i, entry)
    {
        double amount;
        int64_t at;
        if (!json_is_object(entry) || !inicis_amount(entry, "price", &amount) || !inicis_time(entry, "dateTime", &at) ||
            !vendor_cancels_add(cancels, vendor_json_string(entry, "msg"), amount, at))
            return false;
    }
    return true;
}

static bool inicis_payment_fill(vendor_payment *p, json_t *doc)
{
    const char *currency = vendor_json_text(doc, "currency");
    double remains = 0;
    if (!vendor_copy_text(p->uid, sizeof p->uid, vendor_json_string(doc, "tid")) ||
        !vendor_copy_text(p->order_id, sizeof p->order_id, vendor_json_string(doc, "moid")) ||
        !vendor_copy_text(p->currency, sizeof p->currency, currency ? currency : "KRW") ||
        !inicis_amount(doc, "price", &p->amount) || !inicis_amount(doc, "remains", &remains) ||
        !inicis_status(vendor_json_string(doc, "status"), &p->status) ||
        !inicis_time(doc, "applDateTime", &p->paid_at) || !inicis_refunds(doc, p->cancels))
        return false;
    /* An unpaid virtual account closed by a Refund refunded nothing. */
    p->refunded = p->paid_at && remains < p->amount ? p->amount - remains : 0;
    p->cancelled_at = vendor_cancels_sort(p->cancels);
    p->data = json_incref(doc);
    return true;
}

vendor_payment *inicis_payment_read(json_t *doc, app_error *err)
{
    return vendor_payment_read(doc, inicis_payment_fill, "out of memory reading an Inicis payment",
                               "KG Inicis sent a payment without tid, moid, price, remains, a known status or "
                               "well-formed times",
                               err);
}
