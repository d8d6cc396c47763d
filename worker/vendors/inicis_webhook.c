/* KG Inicis' virtual-account notification (INIpay's 입금통보), a form:
 * type_msg 0200 says a deposit arrived on the account of no_tid. Like every
 * webhook it only says "look at payment no_tid"; other message types
 * (cancelled deposits and the like) change nothing we record. */
#include "inicis.h"

#include <string.h>

#define INICIS_DEPOSIT_MESSAGE "0200"

bool inicis_webhook_uid(const json_t *event, const char **uid, app_error *err)
{
    const char *type = vendor_json_text(event, "type_msg");
    const char *tid = vendor_json_text(event, "no_tid");
    *uid = NULL;
    if (!type || !tid) {
        app_error_set(err, 400, "type_msg and no_tid must be non-empty fields");
        return false;
    }
    if (strcmp(type, INICIS_DEPOSIT_MESSAGE) == 0)
        *uid = tid;
    return true;
}
