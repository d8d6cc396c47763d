/* address_class: the special-purpose ranges of RFC 6890 and its successors,
 * checked on raw bytes so that every spelling of an address (decimal, octal
 * or hexadecimal dotted forms, IPv6 with an embedded IPv4) lands in the same
 * place once the resolver or inet_pton has read it. */
#include "address_class.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

typedef struct ipv4_range {
    uint32_t network;
    int prefix;
} ipv4_range;

static const ipv4_range internal_ipv4[] = {
    {0x00000000, 8},  /* "this network", 0.0.0.0 */
    {0x0a000000, 8},  /* private 10/8 */
    {0x64400000, 10}, /* carrier-grade NAT 100.64/10 */
    {0x7f000000, 8},  /* loopback */
    {0xa9fe0000, 16}, /* link-local, cloud metadata 169.254.169.254 */
    {0xac100000, 12}, /* private 172.16/12 */
    {0xc0000000, 24}, /* IETF protocol assignments */
    {0xc0000200, 24}, /* documentation TEST-NET-1 */
    {0xc0a80000, 16}, /* private 192.168/16 */
    {0xc6120000, 15}, /* benchmarking 198.18/15 */
    {0xc6336400, 24}, /* documentation TEST-NET-2 */
    {0xcb007100, 24}, /* documentation TEST-NET-3 */
    {0xe0000000, 4},  /* multicast */
    {0xf0000000, 4},  /* reserved, and the broadcast address */
};

static bool ipv4_is_internal(uint32_t address)
{
    for (size_t i = 0; i < sizeof internal_ipv4 / sizeof internal_ipv4[0]; i++) {
        uint32_t mask = 0xffffffffu << (32 - internal_ipv4[i].prefix);
        if ((address & mask) == internal_ipv4[i].network)
            return true;
    }
    return false;
}

static uint32_t ipv4_at(const unsigned char *bytes)
{
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
}

static bool starts_with(const unsigned char *bytes, const unsigned char *prefix, size_t len)
{
    return memcmp(bytes, prefix, len) == 0;
}

static bool ipv6_is_internal(const unsigned char *b)
{
    static const unsigned char zeros[12] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char documentation[4] = {0x20, 0x01, 0x0d, 0xb8};
    /* ::, ::1 and the deprecated IPv4-compatible form: never a public host. */
    if (starts_with(b, zeros, 12))
        return true;
    /* The IPv4-mapped form and the well-known NAT64 prefix carry an IPv4
     * address in their last four bytes: judge that one. */
    if (starts_with(b, mapped, 12) || starts_with(b, nat64, 12))
        return ipv4_is_internal(ipv4_at(b + 12));
    if ((b[0] & 0xfe) == 0xfc) /* unique-local fc00::/7 */
        return true;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* link-local fe80::/10 */
        return true;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* site-local fec0::/10, deprecated */
        return true;
    if (b[0] == 0xff) /* multicast */
        return true;
    return starts_with(b, documentation, sizeof documentation);
}

bool address_class_is_internal(const struct sockaddr *address)
{
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)address;
        return ipv4_is_internal(ntohl(in->sin_addr.s_addr));
    }
    if (address->sa_family == AF_INET6)
        return ipv6_is_internal(((const struct sockaddr_in6 *)address)->sin6_addr.s6_addr);
    return true;
}

static bool is_localhost_name(const char *host)
{
    size_t len = strlen(host);
    if (len && host[len - 1] == '.') /* "localhost." is the same name */
        len--;
    static const char suffix[] = ".localhost";
    size_t suffix_len = sizeof suffix - 1;
    return (len == 9 && strncasecmp(host, "localhost", 9) == 0) ||
           (len > suffix_len && strncasecmp(host + len - suffix_len, suffix, suffix_len) == 0);
}

int address_class_host(const char *host)
{
    char text[INET6_ADDRSTRLEN + 2];
    size_t len = strlen(host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        if (len - 2 >= sizeof text)
            return -1;
        memcpy(text, host + 1, len - 2);
        text[len - 2] = '\0';
        host = text;
    }
    struct in_addr v4;
    struct in6_addr v6;
    /* inet_aton, like the resolver, also reads "127.1" and "0x7f000001". */
    if (inet_aton(host, &v4) == 1)
        return ipv4_is_internal(ntohl(v4.s_addr));
    if (inet_pton(AF_INET6, host, &v6) == 1)
        return ipv6_is_internal(v6.s6_addr);
    return is_localhost_name(host) ? 1 : -1;
}
