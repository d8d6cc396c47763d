/* webhook_destination: where a history's notifications may go. A webhook_url
 * is chosen by the caller, so outside local mode it must not make this server
 * reach its own network (loopback, private, link-local, cloud metadata ...)
 * unless the operator allows it (PAYMENT_WEBHOOK_ALLOW_HOSTS). It is judged
 * twice: by its text when the history is created, and by every address it
 * resolves to when a delivery connects. */
#ifndef PAYMENTS_WEBHOOK_DESTINATION_H
#define PAYMENTS_WEBHOOK_DESTINATION_H

#include "config.h"
#include "host_allow_list.h"

#include <stdbool.h>
#include <sys/socket.h>

typedef struct webhook_destination_policy {
    bool restricted;                /* outside local mode */
    const host_allow_list *allowed; /* borrowed from the configuration */
} webhook_destination_policy;

webhook_destination_policy webhook_destination_policy_of(const cfg *config);

/* NULL when url may be used; else why not, as the end of a sentence naming
 * the field ("must not carry credentials"), never quoting the URL. In every
 * mode a URL must be http or https without user or password; outside local
 * mode its host must not be an internal literal address or a localhost name,
 * unless allowed. A name is not resolved here (the loop must not block):
 * *check_addresses says whether the delivery must judge each address it
 * connects to (outside local mode, unless the host is allowed by name or
 * range); check_addresses may be NULL. */
const char *webhook_destination_refusal(const webhook_destination_policy *policy, const char *url,
                                        bool *check_addresses);

/* An http_client_address_filter; data is the policy. True for a public
 * address or one in an allowed range. */
bool webhook_destination_address_allowed(const struct sockaddr *address, void *data);

#endif
