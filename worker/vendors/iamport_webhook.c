/* iamport's webhook: {imp_uid, merchant_uid, status}. It only says "look at
 * payment imp_uid"; the worker then asks iamport itself. ready (a virtual
 * account issued) and failed change nothing we record. */
#include "iamport.h"

#include <string.h>

bool iamport_webhook_uid(const json_t *event, const char **uid, app_error *err)
{
    static const struct {
        const char *name;
        bool recorded;
    } statuses[] = {{"paid", true}, {"cancelled", true}, {"ready", false}, {"failed", false}};
    const char *status = vendor_json_text(event, "status");
    *uid = vendor_json_text(event, "imp_uid");
    if (!*uid || !vendor_json_text(event, "merchant_uid")) {
        app_error_set(err, 400, "imp_uid and merchant_uid must be non-empty strings");
        return false;
    }
    for (size_t i = 0; status && i < sizeof statuses / sizeof statuses[0]; i++) {
        if (strcmp(status, statuses[i].name) == 0) {
            if (!statuses[i].recorded)
                *uid = NULL;
            return true;
        }
    }
    app_error_set(err, 400, "status must be one of paid, ready, failed, cancelled");
    return false;
}
