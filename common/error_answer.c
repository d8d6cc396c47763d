/* The error answer of an app_error. The members of the original server's
 * error shape stay exactly as they are, so that its SDKs read our errors as
 * they read its own; a vendor's identity is one extra member beside them. */
#include "error_answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int error_answer_status(const app_error *err)
{
    return err->status ? err->status : 500;
}

/* Absent text is null, not a missing member: the contract (IPaymentError)
 * requires every member of "vendor". */
static json_t *text_or_null(const char *text)
{
    return text[0] ? json_string(text) : json_null();
}

/* {"code", "status", "vendor_code", "message"}: the adapter, the status the
 * vendor answered and the vendor's own code and words (null when none). */
static json_t *vendor_member(const app_error_vendor *vendor)
{
    json_t *status = vendor->status ? json_integer(vendor->status) : json_null();
    return json_pack("{s:s, s:o, s:o, s:o}", "code", vendor->code, "status", status, "vendor_code",
                     text_or_null(vendor->vendor_code), "message", text_or_null(vendor->message));
}

char *error_answer_body(const app_error *err)
{
    int status = error_answer_status(err);
    json_t *doc = http_error_document(status, err->message);
    if (!doc)
        return NULL;
    if (err->vendor.code[0]) {
        json_t *vendor = vendor_member(&err->vendor);
        if (!vendor || json_object_set_new(doc, "vendor", vendor) != 0) {
            json_decref(doc);
            return http_error_body(status, err->message);
        }
    }
    char *body = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return body;
}

void error_answer_headers(http_exchange *ex, const app_error *err)
{
    if (!err->retry_after_s)
        return;
    char seconds[16];
    snprintf(seconds, sizeof seconds, "%u", err->retry_after_s);
    http_exchange_add_header(ex, "Retry-After", seconds);
}

void error_answer_respond(http_exchange *ex, const app_error *err)
{
    char *body = error_answer_body(err);
    if (!body) {
        http_respond_error(ex, error_answer_status(err), err->message);
        return;
    }
    error_answer_headers(ex, err);
    http_respond(ex, error_answer_status(err), HTTP_ERROR_CONTENT_TYPE, body, strlen(body));
    free(body);
}
