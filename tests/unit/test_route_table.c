/* route_table: the routing file parsed and checked whole (refusals name the
 * file and the rule), rules tried in order with "*" matching anything, and
 * the file read from disk or left out. */
#include "config.h"
#include "route_table.h"
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

/* The example, with the vendors this server has adapters for. */
static const char example[] =
    "{\"routes\": ["
    "{\"name\": \"mid-a-krw-cards\", \"pg\": \"card\", \"mid\": \"A\", \"currency\": \"KRW\","
    " \"vendor\": \"toss.payments\", \"store_id\": \"toss-direct\"},"
    "{\"name\": \"mid-b\", \"pg\": \"*\", \"mid\": \"B\", \"currency\": \"*\","
    " \"vendor\": \"iamport\", \"store_id\": \"imp-b\"},"
    "{\"name\": \"usd\", \"pg\": \"*\", \"mid\": \"*\", \"currency\": \"USD\","
    " \"vendor\": \"iamport\", \"store_id\": \"imp-global\","
    " \"fallback\": {\"vendor\": \"toss.payments\", \"store_id\": \"toss-global\"}},"
    "{\"pg\": \"*\", \"mid\": \"*\", \"currency\": \"*\", \"vendor\": \"toss.payments\", \"store_id\": \"rest\"}"
    "]}";

/* The store id the table picks for (pg, mid, currency), or "none". */
static const char *picked(const route_table *table, const char *pg, const char *mid, const char *currency)
{
    const route_rule *rule = route_table_match(table, &(route_key){pg, mid, currency});
    return rule ? rule->target.store_id : "none";
}

UNIT_CASE(example_parses_with_names_targets_and_fallback, NULL)
{
    char err[512] = "";
    route_table *table = route_table_parse(example, "routes.json", err, sizeof err);
    if (!CHECK(table != NULL)) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK(table->count == 4);
    CHECK_STR(table->rules[0].name, "mid-a-krw-cards");
    CHECK_STR(table->rules[0].target.vendor_code, "toss.payments");
    CHECK(table->rules[0].fallback.vendor_code == NULL);
    CHECK_STR(table->rules[2].fallback.vendor_code, "toss.payments");
    CHECK_STR(table->rules[2].fallback.store_id, "toss-global");
    CHECK(table->rules[3].name == NULL);
    route_table_free(table);
}

UNIT_CASE(first_match_wins_and_star_matches_anything, NULL)
{
    char err[512] = "";
    route_table *table = route_table_parse(example, "routes.json", err, sizeof err);
    if (!CHECK(table != NULL))
        return;
    CHECK_STR(picked(table, "card", "A", "KRW"), "toss-direct");
    /* mid B comes before USD: the first rule that matches wins. */
    CHECK_STR(picked(table, "card", "B", "USD"), "imp-b");
    CHECK_STR(picked(table, "vbank", "B", "KRW"), "imp-b");
    CHECK_STR(picked(table, "card", "A", "USD"), "imp-global");
    CHECK_STR(picked(table, "card", "C", "USD"), "imp-global");
    /* Exact fields are exact: another pg or a mid differing in case falls through. */
    CHECK_STR(picked(table, "vbank", "A", "KRW"), "rest");
    CHECK_STR(picked(table, "card", "a", "KRW"), "rest");
    CHECK_STR(picked(table, "card", "b", "JPY"), "rest");
    route_table_free(table);
}

UNIT_CASE(no_rule_matching_is_no_route, NULL)
{
    char err[512] = "";
    route_table *table = route_table_parse("{\"routes\": [{\"pg\": \"card\", \"mid\": \"*\", \"currency\": \"KRW\","
                                           " \"vendor\": \"iamport\", \"store_id\": \"s\"}]}",
                                           "routes.json", err, sizeof err);
    if (!CHECK(table != NULL))
        return;
    CHECK_STR(picked(table, "card", "anything", "KRW"), "s");
    CHECK_STR(picked(table, "card", "anything", "USD"), "none");
    CHECK_STR(picked(table, "vbank", "anything", "KRW"), "none");
    route_table_free(table);
    CHECK(route_table_match(NULL, &(route_key){"card", "A", "KRW"}) == NULL);
}

/* One rule at index 1 after a good one, so the message must name the index. */
static void expect_refused_rule(const char *rule, const char *why)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"routes\": [{\"pg\": \"*\", \"mid\": \"*\", \"currency\": \"*\", \"vendor\": \"iamport\","
             " \"store_id\": \"s\"}, %s]}",
             rule);
    char err[512] = "";
    route_table *table = route_table_parse(text, "/etc/payments/routes.json", err, sizeof err);
    CHECK(table == NULL);
    route_table_free(table);
    if (!CHECK(strstr(err, "PAYMENT_ROUTES_FILE /etc/payments/routes.json: routes[1]") == err) ||
        !CHECK(strstr(err, why) != NULL))
        fprintf(stderr, "  %s -> %s\n", rule, err);
}

