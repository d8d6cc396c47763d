/* charge_run: one job per charge, freed in one place, job_finish(). Its
 * facts (order, reservation, keys) live in one JSON document, which is
 * also the operation's sealed input: the reconciler reads back exactly what
 * the request would have recorded. */
#include "charge_run.h"

#include "charge_store.h"
#include "db_row.h"
#include "log.h"
#include "operation.h"
#include "operation_decide.h"
#include "reservation_store.h"
#include "sealed_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct charge_job {
    worker *app;
    json_t *facts; /* every string below is borrowed from it */
    const vendor_store *store;
    char order_id[CHARGE_ORDER_ID_SIZE];
    operation op;
    vendor_charge charge;
    payment_vendor_input vendor;
    payment_source_input source;
    char vendor_uid[sizeof(((vendor_payment *)0)->uid)];
    history_values values;
    history_new insert;
    charge_settle settle;
    const char *settle_params[CHARGE_SETTLE_PARAMS];
    db_statement settle_statement;
    char vendor_error[64];
    char message[256];
    app_error refusal;
    bool committed;
    bool attempt_recorded;
    operation_claimed *row; /* the reconciler's, or NULL for a new charge */
    charge_done_cb done;
    void (*reconciled)(void *data);
    void *data;
} charge_job;

static const char *fact(const charge_job *job, const char *object, const char *member)
{
    const json_t *in = object ? json_object_get(job->facts, object) : job->facts;
    return json_string_value(json_object_get(in, member));
}

static void job_free(charge_job *job)
{
    worker *w = job->app;
    operation_claimed_free(job->row);
    operation_clear(&job->op);
    history_values_free(&job->values);
    json_decref(job->facts);
    free(job);
    worker_work_end(w);
}

/* The end of every charge: history is the recorded payment or NULL. */
static void job_finish(charge_job *job, const history_record *history, const app_error *err)
{
    if (job->row) {
        void (*reconciled)(void *) = job->reconciled;
        void *data = job->data;
        job_free(job);
        reconciled(data);
        return;
    }
    charge_outcome outcome = {
        .history = history,
        .attempt_id = job->attempt_recorded ? job->op.id : NULL,
        .operation_id = job->committed ? job->op.id : NULL,
        .order_id = job->order_id[0] ? job->order_id : NULL,
    };
    charge_done_cb done = job->done;
    void *data = job->data;
    /* The callback may read the job's strings through outcome. */
    done(&outcome, err, data);
    job_free(job);
}

static void fail(charge_job *job, int status, const char *message)
{
    app_error err;
    app_error_set(&err, status, "%s", message);
    job_finish(job, NULL, &err);
}

/* ---- the reconciler's release: nothing was settled, try again later ---- */

static void on_released(const char *state, const app_error *err, void *data)
{
    charge_job *job = data;
    if (err)
        log_warn("charges: cannot release operation %s (%d %s)", job->op.id, err->status, err->message);
    else if (strcmp(state, "unknown") == 0)
        log_error("charges: charge operation %s (%s, order %s) could not be settled after %d attempts: an operator "
                  "must check it at the vendor (%s)",
                  job->op.id, job->row->vendor_code, job->order_id, OPERATION_DECIDE_MAX_ATTEMPTS, job->op.decision);
    job_finish(job, NULL, NULL);
}

/* The outcome is unknown: a request leaves the operation to the reconciler,
 * the reconciler gives it back for a later claim. */
static void unknown(charge_job *job, const char *why, const app_error *err)
{
    snprintf(job->op.decision, sizeof job->op.decision, "%.60s (%d %.160s); tried again later", why, err->status,
             err->message);
    log_warn("charges: operation %s (order %s): %s", job->op.id, job->order_id, job->op.decision);
    if (job->row) {
        operation_store_release(job->app->db, job->op.id, job->op.decision, OPERATION_DECIDE_MAX_ATTEMPTS,
                                job->app->config.reconcile_interval_ms, on_released, job);
        return;
    }
    app_error answer = *err;
    snprintf(answer.message, sizeof answer.message,
             "the charge's outcome at the vendor is not known yet (%.120s); it is settled shortly, with the same "
             "order id, never charged twice",
             err->message);
    job_finish(job, NULL, &answer);
}

/* ---- settling ---- */

static void fill_settle(charge_job *job, const char *result, const char *decision)
{
    snprintf(job->op.decision, sizeof job->op.decision, "%s", decision);
    job->settle = (charge_settle){
        .operation_id = job->op.id,
        .result = result,
        .answer = job->op.answer,
        .decision = job->op.decision,
        .reservation_id = fact(job, NULL, "reservation_id"),
        .source_schema = job->source.schema,
        .source_table = job->source.table,
        .source_id = job->source.id,
        .currency = fact(job, NULL, "currency"),
        .vendor_error = job->vendor_error,
        .message = job->message,
    };
}

