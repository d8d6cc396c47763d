/* operation: what every money-moving call does the same way, whoever makes
 * it. The vendor's answer is sealed with the history key ring, as vendor
 * documents are in payment_histories. */
#include "operation.h"

#include "db_row.h"
#include "sealed_json.h"

#include <stdio.h>
#include <stdlib.h>

int operation_prepare_cancel(operation *op, worker *w, const char *history_id, const char *price, const char *refund,
                             double amount)
{
    op->app = w;
    db_amount_text(amount, op->amount, sizeof op->amount);
    snprintf(op->refund_before, sizeof op->refund_before, "%s", refund ? refund : "0");
    if (operation_key_cancel(history_id, op->refund_before, op->amount, op->key) < 0)
        return -1;
    op->guard = (vendor_guard){
        .idempotency_key = op->key,
        .has_checksum = true,
        .checksum = operation_key_checksum(strtod(price, NULL), strtod(op->refund_before, NULL)),
    };
    return 0;
}

int operation_keep_answer(operation *op, const vendor_payment *payment)
{
    free(op->answer);
    op->answer = payment->data ? sealed_json_seal(&op->app->history_seal, payment->data) : NULL;
    return op->answer || !payment->data ? 0 : -1;
}

int operation_keep_payment(operation *op, history_values *values, vendor_payment *payment)
{
    int sealed = history_values_from_payment(values, payment, &op->app->history_seal, &op->app->cancel_seal);
    if (sealed == 0)
        sealed = operation_keep_answer(op, payment);
    vendor_payment_free(payment);
    return sealed;
}

const db_statement *operation_settle_statement(operation *op, const char *state, const char *decision)
{
    snprintf(op->decision, sizeof op->decision, "%s", decision);
    op->settle = (operation_settle){op->id, state, op->answer, op->decision};
    operation_store_settle_statement(&op->settle, op->settle_params, &op->settle_statement);
    return &op->settle_statement;
}

void operation_settle_now(operation *op, const char *state, const char *decision,
                          void (*done)(const app_error *err, void *data), void *data)
{
    snprintf(op->decision, sizeof op->decision, "%s", decision);
    op->settle = (operation_settle){op->id, state, op->answer, op->decision};
    operation_store_settle(op->app->db, &op->settle, done, data);
}

void operation_clear(operation *op)
{
    free(op->input);
    free(op->answer);
    op->input = op->answer = NULL;
}

bool operation_not_sent(const app_error *err)
{
    return err->not_sent;
}

bool operation_refused(const app_error *err)
{
    return err->status == 422 || err->status == 404 || err->status == 400;
}
