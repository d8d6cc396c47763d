/* operation_decide: one job per claimed operation, freed in one place,
 * job_finish(). Every decision is logged with the operation's id, kind and
 * vendor (never its input or the vendor's document) and stored on the row. */
#include "operation_decide.h"

#include "charge_run.h"
#include "db_row.h"
#include "log.h"
#include "operation.h"
#include "payment_input.h"
#include "sealed_json.h"
#include "webhook_record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct decide_job {
    worker *app;
    operation_claimed *row;
    operation op;
    webhook_record webhook; /* a cancel recorded on its history */
    json_t *input;          /* a confirm's pending history, opened */
    history_values values;
    history_new insert;
    payment_vendor_input vendor;
    payment_source_input source;
    void (*done)(void *data);
    void *data;
} decide_job;

static void job_finish(decide_job *job)
{
    void (*done)(void *) = job->done;
    void *data = job->data;
    operation_claimed_free(job->row);
    operation_clear(&job->op);
    webhook_record_free(&job->webhook);
    history_values_free(&job->values);
    json_decref(job->input);
    free(job);
    done(data);
}

static void on_settled(const app_error *err, void *data)
{
    decide_job *job = data;
    if (err)
        log_warn("reconciler: cannot settle operation %s (%d %s); it is claimed again later", job->row->id, err->status,
                 err->message);
    job_finish(job);
}

static void settle(decide_job *job, const char *state, const char *decision)
{
    log_info("reconciler: operation %s (%s, %s): %s: %s", job->row->id, job->row->kind, job->row->vendor_code, state,
             decision);
    operation_settle_now(&job->op, state, decision, on_settled, job);
}

/* The settlement committed with the history write it belongs to. */
static void recorded(decide_job *job)
{
    log_info("reconciler: operation %s (%s, %s): succeeded: %s", job->row->id, job->row->kind, job->row->vendor_code,
             job->op.decision);
    job_finish(job);
}

static void on_released(const char *state, const app_error *err, void *data)
{
    decide_job *job = data;
    if (err)
        log_warn("reconciler: cannot release operation %s (%d %s)", job->row->id, err->status, err->message);
    else if (strcmp(state, "unknown") == 0)
        log_error("reconciler: operation %s (%s, %s, payment %s) could not be settled after %d attempts: "
                  "an operator must check it at the vendor (%s)",
                  job->row->id, job->row->kind, job->row->vendor_code, job->row->vendor_uid,
                  OPERATION_DECIDE_MAX_ATTEMPTS, job->op.decision);
    job_finish(job);
}

/* Nothing was settled: the next claim tries again. */
static void release(decide_job *job, const char *why, const app_error *err)
{
    snprintf(job->op.decision, sizeof job->op.decision, "%.60s (%d %.160s); tried again later", why, err->status,
             err->message);
    log_warn("reconciler: operation %s (%s, %s): %s", job->row->id, job->row->kind, job->row->vendor_code,
             job->op.decision);
    operation_store_release(job->app->db, job->row->id, job->op.decision, OPERATION_DECIDE_MAX_ATTEMPTS,
                            job->app->config.reconcile_interval_ms, on_released, job);
}

/* ---- a cancel ---- */

static void on_cancel_recorded(history_record *record, const app_error *err, void *data)
{
    decide_job *job = data;
    history_record_free(record);
    if (err) {
        release(job, "cannot record the vendor's cancel", err);
        return;
    }
    recorded(job);
}

static void decide_cancel(decide_job *job, vendor_payment *payment)
{
    double expected = strtod(job->row->refund_before, NULL) + strtod(job->row->amount, NULL);
    if (payment->refunded + 1e-6 < expected) {
        vendor_payment_free(payment);
        settle(job, "refused", "not performed at the vendor");
        return;
    }
    if (webhook_record_init(&job->webhook, job->app, "cancel", NULL) < 0 ||
        operation_keep_answer(&job->op, payment) < 0) {
        vendor_payment_free(payment);
        app_error err;
        app_error_set(&err, 500, "out of memory");
        release(job, "cannot record the vendor's cancel", &err);
        return;
    }
    webhook_record_also(&job->webhook,
                        operation_settle_statement(&job->op, "succeeded", "performed at the vendor: recorded"));
    webhook_record_apply(&job->webhook, job->row->history_id, payment, on_cancel_recorded, job);
    vendor_payment_free(payment);
}

/* ---- a confirm ---- */

static void on_history_created(history_record *record, const app_error *err, void *data)
{
    decide_job *job = data;
    history_record_free(record);
    if (err && err->status == 409) {
        settle(job, "succeeded", "confirmed at the vendor; the payment was recorded meanwhile");
        return;
    }
    if (err) {
        release(job, "cannot create the confirmed payment's history", err);
        return;
    }
    recorded(job);
}

static const char *input_text(const json_t *doc, const char *object, const char *member)
{
    return json_string_value(json_object_get(object ? json_object_get(doc, object) : doc, member));
}

