/* Transaction inquiry (POST /api/v1/inquiry, type=Inquiry): a payment by its
 * tid, or by the merchant's order id (moid) when no tid is given, with what
 * remains of it and every refund. The answer's shape is the fake's own: the
 * public material does not show INIAPI's inquiry answer. */
#include "fake_inicis.h"
#include "fake_stats.h"

static const char *const inquiry_hashed[] = {"type", "paymethod", "timestamp", "clientIp", "mid", "tid", "moid", NULL};

static void inquiry_run(fake_server *fs, http_exchange *ex, json_t *form)
{
    const char *tid = fake_inicis_field(form, "tid");
    const char *moid = fake_inicis_field(form, "moid");
    if (!tid && !moid) {
        fake_inicis_respond_result(ex, FAKE_INICIS_BAD_REQUEST, "tid or moid is required.");
        return;
    }
    fake_stats_count(fs, "lookups");
    json_t *payment = tid ? fake_inicis_find_payment(fs, tid) : fake_inicis_find_order(fs, moid);
    if (!payment) {
        fake_inicis_respond_result(ex, FAKE_INICIS_NOT_FOUND, "No payment has this tid or moid.");
        return;
    }
    fake_inicis_respond_success(ex, fake_inicis_payment_view(payment), "Found.");
}

static const fake_inicis_operation inquiry_operations[] = {
    {"Inquiry", inquiry_hashed, inquiry_run},
};

void fake_inicis_inquiry(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    fake_inicis_serve(context, ex, inquiry_operations, 1);
}
