/* operation_mismatch: one job per refused payment, freed in one place,
 * job_answer(). The operation's reason is the refusal, so the row says
 * why the payment was cancelled. */
#include "operation_mismatch.h"

#include "db_row.h"
#include "log.h"
#include "operation.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct mismatch_job {
    operation op;
    const vendor_store *store;
    const vendor_adapter *adapter;
    char uid[sizeof((vendor_payment *)0)->uid];
    char refusal[256];
    app_error answer;
    operation_mismatch_cb cb;
    void *data;
} mismatch_job;

bool operation_mismatch_applies(const vendor_payment *payment, const char *vendor_code)
{
    const vendor_adapter *adapter = vendor_find(vendor_code);
    return adapter && adapter->cancels_mismatch && !payment->awaits_approval &&
           (payment->status == VENDOR_STATUS_PAID || payment->status == VENDOR_STATUS_PARTIAL) &&
           payment->amount - payment->refunded > 0;
}

static void job_answer(mismatch_job *job)
{
    job->cb(&job->answer, job->data);
    operation_clear(&job->op);
    free(job);
}

static void on_settled(const app_error *err, void *data)
{
    mismatch_job *job = data;
    if (err)
        log_warn("histories: cannot settle operation %s (%d %s); the reconciler will", job->op.id, err->status,
                 err->message);
    job_answer(job);
}

static void on_cancelled(vendor_payment *payment, const app_error *err, void *data)
{
    mismatch_job *job = data;
    if (!err) {
        if (operation_keep_answer(&job->op, payment) < 0)
            log_warn("histories: cannot seal the vendor's answer of operation %s", job->op.id);
        vendor_payment_free(payment);
        app_error_set(&job->answer, 422, "%.180s: the payment was cancelled at the vendor", job->refusal);
        operation_settle_now(&job->op, "succeeded", job->refusal, on_settled, job);
        return;
    }
    if (operation_refused(err)) {
        app_error_set(&job->answer, 422, "%.180s; the vendor refused to cancel the payment", job->refusal);
        operation_settle_now(&job->op, "refused", err->message, on_settled, job);
        return;
    }
    log_warn("histories: no answer to the mismatch cancel of operation %s (%d %s); the reconciler settles it",
             job->op.id, err->status, err->message);
    app_error_set(&job->answer, 422, "%.180s; the payment is being cancelled at the vendor", job->refusal);
    job_answer(job);
}

static void on_created(const char *id, const app_error *err, void *data)
{
    mismatch_job *job = data;
    if (err) {
        /* Another operation on the payment is unsettled: the refusal stands. */
        if (err->status != 409)
            job->answer = *err;
        job_answer(job);
        return;
    }
    snprintf(job->op.id, sizeof job->op.id, "%s", id);
    job->adapter->cancel(job->op.app->vendors, job->store, job->uid, job->op.guard.checksum, job->refusal, NULL,
                         &job->op.guard, on_cancelled, job);
}

/* The operation of cancelling what remains of payment, committed. */
static void create_operation(mismatch_job *job, const payment_vendor_input *vendor, const vendor_payment *payment)
{
    double remaining = operation_key_checksum(payment->amount, payment->refunded);
    db_amount_text(remaining, job->op.amount, sizeof job->op.amount);
    db_amount_text(payment->refunded, job->op.refund_before, sizeof job->op.refund_before);
    if (operation_key_mismatch(vendor->uid, job->op.amount, job->op.key) < 0) {
        job_answer(job);
        return;
    }
    job->op.guard = (vendor_guard){.idempotency_key = job->op.key, .has_checksum = true, .checksum = remaining};
    operation_new in = {
        .kind = "mismatch_cancel",
        .vendor_code = vendor->code,
        .vendor_store_id = vendor->store_id,
        .vendor_uid = vendor->uid,
        .amount = job->op.amount,
        .reason = job->refusal,
        .refund_before = job->op.refund_before,
        .idempotency_key = job->op.key,
    };
    operation_store_create(job->op.app->db, &in, on_created, job);
}

void operation_mismatch_cancel(worker *w, const vendor_store *store, const payment_vendor_input *vendor,
                               vendor_payment *payment, const app_error *refusal, operation_mismatch_cb cb, void *data)
{
    mismatch_job *job = calloc(1, sizeof *job);
    if (!job) {
        vendor_payment_free(payment);
        cb(refusal, data);
        return;
    }
    job->op.app = w;
    job->answer = *refusal;
    job->cb = cb;
    job->data = data;
    snprintf(job->refusal, sizeof job->refusal, "%s", refusal->message);
    job->store = store;
    job->adapter = vendor_find(vendor->code);
    snprintf(job->uid, sizeof job->uid, "%s", vendor->uid);
    create_operation(job, vendor, payment);
    vendor_payment_free(payment);
}
