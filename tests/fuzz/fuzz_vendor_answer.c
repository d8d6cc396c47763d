/* Fuzz target of what a vendor answers: the HTTP status and body of an
 * iamport, Toss or Inicis answer go through vendor_answer_read (what
 * vendor_call makes of every answer: envelope, result code, refusal
 * message), then through the adapter's reader of a payment or a billing
 * key, as the routes would get them. The first input byte picks vendor,
 * reader and status (its top bit: Inicis, which has payments only). */
#include "iamport.h"
#include "inicis.h"
#include "toss.h"
#include "vendor_internal.h"

#include <stdint.h>
#include <stdlib.h>

static const long statuses[] = {200, 200, 200, 200, 400, 401, 403, 404, 408, 429, 500, 201};

/* What any answer must come to: a payment, or a clear error, never both; a
 * payment names itself and its order and keeps the vendor's document. (The
 * readers take the vendor's numbers and times as they come: a refund or a
 * time before 1970 is the vendor's word, not a fault of ours.) */
static void check_payment(const vendor_payment *payment, const app_error *err)
{
    if (payment ? err->status != 0 : err->status == 0 || !err->message[0])
        abort();
    if (payment && (!payment->uid[0] || !payment->order_id[0] || !json_is_array(payment->cancels) || !payment->data))
        abort();
}

static void read_answer(const vendor_dialect *dialect, int reader, json_t *result)
{
    app_error err = {0};
    if (reader == 0 || dialect == &inicis_dialect) {
        vendor_payment *payment = dialect == &iamport_dialect ? iamport_payment_read(result, &err)
                                  : dialect == &toss_dialect  ? toss_payment_read(result, &err)
                                                              : inicis_payment_read(result, &err);
        check_payment(payment, &err);
        if (payment)
            vendor_payment_free(payment);
    } else {
        vendor_billing *billing =
            dialect == &iamport_dialect ? iamport_billing_read(result, &err) : toss_billing_read(result, &err);
        if (billing ? !billing->uid[0] : err.status == 0)
            abort();
        if (billing)
            vendor_billing_free(billing);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const vendor_dialect *dialect = data[0] & 0x80 ? &inicis_dialect : data[0] & 1 ? &toss_dialect : &iamport_dialect;
    int reader = (data[0] >> 1) & 1;
    long status = statuses[(data[0] >> 2) % (sizeof statuses / sizeof statuses[0])];
    json_t *doc;
    app_error err = {0};
    json_t *result = vendor_answer_read(dialect, status, (const char *)data + 1, size - 1, &doc, &err);
    bool success = status >= 200 && status < 300;
    if (!success && err.status == 0) /* every other status is an error */
        abort();
    if (result && !json_is_object(result))
        abort();
    if (!err.status)
        read_answer(dialect, reader, result);
    json_decref(doc);
    return 0;
}
