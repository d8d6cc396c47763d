/* webhook_destination: which webhook_urls a history may be created with in
 * each mode, and which resolved addresses a delivery may connect to, with
 * and without PAYMENT_WEBHOOK_ALLOW_HOSTS. */
#include "unit.h"
#include "webhook_destination.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static host_allow_list no_hosts;

static const webhook_destination_policy local_policy = {.restricted = false, .allowed = &no_hosts};
static const webhook_destination_policy dev_policy = {.restricted = true, .allowed = &no_hosts};

static void expect_refused(const webhook_destination_policy *policy, const char *url, const char *why_part)
{
    bool check = true;
    const char *why = webhook_destination_refusal(policy, url, &check);
    if (!CHECK(why != NULL && strstr(why, why_part) != NULL))
        fprintf(stderr, "  %s: %s\n", url, why ? why : "accepted");
    CHECK(!check);
}

static void expect_accepted(const webhook_destination_policy *policy, const char *url, bool check_addresses)
{
    bool check = !check_addresses;
    const char *why = webhook_destination_refusal(policy, url, &check);
    if (!CHECK(why == NULL))
        fprintf(stderr, "  %s: %s\n", url, why);
    CHECK(check == check_addresses);
}

UNIT_CASE(every_mode_refuses_credentials_and_other_schemes, NULL)
{
    const webhook_destination_policy *policies[] = {&local_policy, &dev_policy};
    for (size_t i = 0; i < 2; i++) {
        expect_refused(policies[i], "http://user:pw@example.com/hook", "credentials");
        expect_refused(policies[i], "https://user@example.com/hook", "credentials");
        expect_refused(policies[i], "https://:pw@example.com/hook", "credentials");
        expect_refused(policies[i], "ftp://example.com/hook", "http or https");
        expect_refused(policies[i], "example.com/hook", "http or https");
        expect_refused(policies[i], "http://exa mple.com/", "http or https");
    }
    /* Local mode keeps delivering to this machine, as the tests do. */
    expect_accepted(&local_policy, "http://127.0.0.1:37821/payments/internal/webhook", false);
    expect_accepted(&local_policy, "http://localhost/hook", false);
}

UNIT_CASE(outside_local_mode_internal_hosts_are_refused, NULL)
{
    static const char *internal[] = {
        "http://127.0.0.1/hook",  "http://10.0.0.1/hook",         "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hook", "http://[fd00::1]/hook",        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost/hook",  "http://LOCALHOST./hook",       "http://hooks.localhost/hook",
        "http://2130706433/hook", "http://0x7f.1/hook",           "http://192.168.0.10:443/hook",
        "https://0.0.0.0/hook",   "http://[fe80::1%25eth0]/hook", "http://172.16.5.4/hook",
    };
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++)
        expect_refused(&dev_policy, internal[i], "internal address");
    /* A name is judged by its addresses at delivery; a public address passes. */
    expect_accepted(&dev_policy, "https://hooks.example.com/payments", true);
    expect_accepted(&dev_policy, "http://8.8.8.8/hook", true);
    expect_accepted(&dev_policy, "HTTPS://Hooks.Example.com/payments", true);
    /* What looks like a host before an "@" is a user name: refused as such. */
    expect_refused(&dev_policy, "http://hooks.example.com%2f@127.0.0.1/", "credentials");
}

UNIT_CASE(allow_list_lets_named_destinations_through, NULL)
{
    host_allow_list allowed;
    char why[160];
    CHECK(host_allow_list_parse(&allowed, "hooks.internal, 10.0.0.0/8", why, sizeof why) == 0);
    webhook_destination_policy policy = {.restricted = true, .allowed = &allowed};
    expect_accepted(&policy, "http://hooks.internal:8080/notify", false);
    expect_accepted(&policy, "http://10.1.2.3/notify", false);
    expect_accepted(&policy, "http://other.internal/notify", true);
    expect_refused(&policy, "http://192.168.0.1/notify", "internal address");
    expect_refused(&policy, "http://user:pw@hooks.internal/notify", "credentials");

    struct sockaddr_in v4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "10.9.8.7", &v4.sin_addr);
    CHECK(webhook_destination_address_allowed((struct sockaddr *)&v4, &policy));
    inet_pton(AF_INET, "127.0.1.1", &v4.sin_addr);
    CHECK(!webhook_destination_address_allowed((struct sockaddr *)&v4, &policy));
    inet_pton(AF_INET, "169.254.169.254", &v4.sin_addr);
    CHECK(!webhook_destination_address_allowed((struct sockaddr *)&v4, &policy));
    inet_pton(AF_INET, "93.184.216.34", &v4.sin_addr);
    CHECK(webhook_destination_address_allowed((struct sockaddr *)&v4, &policy));
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::1", &v6.sin6_addr);
    CHECK(!webhook_destination_address_allowed((struct sockaddr *)&v6, &policy));
    inet_pton(AF_INET6, "::ffff:10.0.0.5", &v6.sin6_addr);
    CHECK(webhook_destination_address_allowed((struct sockaddr *)&v6, &policy));
    host_allow_list_free(&allowed);
}
