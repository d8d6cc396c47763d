/* Unit tests of json_text: separators in nested objects and arrays, strings
 * escaped exactly as jansson escapes them (so an answer printed as text and
 * one printed by jansson are the same bytes), amounts as the answers always
 * printed them, growth past the first block, and a failure that sticks. */
#include "json_text.h"
#include "unit.h"

#include <jansson.h>
#include <stdlib.h>

static const char *result(const json_text *t)
{
    return json_text_result(t, NULL);
}

UNIT_CASE(structure, NULL)
{
    json_text t;
    json_text_init(&t);
    json_text_open(&t, '{');
    json_text_key(&t, "a");
    json_text_open(&t, '[');
    json_text_number(&t, "1");
    json_text_string(&t, "two");
    json_text_open(&t, '{');
    json_text_close(&t, '}');
    json_text_raw(&t, "[3,4]", 5);
    json_text_close(&t, ']');
    json_text_key(&t, "b");
    json_text_string(&t, NULL);
    json_text_key(&t, "c");
    json_text_open(&t, '{');
    json_text_key(&t, "d");
    json_text_number(&t, NULL);
    json_text_close(&t, '}');
    json_text_close(&t, '}');
    CHECK_STR(result(&t), "{\"a\":[1,\"two\",{},[3,4]],\"b\":null,\"c\":{\"d\":null}}");
    json_text_free(&t);
    CHECK(t.data == NULL && t.len == 0);
}

/* Every byte from 1 to 255 and a few multi-byte characters, against
 * jansson's own printing of the same string. */
UNIT_CASE(escaping_matches_jansson, NULL)
{
    char all[300];
    size_t n = 0;
    for (int c = 1; c < 128; c++)
        all[n++] = (char)c;
    const char utf8[] = "\xea\xb2\xb0\xec\xa0\x9c \xf0\x9f\x92\xb3 \xc3\xa9";
    memcpy(all + n, utf8, sizeof utf8); /* with its NUL */
    json_t *string = json_string(all);
    char *expected = json_dumps(string, JSON_COMPACT | JSON_ENCODE_ANY);
    json_text t;
    json_text_init(&t);
    json_text_string(&t, all);
    CHECK(expected != NULL);
    CHECK_STR(result(&t), expected);
    free(expected);
    json_decref(string);
    json_text_free(&t);
}

static void check_number(const char *decimal, const char *expected)
{
    json_text t;
    json_text_init(&t);
    json_text_number(&t, decimal);
    CHECK_STR(result(&t), expected);
    json_text_free(&t);
}

UNIT_CASE(numbers, NULL)
{
    check_number("25000", "25000");
    check_number("25000.00", "25000");
    check_number("0", "0");
    check_number("1000.50", "1000.5");
    check_number("0.1", "0.1");
    check_number("-3.25", "-3.25");
    check_number("9007199254740993", "9.00719925474099e+15");
    check_number("-0", "-0");
    check_number("007", "7");
    check_number("-25000", "-25000");
    check_number("123456789012345", "123456789012345");
    check_number("1234567890123456", "1234567890123456");
}

UNIT_CASE(failure_sticks, NULL)
{
    json_text t;
    json_text_init(&t);
    json_text_open(&t, '[');
    json_text_number(&t, "12abc");
    CHECK(result(&t) == NULL);
    json_text_number(&t, "1");
    json_text_close(&t, ']');
    CHECK(result(&t) == NULL);
    json_text_free(&t);

    json_text_init(&t);
    json_text_number(&t, "");
    CHECK(result(&t) == NULL);
    json_text_free(&t);
    json_text_init(&t);
    json_text_number(&t, "nan");
    CHECK(result(&t) == NULL);
    json_text_free(&t);
    json_text_init(&t);
    CHECK(result(&t) == NULL); /* nothing written is no JSON either */
    json_text_free(&t);
}

/* Far past the first block: every value is still in place, in order. */
UNIT_CASE(growth, NULL)
{
    json_text t;
    json_text_init(&t);
    json_text_open(&t, '[');
    char value[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(value, sizeof value, "v%d", i);
        json_text_string(&t, value);
    }
    json_text_close(&t, ']');
    size_t len = 0;
    const char *text = json_text_result(&t, &len);
    CHECK(text != NULL && strlen(text) == len);
    json_error_t error;
    json_t *doc = text ? json_loadb(text, len, 0, &error) : NULL;
    CHECK(json_array_size(doc) == 5000);
    CHECK_STR(json_string_value(json_array_get(doc, 4999)), "v4999");
    CHECK_STR(json_string_value(json_array_get(doc, 1234)), "v1234");
    json_decref(doc);
    json_text_free(&t);
}
