/* subscription_event: the documents arrive as JSON text from the SQL that
 * made them (payment_subscription_document), are parsed once and sealed. */
#include "subscription_event.h"

#include "sealed_json.h"

#include <stdlib.h>

static const char insert_sql[] =
    "WITH webhook AS ("
    "  INSERT INTO payment_webhooks (subscription_id, vendor_code, origin, previous, current, event)"
    "  SELECT s.id, r.vendor_code, 'subscription', $2, $3, $4 FROM payment_subscriptions s"
    "  JOIN payment_reservations r ON r.id = s.reservation_id WHERE s.id = $1"
    "  RETURNING id, subscription_id)"
    " INSERT INTO payment_webhook_deliveries (webhook_id)"
    " SELECT webhook.id FROM webhook JOIN payment_subscriptions s ON s.id = webhook.subscription_id"
    " WHERE s.webhook_url IS NOT NULL";

static char *seal_text(const seal_ring *ring, const char *text)
{
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    char *sealed = doc ? sealed_json_seal(ring, doc) : NULL;
    json_decref(doc);
    return sealed;
}

int subscription_event_prepare(subscription_event *event, const seal_ring *ring, const char *subscription_id,
                               const char *previous, const char *current, const char *event_json,
                               db_statement *statement, app_error *err)
{
    subscription_event_clear(event);
    event->previous = seal_text(ring, previous);
    event->current = seal_text(ring, current);
    event->event = seal_text(ring, event_json);
    if (!event->previous || !event->current || !event->event) {
        subscription_event_clear(event);
        app_error_set(err, 500, "cannot seal the subscription's notification");
        return -1;
    }
    event->params[0] = subscription_id;
    event->params[1] = event->previous;
    event->params[2] = event->current;
    event->params[3] = event->event;
    *statement = (db_statement){insert_sql, 4, event->params, NULL};
    return 0;
}

void subscription_event_clear(subscription_event *event)
{
    free(event->previous);
    free(event->current);
    free(event->event);
    *event = (subscription_event){0};
}
