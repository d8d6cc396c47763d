/* address_class: every internal range is recognised in each spelling a URL
 * or the resolver can give it, and public addresses are not. */
#include "address_class.h"
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static int judge(const char *text)
{
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, text, &v4.sin_addr) == 1)
        return address_class_is_internal((struct sockaddr *)&v4);
    if (inet_pton(AF_INET6, text, &v6.sin6_addr) == 1)
        return address_class_is_internal((struct sockaddr *)&v6);
    return -1;
}

UNIT_CASE(internal_addresses, NULL)
{
    static const char *internal[] = {
        "127.0.0.1",
        "127.255.255.254",
        "10.0.0.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "198.18.0.1",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.1.2.3",
        "64:ff9b::a9fe:a9fe",
        "::127.0.0.1",
        "2001:db8::1",
        "fec0::1",
    };
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++) {
        if (judge(internal[i]) != 1)
            fprintf(stderr, "%s should be internal\n", internal[i]);
        CHECK(judge(internal[i]) == 1);
    }
}

UNIT_CASE(public_addresses, NULL)
{
    static const char *public[] = {"8.8.8.8",     "1.1.1.1",         "172.32.0.1",     "192.169.0.1",
                                   "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"};
    for (size_t i = 0; i < sizeof public / sizeof public[0]; i++) {
        if (judge(public[i]) != 0)
            fprintf(stderr, "%s should be public\n", public[i]);
        CHECK(judge(public[i]) == 0);
    }
}

UNIT_CASE(hosts_as_urls_write_them, NULL)
{
    CHECK(address_class_host("127.0.0.1") == 1);
    CHECK(address_class_host("127.1") == 1);
    CHECK(address_class_host("2130706433") == 1);
    CHECK(address_class_host("0x7f000001") == 1);
    CHECK(address_class_host("[::1]") == 1);
    CHECK(address_class_host("::1") == 1);
    CHECK(address_class_host("[fe80::1]") == 1);
    CHECK(address_class_host("localhost") == 1);
    CHECK(address_class_host("LOCALHOST.") == 1);
    CHECK(address_class_host("api.localhost") == 1);
    CHECK(address_class_host("8.8.8.8") == 0);
    CHECK(address_class_host("[2606:4700::1111]") == 0);
    CHECK(address_class_host("example.com") == -1);
    CHECK(address_class_host("localhost.example.com") == -1);
    CHECK(address_class_host("[not an address]") == -1);
}

static bool is_unix_internal(void)
{
    struct sockaddr unix_address = {.sa_family = AF_UNIX};
    return address_class_is_internal(&unix_address);
}

UNIT_CASE(other_families_are_internal, NULL)
{
    CHECK(is_unix_internal());
}
