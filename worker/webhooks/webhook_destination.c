/* webhook_destination: the URL is read by libcurl's own parser (curl_url),
 * the same that the delivery's request will use, so that no spelling of a
 * host can mean one thing to this check and another to the connection. */
#include "webhook_destination.h"

#include "address_class.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

webhook_destination_policy webhook_destination_policy_of(const cfg *config)
{
    return (webhook_destination_policy){
        .restricted = config->mode != CFG_MODE_LOCAL,
        .allowed = &config->webhook_allow_hosts,
    };
}

static bool url_part_present(CURLU *url, CURLUPart part)
{
    char *value = NULL;
    CURLUcode rc = curl_url_get(url, part, &value, 0);
    curl_free(value);
    return rc == CURLUE_OK;
}

/* The checks on a parsed URL; host is set when the URL is well formed. */
static const char *url_refusal(CURLU *url, char **host)
{
    char *scheme = NULL;
    bool web = curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
               (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0);
    curl_free(scheme);
    if (!web)
        return "must be an absolute http or https URL";
    if (url_part_present(url, CURLUPART_USER) || url_part_present(url, CURLUPART_PASSWORD))
        return "must not carry credentials (user:password@)";
    if (curl_url_get(url, CURLUPART_HOST, host, 0) != CURLUE_OK || !*host || !**host)
        return "must name a host";
    return NULL;
}

/* Outside local mode: an internal host by its text; any other is judged
 * again by the addresses the delivery connects to (a literal public address
 * then simply passes). */
static const char *host_refusal(const webhook_destination_policy *policy, const char *host, bool *check_addresses)
{
    if (!policy->restricted || host_allow_list_has_host(policy->allowed, host))
        return NULL;
    int internal = address_class_host(host);
    if (internal == 1)
        return "must not point at an internal address (loopback, private, link-local) of this server's network";
    *check_addresses = true;
    return NULL;
}

const char *webhook_destination_refusal(const webhook_destination_policy *policy, const char *url,
                                        bool *check_addresses)
{
    bool resolve = false;
    CURLU *parsed = curl_url();
    if (!parsed)
        return "cannot be checked now (out of memory)";
    char *host = NULL;
    const char *why = curl_url_set(parsed, CURLUPART_URL, url, 0) == CURLUE_OK
                          ? url_refusal(parsed, &host)
                          : "must be an absolute http or https URL";
    if (!why)
        why = host_refusal(policy, host, &resolve);
    curl_free(host);
    curl_url_cleanup(parsed);
    if (check_addresses)
        *check_addresses = !why && resolve;
    return why;
}

bool webhook_destination_address_allowed(const struct sockaddr *address, void *data)
{
    const webhook_destination_policy *policy = data;
    return !address_class_is_internal(address) || host_allow_list_has_address(policy->allowed, address);
}
