/* Toss Payments' webhook: {eventType: PAYMENT_STATUS_CHANGED, data:
 * {paymentKey, orderId, status}}. It only says "look at payment paymentKey";
 * WAITING_FOR_DEPOSIT (a virtual account issued) and other event types
 * change nothing we record. */
#include "toss.h"

#include <string.h>

bool toss_webhook_uid(const json_t *event, const char **uid, app_error *err)
{
    const json_t *data = json_object_get(event, "data");
    const char *type = vendor_json_text(event, "eventType");
    *uid = NULL;
    if (type && strcmp(type, "PAYMENT_STATUS_CHANGED") != 0)
        return true;
    const char *key = vendor_json_text(data, "paymentKey");
    const char *status = vendor_json_text(data, "status");
    if (!json_is_object(data) || !key || !status) {
        app_error_set(err, 400, "data.paymentKey and data.status must be non-empty strings");
        return false;
    }
    if (strcmp(status, "WAITING_FOR_DEPOSIT") != 0)
        *uid = key;
    return true;
}