static void on_refusal_settled(const app_error *err, void *data)
{
    charge_job *job = data;
    if (err) {
        unknown(job, "cannot record the vendor's refusal", err);
        return;
    }
    job->attempt_recorded = job->settle.result != NULL;
    log_info("charges: operation %s (%s, order %s): refused: %s", job->op.id, job->vendor.code, job->order_id,
             job->refusal.message);
    job_finish(job, NULL, &job->refusal);
}

/* The vendor refused: the attempt keeps its identity as its answer. */
static void settle_refused(charge_job *job, const app_error *err)
{
    job->refusal = *err;
    snprintf(job->vendor_error, sizeof job->vendor_error, "%s", err->vendor.vendor_code);
    snprintf(job->message, sizeof job->message, "%s", err->message);
    json_t *answer = json_pack("{s:s, s:s, s:i, s:s}", "vendor", err->vendor.code, "code", err->vendor.vendor_code,
                               "status", err->vendor.status, "message", err->vendor.message);
    free(job->op.answer);
    job->op.answer = answer ? sealed_json_seal(&job->app->history_seal, answer) : NULL;
    json_decref(answer);
    fill_settle(job, "refused", "refused by the vendor");
    charge_store_settle(job->app->db, &job->settle, on_refusal_settled, job);
}

/* ---- recording the payment ---- */

static void on_recorded_meanwhile(history_record *record, const app_error *err, void *data)
{
    charge_job *job = data;
    if (err) {
        history_record_free(record);
        unknown(job, "cannot read the order's history", err);
        return;
    }
    job->attempt_recorded = true;
    job_finish(job, record, NULL);
    history_record_free(record);
}

static void on_meanwhile_settled(const app_error *err, void *data)
{
    charge_job *job = data;
    if (err) {
        unknown(job, "cannot settle the charge recorded meanwhile", err);
        return;
    }
    history_store_find_by_source(job->app->db, &job->source, on_recorded_meanwhile, job);
}

static void on_inserted(history_record *record, const app_error *err, void *data)
{
    charge_job *job = data;
    if (err && err->status == 409) {
        /* The order's history exists: another settlement recorded it. */
        history_record_free(record);
        fill_settle(job, "succeeded", "charged at the vendor; the order was recorded meanwhile");
        charge_store_settle(job->app->db, &job->settle, on_meanwhile_settled, job);
        return;
    }
    if (err) {
        history_record_free(record);
        unknown(job, "charged at the vendor but not recorded yet", err);
        return;
    }
    log_info("charges: operation %s (%s, order %s): charged, history %s", job->op.id, job->vendor.code, job->order_id,
             record->id);
    job->attempt_recorded = true;
    job_finish(job, record, NULL);
    history_record_free(record);
}

/* The history as POST /payments/histories makes it, with the settlement
 * and the attempt in the same transaction. */
static void record_payment(charge_job *job, vendor_payment *payment)
{
    snprintf(job->vendor_uid, sizeof job->vendor_uid, "%s", payment->uid);
    job->vendor.uid = job->vendor_uid;
    if (operation_keep_payment(&job->op, &job->values, payment) < 0) {
        app_error err;
        app_error_set(&err, 500, "cannot seal the vendor's payment document");
        unknown(job, "charged at the vendor but not recorded yet", &err);
        return;
    }
    fill_settle(job, "succeeded", "charged at the vendor: history created");
    charge_store_settle_statement(&job->settle, job->settle_params, &job->settle_statement);
    job->insert = (history_new){
        .vendor = &job->vendor,
        .source = &job->source,
        .webhook_url = fact(job, NULL, "webhook_url"),
        .password_hash = fact(job, NULL, "password_hash"),
        .price = fact(job, NULL, "price"),
        .values = &job->values,
        .also = &job->settle_statement,
    };
    history_store_insert(job->app->db, &job->insert, on_inserted, job);
}

/* A refusal the vendor decided, as opposed to a conflict with a charge of
 * the same key still in progress there (a resend while the first is held:
 * HTTP 409), which says nothing yet about the charge. */
static bool declined(const app_error *err)
{
    return operation_refused(err) && !operation_not_sent(err) && err->vendor.status != 409;
}

