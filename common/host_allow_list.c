/* host_allow_list: names are compared as text, ranges on raw address bytes,
 * so that every spelling of an address ("[::ffff:10.0.0.1]", "10.0.0.1")
 * lands on the same entry once inet_pton or the resolver has read it. */
#include "host_allow_list.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOST_ALLOW_ENTRY_MAX 255

/* An address as (family, bytes), an IPv4-mapped IPv6 address as IPv4. */
typedef struct plain_address {
    int family;
    unsigned char bytes[16];
} plain_address;

static void plain_from_ipv6(plain_address *out, const unsigned char *bytes)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(bytes, mapped, sizeof mapped) == 0) {
        out->family = AF_INET;
        memcpy(out->bytes, bytes + 12, 4);
    } else {
        out->family = AF_INET6;
        memcpy(out->bytes, bytes, 16);
    }
}

/* "10.0.0.1", "::1" or "[::1]" read as an address; false for a name. */
static bool plain_from_text(plain_address *out, const char *text)
{
    char inner[INET6_ADDRSTRLEN];
    size_t len = strlen(text);
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        if (len - 2 >= sizeof inner)
            return false;
        memcpy(inner, text + 1, len - 2);
        inner[len - 2] = '\0';
        text = inner;
    }
    struct in6_addr v6;
    if (inet_pton(AF_INET, text, out->bytes) == 1) {
        out->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, text, &v6) == 1) {
        plain_from_ipv6(out, v6.s6_addr);
        return true;
    }
    return false;
}

static bool range_contains(const host_allow_entry *range, const plain_address *address)
{
    if (range->name || range->family != address->family)
        return false;
    int whole = range->prefix / 8, rest = range->prefix % 8;
    if (memcmp(range->network, address->bytes, (size_t)whole) != 0)
        return false;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return rest == 0 || (range->network[whole] & mask) == (address->bytes[whole] & mask);
}

/* Lower case, without a trailing dot: the form names are compared in. */
static char *name_canonical(const char *name, size_t len)
{
    if (len && name[len - 1] == '.')
        len--;
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0; i < len; i++)
        copy[i] = (char)tolower((unsigned char)name[i]);
    copy[len] = '\0';
    return copy;
}

static bool name_is_valid(const char *name)
{
    if (!*name || strcmp(name, ".") == 0)
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
            return false;
    return true;
}

/* "10.0.0.0/8": the address and its prefix length, the bits past it zero. */
static int range_parse(host_allow_entry *entry, const char *text)
{
    char address[INET6_ADDRSTRLEN + 2];
    const char *slash = strchr(text, '/');
    size_t len = slash ? (size_t)(slash - text) : strlen(text);
    if (len >= sizeof address)
        return -1;
    memcpy(address, text, len);
    address[len] = '\0';
    plain_address plain;
    if (!plain_from_text(&plain, address))
        return -1;
    int max = plain.family == AF_INET ? 32 : 128;
    int prefix = max;
    if (slash) {
        char *end;
        long value = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || value < 0 || value > max)
            return -1;
        prefix = (int)value;
    }
    /* 10.1.0.0/8 is a typo for 10.0.0.0/8 or 10.1.0.0/16: refuse it. */
    for (int bit = prefix; bit < max; bit++)
        if (plain.bytes[bit / 8] & (0x80 >> (bit % 8)))
            return -1;
    *entry = (host_allow_entry){.family = plain.family, .prefix = prefix};
    memcpy(entry->network, plain.bytes, sizeof entry->network);
    return 0;
}

static int entry_parse(host_allow_entry *entry, const char *text, size_t len)
{
    char item[HOST_ALLOW_ENTRY_MAX + 1];
    if (len == 0 || len > HOST_ALLOW_ENTRY_MAX)
        return -1;
    memcpy(item, text, len);
    item[len] = '\0';
    if (range_parse(entry, item) == 0)
        return 0;
    if (strchr(item, '/') || strchr(item, ':') || strchr(item, '['))
        return -1;
    char *name = name_canonical(item, len);
    if (!name || !name_is_valid(name)) {
        free(name);
        return -1;
    }
    *entry = (host_allow_entry){.name = name};
    return 0;
}

int host_allow_list_parse(host_allow_list *list, const char *text, char *why, size_t why_len)
{
    *list = (host_allow_list){0};
    for (const char *p = text ? text : ""; *p;) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, ",");
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0)
            continue;
        host_allow_entry *grown = realloc(list->entries, (list->count + 1) * sizeof *grown);
        if (!grown || entry_parse(&grown[list->count], p, len) < 0) {
            if (grown)
                list->entries = grown;
            snprintf(why, why_len, "\"%.*s\" is neither a host name, an address nor a CIDR range",
                     (int)(len > 64 ? 64 : len), p);
            host_allow_list_free(list);
            return -1;
        }
        list->entries = grown;
        list->count++;
        p += len;
    }
    return 0;
}

void host_allow_list_free(host_allow_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->entries[i].name);
    free(list->entries);
    *list = (host_allow_list){0};
}

static bool list_contains(const host_allow_list *list, const plain_address *address)
{
    for (size_t i = 0; i < list->count; i++)
        if (range_contains(&list->entries[i], address))
            return true;
    return false;
}

bool host_allow_list_has_host(const host_allow_list *list, const char *host)
{
    plain_address address;
    if (plain_from_text(&address, host))
        return list_contains(list, &address);
    char *name = name_canonical(host, strlen(host));
    bool found = false;
    for (size_t i = 0; name && !found && i < list->count; i++)
        found = list->entries[i].name && strcmp(list->entries[i].name, name) == 0;
    free(name);
    return found;
}

bool host_allow_list_has_address(const host_allow_list *list, const struct sockaddr *address)
{
    plain_address plain;
    if (address->sa_family == AF_INET) {
        plain.family = AF_INET;
        memcpy(plain.bytes, &((const struct sockaddr_in *)address)->sin_addr, 4);
    } else if (address->sa_family == AF_INET6) {
        plain_from_ipv6(&plain, ((const struct sockaddr_in6 *)address)->sin6_addr.s6_addr);
    } else {
        return false;
    }
    return list_contains(list, &plain);
}