/* The pending history's input; false when it cannot be opened. */
static bool open_input(decide_job *job)
{
    job->input = job->row->input ? sealed_json_open(&job->app->history_seal, job->row->input) : NULL;
    const json_t *in = job->input;
    job->vendor = (payment_vendor_input){input_text(in, "vendor", "code"), input_text(in, "vendor", "store_id"),
                                         input_text(in, "vendor", "uid")};
    job->source = (payment_source_input){input_text(in, "source", "schema"), input_text(in, "source", "table"),
                                         input_text(in, "source", "id")};
    job->insert = (history_new){
        .vendor = &job->vendor,
        .source = &job->source,
        .webhook_url = input_text(in, NULL, "webhook_url"),
        .password_hash = input_text(in, NULL, "password_hash"),
        .price = input_text(in, NULL, "price"),
        .values = &job->values,
    };
    return in && job->vendor.code && job->vendor.store_id && job->vendor.uid && job->source.schema &&
           job->source.table && job->source.id && job->insert.password_hash && job->insert.price;
}

static bool confirmed(const decide_job *job, const vendor_payment *payment)
{
    return !payment->awaits_approval && payment->status != VENDOR_STATUS_READY &&
           payment->status != VENDOR_STATUS_FAILED && job->source.id &&
           strcasecmp(payment->order_id, job->source.id) == 0 &&
           fabs(payment->amount - strtod(job->row->amount, NULL)) < 1e-6;
}

static void decide_confirm(decide_job *job, vendor_payment *payment)
{
    if (!open_input(job)) {
        vendor_payment_free(payment);
        settle(job, "unknown", "the pending history's input cannot be opened");
        return;
    }
    if (!confirmed(job, payment)) {
        vendor_payment_free(payment);
        settle(job, "refused", "not confirmed at the vendor");
        return;
    }
    if (operation_keep_payment(&job->op, &job->values, payment) < 0) {
        app_error err;
        app_error_set(&err, 500, "cannot seal the vendor's payment document");
        release(job, "cannot create the confirmed payment's history", &err);
        return;
    }
    job->insert.also = operation_settle_statement(&job->op, "succeeded", "confirmed at the vendor: history created");
    history_store_insert(job->app->db, &job->insert, on_history_created, job);
}

/* ---- a mismatch cancel ---- */

static void on_mismatch_cancelled(vendor_payment *payment, const app_error *err, void *data)
{
    decide_job *job = data;
    if (err && !operation_refused(err)) {
        release(job, "the vendor did not answer the cancel sent again", err);
        return;
    }
    if (err) {
        char decision[256];
        snprintf(decision, sizeof decision, "the vendor refused the cancel sent again: %.200s", err->message);
        settle(job, "refused", decision);
        return;
    }
    if (operation_keep_answer(&job->op, payment) < 0)
        log_warn("reconciler: cannot seal the vendor's answer of operation %s", job->row->id);
    vendor_payment_free(payment);
    settle(job, "succeeded", "cancelled at the vendor when sent again");
}

static void decide_mismatch(decide_job *job, vendor_payment *payment, const vendor_store *store)
{
    double expected = strtod(job->row->refund_before, NULL) + strtod(job->row->amount, NULL);
    bool done = payment->refunded + 1e-6 >= expected;
    vendor_payment_free(payment);
    if (done) {
        settle(job, "succeeded", "performed at the vendor");
        return;
    }
    double amount = strtod(job->row->amount, NULL);
    job->op.guard =
        (vendor_guard){.idempotency_key = job->row->idempotency_key, .has_checksum = true, .checksum = amount};
    vendor_find(job->row->vendor_code)
        ->cancel(job->app->vendors, store, job->row->vendor_uid, amount, job->row->reason, NULL, &job->op.guard,
                 on_mismatch_cancelled, job);
}

/* ---- asking the vendor ---- */

static void on_fetched(vendor_payment *payment, const app_error *err, void *data)
{
    decide_job *job = data;
    if (err && err->status == 404 && strcmp(job->row->kind, "confirm") == 0) {
        settle(job, "refused", "the vendor does not know the payment");
        return;
    }
    if (err) {
        release(job, "cannot fetch the payment from the vendor", err);
        return;
    }
    if (strcmp(job->row->kind, "cancel") == 0)
        decide_cancel(job, payment);
    else if (strcmp(job->row->kind, "confirm") == 0)
        decide_confirm(job, payment);
    else
        decide_mismatch(job, payment,
                        vendor_stores_find(job->app->stores, job->row->vendor_code, job->row->vendor_store_id));
}

void operation_decide(worker *w, operation_claimed *row, void (*done)(void *data), void *data)
{
    /* A charge is not fetched but sent again: its vendor payment has no
     * uid of ours until the vendor answered, and the order id and key make
     * the resend answer the first charge. */
    if (strcmp(row->kind, "charge") == 0) {
        charge_reconcile(w, row, done, data);
        return;
    }
    decide_job *job = calloc(1, sizeof *job);
    if (!job) {
        log_warn("reconciler: out of memory for operation %s; it is claimed again later", row->id);
        operation_claimed_free(row);
        done(data);
        return;
    }
    *job = (decide_job){.app = w, .row = row, .done = done, .data = data};
    job->op.app = w;
    snprintf(job->op.id, sizeof job->op.id, "%s", row->id);
    const vendor_adapter *adapter = vendor_find(row->vendor_code);
    const vendor_store *store = vendor_stores_find(w->stores, row->vendor_code, row->vendor_store_id);
    if (!adapter || !store || !w->vendors) {
        app_error err;
        app_error_set(&err, 502, "no credentials on this worker for the operation's store");
        release(job, "cannot ask the vendor", &err);
        return;
    }
    adapter->fetch(w->vendors, store, row->vendor_uid, on_fetched, job);
}
