/* The iamport envelope: every answer, success or failure, is
 * {code, message, response}, code 0 on success and -1 on failure, so a client
 * reads errors the same way it reads them from the real vendor. */
#include "fake_iamport.h"

#include "log.h"

void fake_iamport_reply(http_exchange *ex, int status, json_t *record)
{
    json_t *doc =
        json_pack("{s:i, s:s, s:O}", "code", 0, "message", "success", "response", record ? record : json_null());
    if (!doc) {
        http_respond_error(ex, 500, "cannot build the response");
        return;
    }
    fake_respond_json(ex, status, doc);
}

void fake_iamport_fail(http_exchange *ex, int status, const char *message)
{
    json_t *doc = json_pack("{s:i, s:s, s:n}", "code", -1, "message", message, "response");
    if (!doc) {
        http_respond_error(ex, status, message);
        return;
    }
    fake_respond_json(ex, status, doc);
}

void fake_iamport_fail_error(http_exchange *ex, const app_error *err)
{
    fake_iamport_fail(ex, err->status ? err->status : 500, err->message);
}

void fake_iamport_send_webhook(fake_server *fs, json_t *payment)
{
    json_t *doc = json_pack("{s:O, s:O, s:O}", "imp_uid", json_object_get(payment, "imp_uid"), "merchant_uid",
                            json_object_get(payment, "merchant_uid"), "status", json_object_get(payment, "status"));
    if (!doc) {
        log_error("webhook not sent: cannot build the document");
        return;
    }
    fake_iamport_state *st = fs->vendor;
    json_t *notice_url = fake_store_get(st->notice_urls, json_string_value(json_object_get(payment, "imp_uid")));
    fake_server_send_webhook_to(fs, json_string_value(notice_url), doc);
}
