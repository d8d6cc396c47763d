/* host_allow_list: what PAYMENT_WEBHOOK_ALLOW_HOSTS accepts and refuses, and
 * which hosts and resolved addresses its entries let through. */
#include "host_allow_list.h"
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static bool has_address(const host_allow_list *list, const char *text)
{
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET, text, &v4.sin_addr) == 1)
        return host_allow_list_has_address(list, (struct sockaddr *)&v4);
    CHECK(inet_pton(AF_INET6, text, &v6.sin6_addr) == 1);
    return host_allow_list_has_address(list, (struct sockaddr *)&v6);
}

UNIT_CASE(names_addresses_and_ranges, NULL)
{
    host_allow_list list;
    char why[160] = "";
    CHECK(host_allow_list_parse(&list, " Hooks.Internal. , 10.20.0.0/16,192.168.1.7, fd00::/8,[::1]", why,
                                sizeof why) == 0);
    CHECK(list.count == 5);
    CHECK(host_allow_list_has_host(&list, "hooks.internal"));
    CHECK(host_allow_list_has_host(&list, "HOOKS.internal."));
    CHECK(!host_allow_list_has_host(&list, "other.internal"));
    CHECK(!host_allow_list_has_host(&list, "evil-hooks.internal"));
    CHECK(!host_allow_list_has_host(&list, "hooks.internal.evil.com"));
    CHECK(host_allow_list_has_host(&list, "10.20.3.4"));
    CHECK(!host_allow_list_has_host(&list, "10.21.0.1"));
    CHECK(host_allow_list_has_host(&list, "192.168.1.7"));
    CHECK(!host_allow_list_has_host(&list, "192.168.1.8"));
    CHECK(host_allow_list_has_host(&list, "[::1]"));
    CHECK(host_allow_list_has_host(&list, "[fd12::5]"));
    CHECK(!host_allow_list_has_host(&list, "[fe80::1]"));
    CHECK(has_address(&list, "10.20.255.255"));
    CHECK(has_address(&list, "::ffff:10.20.0.9")); /* IPv4-mapped: judged as IPv4 */
    CHECK(!has_address(&list, "10.19.255.255"));
    CHECK(has_address(&list, "::1"));
    CHECK(!has_address(&list, "127.0.0.1"));
    host_allow_list_free(&list);
}

UNIT_CASE(empty_list_allows_nothing, NULL)
{
    host_allow_list list;
    char why[160];
    CHECK(host_allow_list_parse(&list, NULL, why, sizeof why) == 0);
    CHECK(list.count == 0);
    CHECK(!host_allow_list_has_host(&list, "localhost"));
    CHECK(host_allow_list_parse(&list, " , ", why, sizeof why) == 0);
    CHECK(list.count == 0);
    CHECK(!has_address(&list, "127.0.0.1"));
    host_allow_list_free(&list);
}

UNIT_CASE(malformed_entries, NULL)
{
    static const char *bad[] = {
        "10.0.0.0/33", "10.1.0.0/8", "::1/129", "10.0.0.0/", "10.0.0.0/x", "bad name", "a/b", "host:80", "[hooks]", ".",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        host_allow_list list;
        char why[160] = "";
        char text[64];
        snprintf(text, sizeof text, "ok.example, %s", bad[i]);
        if (!CHECK(host_allow_list_parse(&list, text, why, sizeof why) == -1))
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(strstr(why, bad[i]) != NULL);
        CHECK(list.count == 0 && list.entries == NULL);
    }
}