static void on_charged(vendor_payment *payment, const app_error *err, void *data)
{
    charge_job *job = data;
    if (err && operation_not_sent(err) && !job->row) {
        /* Nothing left for the vendor: the order may be charged again. */
        job->refusal = *err;
        operation_settle_now(&job->op, "refused", "not sent: the vendor's circuit is open", on_refusal_settled, job);
        return;
    }
    if (err && declined(err)) {
        settle_refused(job, err);
        return;
    }
    if (err) {
        unknown(job, "no answer from the vendor", err);
        return;
    }
    if (payment->status == VENDOR_STATUS_FAILED) {
        vendor_payment_free(payment);
        app_error refused;
        /* A vendor that declines with a payment of status failed (a 200). */
        app_error_set(&refused, 422, "%s declined the charge: its payment of this order failed", job->vendor.code);
        app_error_set_vendor(&refused, job->vendor.code, "failed", 200, "the payment failed");
        settle_refused(job, &refused);
        return;
    }
    record_payment(job, payment);
}

static void send_charge(charge_job *job)
{
    job->charge = (vendor_charge){
        .billing_uid = fact(job, "vendor", "billing_uid"),
        .customer_key = fact(job, NULL, "customer_key"),
        .order_id = job->order_id,
        .order_name = fact(job, NULL, "name"),
        .amount = strtod(fact(job, NULL, "price"), NULL),
        .currency = fact(job, NULL, "currency"),
    };
    job->op.guard = (vendor_guard){.idempotency_key = job->op.key};
    vendor_charge_billing(vendor_find(job->vendor.code), job->app->vendors, job->store, &job->charge, &job->op.guard,
                          on_charged, job);
}

/* ---- a new charge ---- */

static void on_operation_created(const char *id, const app_error *err, void *data)
{
    charge_job *job = data;
    if (err) {
        app_error answer = *err;
        if (err->status == 409)
            app_error_set(&answer, 409, "a charge of this order is not settled yet; it is settled shortly");
        job_finish(job, NULL, &answer);
        return;
    }
    snprintf(job->op.id, sizeof job->op.id, "%s", id);
    job->committed = true;
    send_charge(job);
}

static void on_checked_new(const app_error *err, void *data)
{
    charge_job *job = data;
    worker *w = job->app;
    if (err) {
        job_finish(job, NULL, err);
        return;
    }
    if (charge_order_key(job->order_id, job->op.key) < 0 ||
        !(job->op.input = sealed_json_seal(&w->history_seal, job->facts))) {
        fail(job, 500, "cannot prepare the charge");
        return;
    }
    operation_new in = {
        .kind = "charge",
        .vendor_code = job->vendor.code,
        .vendor_store_id = job->vendor.store_id,
        .vendor_uid = job->order_id,
        .amount = fact(job, NULL, "price"),
        .reason = fact(job, NULL, "name"),
        .refund_before = "0",
        .input = job->op.input,
        .idempotency_key = job->op.key,
    };
    operation_store_create(w->db, &in, on_operation_created, job);
}

static void on_refusals_counted(long refusals, const app_error *err, void *data)
{
    charge_job *job = data;
    if (err) {
        job_finish(job, NULL, err);
        return;
    }
    if (charge_order_id(job->source.schema, job->source.table, job->source.id, refusals, job->order_id) < 0) {
        fail(job, 500, "cannot derive the order id");
        return;
    }
    /* The vendor uid is not known before the charge: the order id stands
     * in, so that only the source is checked. */
    job->vendor.uid = job->order_id;
    history_store_check_new(job->app->db, &job->source, &job->vendor, on_checked_new, job);
}

/* The reservation's vendor facts join the order's. */
static bool add_reservation(charge_job *job, const reservation_record *record, const char *store_id)
{
    json_t *vendor = json_pack("{s:s, s:s, s:s}", "code", record->vendor_code, "store_id",
                               store_id ? store_id : record->vendor_store_id, "billing_uid", record->vendor_uid);
    return vendor && json_object_set_new(job->facts, "vendor", vendor) == 0 &&
           json_object_set_new(job->facts, "customer_key", json_string(record->source_id)) == 0 &&
           json_object_set_new(job->facts, "password_hash", json_string(record->password_hash)) == 0;
}

