/* address_class: which addresses are internal to a network (loopback,
 * private, link-local, unique-local, carrier NAT, unspecified, multicast,
 * reserved). Outside local mode neither a configured vendor URL nor a
 * caller's webhook_url may reach one unless a setting names it. */
#ifndef PAYMENTS_ADDRESS_CLASS_H
#define PAYMENTS_ADDRESS_CLASS_H

#include <stdbool.h>
#include <sys/socket.h>

/* True for an IPv4 or IPv6 address that is not a public unicast address;
 * an IPv4 address mapped or translated into IPv6 is judged as IPv4. Any
 * other family counts as internal. */
bool address_class_is_internal(const struct sockaddr *address);

/* A host as a URL writes it ("10.0.0.1", "[::1]", "::1", "example.com"):
 * 1 when it names an internal address without resolving (a literal address,
 * or "localhost" and names under ".localhost"), 0 when it is a public literal
 * address, -1 when it is a name that must be resolved to be judged. */
int address_class_host(const char *host);

#endif
