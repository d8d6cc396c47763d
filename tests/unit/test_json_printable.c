/* Unit tests of json_printable: whatever a peer's document holds where a
 * string is expected (nothing, null, a number, an empty string), what goes
 * to a "%s" is text, never NULL. */
#include "json_printable.h"
#include "unit.h"

UNIT_CASE(string_is_kept, NULL)
{
    json_t *doc = json_pack("{s:s}", "error", "disk full");
    CHECK_STR(json_printable_string(json_object_get(doc, "error"), "?"), "disk full");
    json_decref(doc);
}

UNIT_CASE(anything_else_is_the_fallback, NULL)
{
    json_t *doc = json_pack("{s:n, s:i, s:s, s:[]}", "null", "number", 7, "empty", "", "array");
    CHECK_STR(json_printable_string(json_object_get(doc, "missing"), "?"), "?");
    CHECK_STR(json_printable_string(json_object_get(doc, "null"), "?"), "?");
    CHECK_STR(json_printable_string(json_object_get(doc, "number"), "?"), "?");
    CHECK_STR(json_printable_string(json_object_get(doc, "empty"), "?"), "?");
    CHECK_STR(json_printable_string(json_object_get(doc, "array"), "?"), "?");
    CHECK_STR(json_printable_string(NULL, "-"), "-");
    json_decref(doc);
}