/* The vendor, store and source the job works with, from its facts. */
static bool open_facts(charge_job *job, app_error *err)
{
    job->vendor = (payment_vendor_input){fact(job, "vendor", "code"), fact(job, "vendor", "store_id"), NULL};
    job->source =
        (payment_source_input){fact(job, "source", "schema"), fact(job, "source", "table"), fact(job, "source", "id")};
    const vendor_adapter *adapter = job->vendor.code ? vendor_find(job->vendor.code) : NULL;
    if (!adapter || !job->vendor.store_id || !job->source.schema || !job->source.table || !job->source.id ||
        !fact(job, NULL, "price") || !fact(job, NULL, "currency") || !fact(job, NULL, "password_hash") ||
        !fact(job, "vendor", "billing_uid")) {
        app_error_set(err, 500, "the charge's facts are incomplete");
        return false;
    }
    if (!adapter->charge_billing) {
        app_error_set(err, 422, "%s does not support charging a billing key", adapter->code);
        return false;
    }
    job->store = vendor_stores_find(job->app->stores, job->vendor.code, job->vendor.store_id);
    if (!job->store || !job->app->vendors) {
        app_error_set(err, 422, "no credentials for store \"%s\" of %s", job->vendor.store_id, job->vendor.code);
        return false;
    }
    return true;
}

static void on_reservation(reservation_record *record, const app_error *err, void *data)
{
    charge_job *job = data;
    if (err) {
        job_finish(job, NULL, err);
        return;
    }
    const char *store_id = fact(job, NULL, "store_id");
    bool added = add_reservation(job, record, store_id);
    reservation_record_free(record);
    app_error refused = {0};
    if (!added)
        app_error_set(&refused, 500, "out of memory");
    if (refused.status || !open_facts(job, &refused)) {
        job_finish(job, NULL, &refused);
        return;
    }
    charge_store_count_refusals(job->app->db, job->source.schema, job->source.table, job->source.id,
                                on_refusals_counted, job);
}

static json_t *order_facts(const charge_order *order)
{
    char price[32];
    db_amount_text(order->price, price, sizeof price);
    return json_pack("{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:s?, s:s?}", "reservation_id", order->reservation_id,
                     "source", "schema", order->source_schema, "table", order->source_table, "id", order->source_id,
                     "name", order->name ? order->name : "", "price", price, "currency", order->currency, "webhook_url",
                     order->webhook_url, "store_id", order->store_id);
}

static charge_job *job_new(worker *w, json_t *facts, app_error *err)
{
    charge_job *job = facts ? calloc(1, sizeof *job) : NULL;
    if (!job) {
        json_decref(facts);
        app_error_set(err, 500, "out of memory");
        return NULL;
    }
    worker_work_begin(w);
    job->app = w;
    job->facts = facts;
    job->op.app = w;
    return job;
}

void charge_run(worker *w, const charge_order *order, charge_done_cb done, void *data)
{
    app_error err = {0};
    json_t *facts =
        order->reservation_id && order->source_schema && order->source_table && order->source_id && order->currency
            ? order_facts(order)
            : NULL;
    charge_job *job = job_new(w, facts, &err);
    if (!job) {
        charge_outcome none = {0};
        done(&none, &err, data);
        return;
    }
    job->done = done;
    job->data = data;
    if (order->request_id)
        log_info("charges: request %s charges reservation %s", order->request_id, order->reservation_id);
    reservation_store_find_by_id(w->db, order->reservation_id, on_reservation, job);
}

/* ---- the reconciler ---- */

/* A vendor that would pay a resent order twice is asked first whether it
 * paid it; only an order it does not know is sent again. */
static void on_order_found(vendor_payment *payment, const app_error *err, void *data)
{
    charge_job *job = data;
    if (err && err->status == 404) {
        send_charge(job);
        return;
    }
    if (err) {
        unknown(job, "cannot ask the vendor about the order", err);
        return;
    }
    on_charged(payment, NULL, job);
}

void charge_reconcile(worker *w, operation_claimed *row, void (*done)(void *data), void *data)
{
    app_error err = {0};
    json_t *facts = row->input ? sealed_json_open(&w->history_seal, row->input) : NULL;
    charge_job *job = job_new(w, facts, &err);
    if (!job) {
        log_warn("charges: cannot open operation %s; it is claimed again later", row->id);
        operation_claimed_free(row);
        done(data);
        return;
    }
    job->row = row;
    job->reconciled = done;
    job->data = data;
    job->committed = true;
    snprintf(job->op.id, sizeof job->op.id, "%s", row->id);
    snprintf(job->op.key, sizeof job->op.key, "%s", row->idempotency_key);
    snprintf(job->order_id, sizeof job->order_id, "%s", row->vendor_uid);
    if (!open_facts(job, &err)) {
        unknown(job, "cannot send the charge again", &err);
        return;
    }
    const vendor_adapter *adapter = vendor_find(job->vendor.code);
    if (adapter->fetch_order)
        adapter->fetch_order(w->vendors, job->store, job->order_id, on_order_found, job);
    else
        send_charge(job);
}
