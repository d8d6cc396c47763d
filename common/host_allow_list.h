/* host_allow_list: destinations an operator allows although they are
 * internal (PAYMENT_WEBHOOK_ALLOW_HOSTS): host names, matched whole, and
 * addresses or CIDR ranges. Parsed once at start-up, read on every check. */
#ifndef PAYMENTS_HOST_ALLOW_LIST_H
#define PAYMENTS_HOST_ALLOW_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct host_allow_entry {
    char *name;                /* lower case, no trailing dot; NULL for a range */
    int family;                /* AF_INET or AF_INET6 for a range */
    unsigned char network[16]; /* network byte order, 4 bytes used for IPv4 */
    int prefix;                /* bits that must match */
} host_allow_entry;

typedef struct host_allow_list {
    host_allow_entry *entries;
    size_t count;
} host_allow_list;

/* text: comma-separated entries, blanks around them ignored, each a host
 * name ("hooks.internal"), an address ("10.1.2.3", "::1", "[::1]") or a
 * range ("10.0.0.0/8", "fd00::/8"). NULL or "" is the empty list. Returns
 * 0, or -1 with why (naming the entry) and the list empty. */
int host_allow_list_parse(host_allow_list *list, const char *text, char *why, size_t why_len);
void host_allow_list_free(host_allow_list *list);

/* A host as a URL writes it: a listed name (case-insensitive, a trailing
 * dot ignored), or a literal address inside a listed range. */
bool host_allow_list_has_host(const host_allow_list *list, const char *host);
/* A resolved address inside a listed range (an IPv4-mapped IPv6 address is
 * judged as IPv4). Names never match here: they were judged before
 * resolution. */
bool host_allow_list_has_address(const host_allow_list *list, const struct sockaddr *address);

#endif
