/* Request ids and the log lines that carry them: which client ids are kept,
 * that made ones differ, that the ambient id nests as callbacks do, and that
 * a text line names the id and a JSON line parses with every member, even
 * for a message JSON must escape or cannot hold. */
#include "log.h"
#include "request_id.h"
#include "unit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* strcmp that a missing member fails rather than crashes. */
static bool same(const char *text, const char *expected)
{
    return text && strcmp(text, expected) == 0;
}

UNIT_CASE(sane_ids, NULL)
{
    CHECK(request_id_sane("abc-123"));
    CHECK(request_id_sane("A.b_c~d!#$%&'*+^`|"));
    char longest[REQUEST_ID_MAX + 2];
    memset(longest, 'a', REQUEST_ID_MAX);
    longest[REQUEST_ID_MAX] = '\0';
    CHECK(request_id_sane(longest));
    longest[REQUEST_ID_MAX] = 'a';
    longest[REQUEST_ID_MAX + 1] = '\0';
    CHECK(!request_id_sane(longest));
    const char *insane[] = {"", "has space", "quote\"", "back\\slash", "semi;colon", "new\nline", "caf\xc3\xa9", "a,b"};
    for (size_t i = 0; i < sizeof insane / sizeof insane[0]; i++)
        CHECK(!request_id_sane(insane[i]));
}

UNIT_CASE(chosen_ids, NULL)
{
    request_id kept, first, second, refused;
    request_id_choose("abc-123", &kept);
    CHECK(strcmp(kept.text, "abc-123") == 0);
    request_id_choose(NULL, &first);
    request_id_choose(NULL, &second);
    request_id_choose("not sane", &refused);
    CHECK(request_id_sane(first.text) && request_id_sane(second.text) && request_id_sane(refused.text));
    CHECK(strcmp(first.text, second.text) != 0 && strcmp(second.text, refused.text) != 0);
    CHECK(strcmp(refused.text, "not sane") != 0);
}

UNIT_CASE(ambient_nests, NULL)
{
    request_id outer, inner, saved_outer, saved_inner;
    request_id_choose("outer", &outer);
    request_id_choose("inner", &inner);
    CHECK(strcmp(request_id_current(), "") == 0);
    request_id_enter(&outer, &saved_outer);
    request_id_enter(&inner, &saved_inner);
    CHECK(strcmp(request_id_current(), "inner") == 0);
    request_id_restore(&saved_inner);
    CHECK(strcmp(request_id_current(), "outer") == 0);
    request_id captured;
    request_id_capture(&captured);
    request_id_restore(&saved_outer);
    CHECK(strcmp(request_id_current(), "") == 0);
    CHECK(strcmp(captured.text, "outer") == 0);
}

/* Logs through fn into a fresh file; returns its text (free it). */
static char *logged(log_line_format format, void (*fn)(void))
{
    char path[] = "/tmp/payments-log-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    close(fd);
    log_open("tester", path);
    log_set_format(format);
    fn();
    log_close();
    log_set_format(LOG_FORMAT_TEXT);
    FILE *in = fopen(path, "r");
    char *text = calloc(1, 65536);
    if (in && text)
        text[fread(text, 1, 65535, in)] = '\0';
    if (in)
        fclose(in);
    unlink(path);
    return text;
}

static void write_lines(void)
{
    request_id id, saved;
    request_id_choose("abc-123", &id);
    request_id_enter(&id, &saved);
    log_info("with \"quotes\" and a\ttab");
    request_id_restore(&saved);
    log_warn("no request");
    log_request(LOG_ERROR, "explicit-9", "invalid UTF-8: \xff");
}

UNIT_CASE(text_lines, NULL)
{
    char *text = logged(LOG_FORMAT_TEXT, write_lines);
    CHECK(text != NULL);
    CHECK(strstr(text, " INFO  tester[") && strstr(text, "] request=abc-123 with \"quotes\""));
    CHECK(strstr(text, "] no request\n") != NULL);
    CHECK(strstr(text, "] request=explicit-9 invalid UTF-8") != NULL);
    free(text);
}

UNIT_CASE(json_lines, NULL)
{
    char *text = logged(LOG_FORMAT_JSON, write_lines);
    CHECK(text != NULL);
    const char *expected_ids[] = {"abc-123", NULL, "explicit-9"};
    const char *expected_levels[] = {"INFO", "WARN", "ERROR"};
    char *line = text;
    for (int i = 0; i < 3; i++) {
        char *end = strchr(line, '\n');
        CHECK(end != NULL);
        if (!end)
            break;
        *end = '\0';
        json_error_t error;
        json_t *doc = json_loads(line, 0, &error);
        CHECK(json_is_object(doc));
        CHECK(same(json_string_value(json_object_get(doc, "level")), expected_levels[i]));
        CHECK(same(json_string_value(json_object_get(doc, "process")), "tester"));
        CHECK(json_integer_value(json_object_get(doc, "pid")) == getpid());
        CHECK(json_string_length(json_object_get(doc, "time")) == 24);
        CHECK(json_is_string(json_object_get(doc, "message")));
        if (i == 2)
            CHECK(same(json_string_value(json_object_get(doc, "message")), "invalid UTF-8: ?"));
        json_t *id = json_object_get(doc, "request_id");
        CHECK(expected_ids[i] ? same(json_string_value(id), expected_ids[i]) : json_is_null(id));
        json_decref(doc);
        line = end + 1;
    }
    CHECK(*line == '\0');
    free(text);
}
