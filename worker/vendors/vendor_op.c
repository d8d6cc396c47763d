/* The skeleton every adapter operation shares: check the store and the uid,
 * build the request, call, read the answer into the caller's result, and
 * free, with each failure answered from the loop exactly once. An adapter
 * gives its specifics as a vendor_op_class: how it authorizes, what it does
 * with an answer before it is read (a retry, a second call). */
#include "vendor_internal.h"

#include "crypto.h"

#include <stdlib.h>
#include <string.h>

static void op_free(vendor_op *op)
{
    if (op->class->clear)
        op->class->clear(op);
    crypto_secret_free(op->authorization);
    free(op->url);
    free(op->idempotency_key);
    free(op->store_id);
    json_decref(op->body);
    free(op);
}

void vendor_op_finish(vendor_op *op, json_t *doc, const app_error *err)
{
    /* "Not sent" speaks for the whole operation: a read-back refused by an
     * open circuit after a refund went out must leave the operation to the
     * reconciler, not settle it as never made. */
    app_error whole;
    if (err && err->not_sent && op->sent) {
        whole = *err;
        whole.not_sent = false;
        err = &whole;
    }
    if (err || !op->class->answer || !op->class->answer(op, doc))
        vendor_reply_answer(&op->reply, doc, err, op->class->read_payment, op->class->read_billing);
    op_free(op);
}

static void deliver_failure(void *data)
{
    vendor_op *op = data;
    vendor_op_finish(op, NULL, &op->err);
}

void vendor_op_fail_later(vendor_op *op, int status, const char *message)
{
    app_error_set(&op->err, status, "%s", message);
    vendor_later(op->ctx, deliver_failure, op);
}

static void answered(json_t *doc, const app_error *err, long http_status, void *data)
{
    vendor_op *op = data;
    if (!err || !err->not_sent)
        op->sent = true;
    if (!op->class->answered || !op->class->answered(op, doc, err, http_status))
        vendor_op_finish(op, doc, err);
}

void vendor_op_call(vendor_op *op)
{
    vendor_request req = {op->class->dialect,
                          op->method,
                          op->url,
                          op->authorization,
                          op->body,
                          op->url_is_secret,
                          op->body ? op->idempotency_key : NULL,
                          op->store_id,
                          op->form_body,
                          op->operation};
    vendor_call(op->ctx, &req, answered, op);
}

static bool store_usable(const vendor_op_class *class, const vendor_store *store)
{
    return store && store->base_url && *store->base_url && store->secret && *store->secret &&
           (!class->needs_key || (store->key && *store->key));
}

vendor_op *vendor_op_new(const vendor_op_class *class, vendor_context *ctx, const vendor_store *store, const char *uid,
                         vendor_reply reply)
{
    const char *name = class->dialect->name;
    vendor_op *op = calloc(1, class->size);
    if (!op) {
        app_error err;
        app_error_set(&err, 500, "out of memory calling %s", name);
        vendor_reply_fail(&reply, &err);
        return NULL;
    }
    *op = (vendor_op){.class = class, .ctx = ctx, .reply = reply, .url_is_secret = reply.billing_cb != NULL};
    if (!store_usable(class, store))
        app_error_set(&op->err, 502, "%s credentials (%s) are not configured for store %s", name, class->credentials,
                      store && store->store_id ? store->store_id : "(none)");
    else if (!uid || !*uid)
        app_error_set(&op->err, 404, "%s: no record has an empty %s", name, class->uid_name);
    else if (!(op->store_id = strdup(store->store_id ? store->store_id : "")) ||
             (class->prepare && !class->prepare(op, store)))
        app_error_set(&op->err, 500, "out of memory calling %s", name);
    return op;
}

bool vendor_op_keep_guard(vendor_op *op, const vendor_guard *guard)
{
    if (!guard || !guard->idempotency_key)
        return true;
    op->idempotency_key = strdup(guard->idempotency_key);
    return op->idempotency_key != NULL;
}

void vendor_op_start(vendor_op *op, const char *method, json_t *body, bool body_expected)
{
    op->method = method;
    op->body = body;
    if (!op->err.status && (!op->url || (body_expected && !body)))
        app_error_set(&op->err, 500, "out of memory calling %s", op->class->dialect->name);
    if (op->err.status)
        vendor_later(op->ctx, deliver_failure, op);
    else if (op->class->send)
        op->class->send(op);
    else
        vendor_op_call(op);
}
