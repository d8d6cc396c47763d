/* subscription_event: a subscription's event queued in the outbox of
 * notifications (worker/webhooks/), in the transaction that made it: the
 * subscription before and after, and the event ({type, period}), sealed
 * with the history key ring as every notification's documents are. */
#ifndef PAYMENTS_SUBSCRIPTION_EVENT_H
#define PAYMENTS_SUBSCRIPTION_EVENT_H

#include "db_transaction.h"
#include "seal.h"

typedef struct subscription_event {
    char *previous; /* sealed */
    char *current;
    char *event;
    const char *params[4];
} subscription_event;

/* Seals the three JSON texts and points statement at the insert of the
 * event of subscription_id (its notification queued when the subscription
 * has a webhook_url). Returns 0, or -1 with a 500 in err. subscription_id
 * must stay valid until the statement ran; event owns the rest. */
int subscription_event_prepare(subscription_event *event, const seal_ring *ring, const char *subscription_id,
                               const char *previous, const char *current, const char *event_json,
                               db_statement *statement, app_error *err);
void subscription_event_clear(subscription_event *event);

#endif
