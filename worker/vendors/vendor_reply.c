/* How an adapter's operation answers its caller: with a payment or a billing
 * key read from the vendor's document, or with an error, through whichever
 * of the two callbacks the operation was given. Written once, so that no
 * adapter can answer twice or forget to read what it answers. */
#include "vendor_internal.h"

void vendor_reply_fail(const vendor_reply *reply, const app_error *err)
{
    if (reply->payment_cb)
        reply->payment_cb(NULL, err, reply->data);
    else
        reply->billing_cb(NULL, err, reply->data);
}

void vendor_reply_answer(const vendor_reply *reply, json_t *doc, const app_error *err,
                         vendor_payment_read_fn read_payment, vendor_billing_read_fn read_billing)
{
    app_error read_err = {0};
    if (err) {
        vendor_reply_fail(reply, err);
    } else if (reply->payment_cb) {
        vendor_payment *payment = read_payment(doc, &read_err);
        reply->payment_cb(payment, payment ? NULL : &read_err, reply->data);
    } else {
        vendor_billing *billing = read_billing(doc, &read_err);
        reply->billing_cb(billing, billing ? NULL : &read_err, reply->data);
    }
}
