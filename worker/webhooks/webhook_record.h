/* webhook_record: a vendor's newer answer recorded on a history, and what
 * the change leaves behind, written in the same transaction: the webhook
 * record (the history before and after, the vendor's event) and its
 * notification in the outbox. A write that changes nothing a receiver cares
 * about (paid time, refund, cancels) leaves nothing, so a repeated vendor
 * event is not notified twice. */
#ifndef PAYMENTS_WEBHOOK_RECORD_H
#define PAYMENTS_WEBHOOK_RECORD_H

#include "history_store.h"
#include "request_id.h"
#include "webhook_store.h"
#include "worker.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct webhook_record {
    worker *app;
    const char *origin; /* "vendor" or "cancel" */
    char *event;        /* the vendor's event, sealed; NULL for a cancel */
    char *previous;     /* sealed, once a change was seen */
    char *current;
    const char *params[WEBHOOK_NEW_PARAMS];
    request_id request; /* the request that caused the change (ambient at init) */
    bool queued;        /* a notification was queued: the outbox is woken after COMMIT */
    history_observer observer;
    history_values values; /* the vendor's answer as stored */
    history_record_cb cb;  /* webhook_record_apply's caller */
    void *data;
} webhook_record;

/* event (borrowed) may be NULL. Returns 0, or -1 when the event cannot be
 * sealed (record is then empty and may be freed). */
int webhook_record_init(webhook_record *record, worker *w, const char *origin, const json_t *event);
/* Records payment (the caller's) on history id, with this record watching
 * the change, then wakes this worker's outbox when a notification was
 * queued. cb gets the stored history; a 500 (at once) when the answer cannot
 * be sealed. id must stay valid until cb runs. */
void webhook_record_apply(webhook_record *record, const char *id, const vendor_payment *payment, history_record_cb cb,
                          void *data);
/* A statement to run last in the apply's transaction, whatever changed (an
 * operation's settlement); it must stay valid until the apply's callback. */
void webhook_record_also(webhook_record *record, const db_statement *also);
void webhook_record_free(webhook_record *record);

#endif
