/* Vendor URL checks: the host is read with libcurl's own URL parser, so it
 * is judged exactly as libcurl will connect to it; a literal address or a
 * localhost name is judged directly, any other name by every address the
 * resolver gives for it. */
#include "config_vendor_url.h"

#include "address_class.h"
#include "log.h"

#include <curl/curl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

typedef enum vendor_host {
    VENDOR_HOST_PUBLIC,
    VENDOR_HOST_INTERNAL,
    VENDOR_HOST_UNRESOLVED,
} vendor_host;

/* The URL's host as libcurl reads it ("[::1]" keeps its brackets), or NULL;
 * free with curl_free. */
static char *url_host(const char *url)
{
    CURLU *parsed = curl_url();
    char *host = NULL;
    if (parsed && curl_url_set(parsed, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        host = NULL;
    curl_url_cleanup(parsed);
    return host;
}

/* Every address a name resolves to must be public: one internal answer is
 * enough for a request to land inside. */
static vendor_host resolve_host(const char *host, char *why, size_t whylen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *found = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &found);
    if (rc != 0) {
        snprintf(why, whylen, "%s", gai_strerror(rc));
        return VENDOR_HOST_UNRESOLVED;
    }
    vendor_host verdict = VENDOR_HOST_PUBLIC;
    for (struct addrinfo *a = found; a && verdict == VENDOR_HOST_PUBLIC; a = a->ai_next) {
        if (!address_class_is_internal(a->ai_addr))
            continue;
        verdict = VENDOR_HOST_INTERNAL;
        char text[64]; /* a numeric address, with an IPv6 scope */
        if (getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, NULL, 0, NI_NUMERICHOST) != 0)
            snprintf(text, sizeof text, "an address of family %d", a->ai_family);
        snprintf(why, whylen, "resolves to %s", text);
    }
    freeaddrinfo(found);
    return verdict;
}

static vendor_host judge_host(const char *host, char *why, size_t whylen)
{
    int literal = address_class_host(host);
    if (literal >= 0) {
        snprintf(why, whylen, "%s", literal ? "an internal address" : "a public address");
        return literal ? VENDOR_HOST_INTERNAL : VENDOR_HOST_PUBLIC;
    }
    return resolve_host(host, why, whylen);
}

int cfg_check_vendor_url(const cfg *c, const char *name, const char *url, char *err, size_t errlen)
{
    if (c->mode == CFG_MODE_LOCAL || c->vendor_allow_internal)
        return 0;
    char *host = url_host(url);
    if (!host) {
        snprintf(err, errlen, "%s is not a URL with a host", name);
        return -1;
    }
    char why[160] = "";
    vendor_host verdict = judge_host(host, why, sizeof why);
    if (verdict == VENDOR_HOST_UNRESOLVED)
        log_warn("%s: host %s does not resolve now (%s); accepted unchecked", name, host, why);
    if (verdict == VENDOR_HOST_INTERNAL)
        snprintf(err, errlen,
                 "%s: host %s is internal (%s); in %s mode vendors are reached on public addresses only, unless "
                 "PAYMENT_VENDOR_ALLOW_INTERNAL=1",
                 name, host, why, cfg_mode_name(c->mode));
    curl_free(host);
    return verdict == VENDOR_HOST_INTERNAL ? -1 : 0;
}