UNIT_CASE(a_bad_rule_is_refused_naming_it, NULL)
{
    /* Members beside pg, mid and store_id, and what the refusal says. */
    static const struct {
        const char *members;
        const char *why;
    } cases[] = {
        {"\"currency\": \"KRW\", \"vendor\": \"paypal\"", "vendor \"paypal\" is not a vendor of this server"},
        {"\"currency\": \"krw\", \"vendor\": \"iamport\"", "currency must be an ISO 4217 code"},
        {"\"currency\": \"KRWX\", \"vendor\": \"iamport\"", "currency must be an ISO 4217 code"},
        {"\"vendor\": \"iamport\"", "currency is required"},
        {"\"currency\": 410, \"vendor\": \"iamport\"", "currency must be a non-empty string"},
        {"\"curency\": \"KRW\", \"currency\": \"KRW\", \"vendor\": \"iamport\"", "unknown member \"curency\""},
        {"\"currency\": \"KRW\", \"vendor\": \"iamport\", \"name\": \"\"", "name must be a non-empty string"},
        {"\"currency\": \"KRW\", \"vendor\": \"iamport\", \"fallback\": {\"vendor\": \"nope\", \"store_id\": \"x\"}",
         "fallback.vendor \"nope\" is not a vendor of this server"},
        {"\"currency\": \"KRW\", \"vendor\": \"iamport\", \"fallback\": {\"vendor\": \"iamport\"}",
         "fallback.store_id is required"},
        {"\"currency\": \"KRW\", \"vendor\": \"iamport\", \"fallback\": \"iamport\"", "fallback must be an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rule[512];
        snprintf(rule, sizeof rule, "{\"pg\": \"card\", \"mid\": \"A\", \"store_id\": \"s\", %s}", cases[i].members);
        expect_refused_rule(rule, cases[i].why);
    }
    expect_refused_rule("[\"card\", \"A\", \"KRW\"]", "must be an object");
}

static void expect_refused_file(const char *text, const char *why)
{
    char err[512] = "";
    route_table *table = route_table_parse(text, "routes.json", err, sizeof err);
    CHECK(table == NULL);
    route_table_free(table);
    if (!CHECK(strstr(err, "PAYMENT_ROUTES_FILE routes.json: ") == err) || !CHECK(strstr(err, why) != NULL))
        fprintf(stderr, "  %s -> %s\n", text, err);
}

UNIT_CASE(a_bad_document_is_refused, NULL)
{
    expect_refused_file("{\"routes\": [", "not JSON");
    expect_refused_file("[]", "must be an object {\"routes\"");
    expect_refused_file("{\"routes\": {}}", "must be an object {\"routes\"");
    expect_refused_file("{\"routes\": [], \"default\": \"iamport\"}", "and nothing else");
    expect_refused_file("{\"routes\": [], \"routes\": []}", "not JSON");
}

static bool write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    if (!file)
        return false;
    bool ok = fputs(text, file) >= 0;
    return fclose(file) == 0 && ok;
}

UNIT_CASE(the_configured_file_is_read_or_left_out, NULL)
{
    cfg config = {0};
    static route_table untouched;
    route_table *table = &untouched; /* must be set to NULL */
    char err[512] = "";
    CHECK(route_table_open(&config, &table, err, sizeof err) == 0);
    CHECK(table == NULL);

    char path[] = "/tmp/test_route_table_XXXXXX";
    int fd = mkstemp(path);
    if (!CHECK(fd >= 0))
        return;
    close(fd);
    config.routes_file = path;
    if (CHECK(write_file(path, example)) && CHECK(route_table_open(&config, &table, err, sizeof err) == 0) &&
        CHECK(table != NULL))
        CHECK(table->count == 4);
    route_table_free(table);
    /* A NUL would end the text the parser sees: what follows must not hide. */
    FILE *file = fopen(path, "wb");
    if (CHECK(file != NULL)) {
        CHECK(fwrite("{\"routes\": []}\0]", 1, 16, file) == 16);
        fclose(file);
        CHECK(route_table_open(&config, &table, err, sizeof err) == -1);
        CHECK(table == NULL && strstr(err, "NUL byte") != NULL);
    }
    unlink(path);
    CHECK(route_table_open(&config, &table, err, sizeof err) == -1);
    CHECK(table == NULL);
    CHECK(strstr(err, path) != NULL && strstr(err, "cannot be read") != NULL);
}
