/* Vendor errors keep their identity: what vendor_call makes of an answer
 * carries the adapter's code, the vendor's own code, its HTTP status and its
 * message, while our status and message stay what they were; the error
 * answer adds them as its "vendor" member beside the original shape, and an
 * error of our own has no such member. */
#include "error_answer.h"
#include "unit.h"
#include "vendor_internal.h"

#include <stdlib.h>
#include <string.h>

static const vendor_dialect plain = {.name = "Plain Vendor", .code = "plain", .forbidden_is_refusal = true};
static const vendor_dialect enveloped = {.name = "Envelope", .code = "envelope", .enveloped = true};
static const vendor_dialect result_coded = {.name = "Coded", .code = "coded", .code_member = "resultCode"};

static app_error read_answer(const vendor_dialect *dialect, long status, const char *body)
{
    app_error err = {0};
    json_t *doc;
    vendor_answer_read(dialect, status, body, strlen(body), &doc, &err);
    json_decref(doc);
    return err;
}

UNIT_CASE(refusal_keeps_the_vendor, NULL)
{
    app_error err = read_answer(&plain, 403, "{\"code\":\"REJECT_CARD_PAYMENT\",\"message\":\"card refused\"}");
    CHECK(err.status == 422);
    CHECK_STR(err.message, "Plain Vendor refused: card refused");
    CHECK_STR(err.vendor.code, "plain");
    CHECK_STR(err.vendor.vendor_code, "REJECT_CARD_PAYMENT");
    CHECK(err.vendor.status == 403);
    CHECK_STR(err.vendor.message, "card refused");
}

/* An enveloped refusal comes with HTTP 200 and an integer code. */
UNIT_CASE(enveloped_refusal, NULL)
{
    app_error err = read_answer(&enveloped, 200, "{\"code\":-1,\"message\":\"already cancelled\",\"response\":null}");
    CHECK(err.status == 422);
    CHECK_STR(err.vendor.code, "envelope");
    CHECK_STR(err.vendor.vendor_code, "-1");
    CHECK(err.vendor.status == 200);
    CHECK_STR(err.vendor.message, "already cancelled");
}

UNIT_CASE(code_member_and_server_failure, NULL)
{
    app_error err = read_answer(&result_coded, 500, "{\"resultCode\":\"01\"}");
    CHECK(err.status == 502);
    CHECK_STR(err.vendor.vendor_code, "01");
    CHECK(err.vendor.status == 500);
    CHECK_STR(err.vendor.message, "");
    err = read_answer(&plain, 200, "{\"id\":1}");
    CHECK(err.status == 0 && err.vendor.code[0] == '\0');
}

UNIT_CASE(answer_shape, NULL)
{
    app_error err = read_answer(&plain, 404, "{\"code\":\"NOT_FOUND_PAYMENT\",\"message\":\"no such payment\"}");
    char *body = error_answer_body(&err);
    CHECK_STR(body, "{\"statusCode\":404,\"message\":\"Plain Vendor: no such payment\",\"error\":\"Not Found\","
                    "\"vendor\":{\"code\":\"plain\",\"status\":404,\"vendor_code\":\"NOT_FOUND_PAYMENT\","
                    "\"message\":\"no such payment\"}}");
    free(body);
    /* Reusing the error for one of ours drops the vendor. */
    app_error_set(&err, 400, "amount must be positive");
    body = error_answer_body(&err);
    CHECK_STR(body, "{\"statusCode\":400,\"message\":\"amount must be positive\",\"error\":\"Bad Request\"}");
    free(body);
    /* No answer came: the vendor is named, its status is null. */
    app_error_set(&err, 503, "Plain Vendor is unavailable (circuit open); retry after 3 s");
    app_error_set_vendor(&err, "plain", NULL, 0, NULL);
    body = error_answer_body(&err);
    CHECK_STR(body, "{\"statusCode\":503,\"message\":\"Plain Vendor is unavailable (circuit open); retry after 3 s\","
                    "\"error\":\"Service Unavailable\",\"vendor\":{\"code\":\"plain\",\"status\":null,"
                    "\"vendor_code\":null,\"message\":null}}");
    free(body);
}
