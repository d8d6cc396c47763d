/* Where `payments monitor` reaches each instance a master updater knows: the
 * API and the operators' listener. A slave announces its listeners once
 * linked; a listener bound to every address or to loopback is reached at the
 * address its link comes from, which the master sees and the slave cannot. */
#include "updater.h"

#include <stdio.h>
#include <string.h>

static json_t *host_port(const char *host, int port)
{
    char text[300];
    snprintf(text, sizeof text, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    return json_string(text);
}

/* A host that names no one address another machine can reach. */
static bool host_unspecific(const char *host)
{
    return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || strcmp(host, "") == 0 ||
           strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 || strcmp(host, "localhost") == 0;
}

/* "HOST:PORT" for a listener; NULL for port 0 (any free port: unknown here). */
static json_t *listener(const char *host, int port, const char *seen_host)
{
    if (port <= 0)
        return json_null();
    return host_port(host_unspecific(host) ? seen_host : host, port);
}

json_t *updater_addresses_own(const updater_config *c)
{
    return json_pack("{s:o, s:o}", "api", listener(c->api_host, c->api_port, "127.0.0.1"), "operators",
                     listener(c->operators_host, c->operators_port, "127.0.0.1"));
}

json_t *updater_addresses_announcement(const updater_config *c)
{
    return json_pack("{s:s, s:s, s:i, s:s, s:i}", "type", "addresses", "api_host", c->api_host, "api_port", c->api_port,
                     "operators_host", c->operators_host, "operators_port", c->operators_port);
}

json_t *updater_addresses_seen(json_t *announcement, const char *peer_address)
{
    char seen[128];
    const char *colon = strrchr(peer_address, ':');
    snprintf(seen, sizeof seen, "%.*s", colon ? (int)(colon - peer_address) : (int)strlen(peer_address), peer_address);
    const char *api_host = json_string_value(json_object_get(announcement, "api_host"));
    const char *operators_host = json_string_value(json_object_get(announcement, "operators_host"));
    json_int_t api_port = json_integer_value(json_object_get(announcement, "api_port"));
    json_int_t operators_port = json_integer_value(json_object_get(announcement, "operators_port"));
    if (!api_host || !operators_host || api_port < 0 || api_port > 65535 || operators_port < 0 ||
        operators_port > 65535 || strlen(api_host) > 253 || strlen(operators_host) > 253)
        return NULL;
    return json_pack("{s:o, s:o}", "api", listener(api_host, (int)api_port, seen), "operators",
                     listener(operators_host, (int)operators_port, seen));
}
