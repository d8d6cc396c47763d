/* operation: one vendor call that moves money, as a request or the
 * reconciler carries it: its row's id, the facts its keys come from, the
 * guard sent to the vendor, and its settlement, either a statement for the
 * transaction that records the vendor's answer or an UPDATE of its own. */
#ifndef PAYMENTS_OPERATION_H
#define PAYMENTS_OPERATION_H

#include "history_values.h"
#include "operation_key.h"
#include "operation_store.h"
#include "worker.h"

typedef struct operation {
    worker *app;
    char id[40];
    char amount[32];        /* numeric text */
    char refund_before[32]; /* numeric text */
    char key[OPERATION_KEY_SIZE];
    vendor_guard guard;
    char *input;  /* sealed; owned */
    char *answer; /* the vendor's answer, sealed; owned */
    char decision[256];
    operation_settle settle;
    const char *settle_params[OPERATION_SETTLE_PARAMS];
    db_statement settle_statement;
} operation;

/* A cancel of amount on a history whose price and recorded refund are
 * given (numeric text; refund NULL for none): its key and
 * checksum. Returns 0, or -1 when the key cannot be derived. */
int operation_prepare_cancel(operation *op, worker *w, const char *history_id, const char *price, const char *refund,
                             double amount);

/* Seals payment's document as the operation's answer; 0 or -1. */
int operation_keep_answer(operation *op, const vendor_payment *payment);

/* The history values of payment (history_values.h) and the operation's
 * answer, both sealed, for an operation whose answer becomes a history;
 * frees payment. 0, or -1 when sealing fails. */
int operation_keep_payment(operation *op, history_values *values, vendor_payment *payment);

/* The settling UPDATE for the transaction recording the answer; the
 * decision is copied. Valid as long as op. */
const db_statement *operation_settle_statement(operation *op, const char *state, const char *decision);
/* The same as a statement of its own; done runs once. */
void operation_settle_now(operation *op, const char *state, const char *decision,
                          void (*done)(const app_error *err, void *data), void *data);

/* Frees what op owns (not op). */
void operation_clear(operation *op);

/* Whether a vendor error means the vendor did not do it (a refusal, an
 * unknown payment), as opposed to "we do not know" (timeout, unreachable,
 * malformed answer), which leaves the operation to the reconciler. */
bool operation_refused(const app_error *err);
/* Whether the call was never sent (an open circuit): nothing happened at the
 * vendor, so an operation the caller started may be settled refused at
 * once instead of holding its record until the reconciler. Not for a call
 * that must be made (the reconciler's own cancels): that one waits. */
bool operation_not_sent(const app_error *err);

#endif
