/* Batched log lines: INFO lines wait for log_flush (or a full batch, a
 * warning, log_close), in order, whole; unbatched ones go out at once. A
 * worker batches its access lines this way, one write(2) per turn of its
 * loop rather than one per request. */
#include "log.h"
#include "unit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char log_path[] = "/tmp/payments-log-batch-XXXXXX";

/* Opens a fresh log file; false when it cannot. */
static bool open_log(bool batched)
{
    strcpy(log_path, "/tmp/payments-log-batch-XXXXXX");
    int fd = mkstemp(log_path);
    if (fd < 0)
        return false;
    close(fd);
    if (log_open("tester", log_path) < 0)
        return false;
    log_set_batched(batched);
    return true;
}

/* What the file holds now (free it). */
static char *written(void)
{
    FILE *in = fopen(log_path, "r");
    char *text = calloc(1, 1 << 20);
    if (in && text)
        text[fread(text, 1, (1 << 20) - 1, in)] = '\0';
    if (in)
        fclose(in);
    return text;
}

static void close_log(void)
{
    log_close();
    unlink(log_path);
}

/* Whether the messages appear in text in this order, each once. */
static bool in_order(const char *text, const char *const *messages, size_t n)
{
    const char *at = text;
    for (size_t i = 0; i < n; i++) {
        const char *found = at ? strstr(at, messages[i]) : NULL;
        if (!found || strstr(found + strlen(messages[i]), messages[i]))
            return false;
        at = found + strlen(messages[i]);
    }
    return true;
}

UNIT_CASE(unbatched_lines_go_at_once, NULL)
{
    CHECK(open_log(false));
    log_info("first line");
    char *text = written();
    CHECK(text && strstr(text, "first line"));
    free(text);
    close_log();
}

UNIT_CASE(batched_lines_wait_for_a_flush, NULL)
{
    CHECK(open_log(true));
    log_info("one");
    log_info("two");
    char *before = written();
    CHECK(before && before[0] == '\0');
    log_flush();
    char *after = written();
    const char *expected[] = {"one\n", "two\n"};
    CHECK(after && in_order(after, expected, 2));
    free(before);
    free(after);
    close_log();
}

UNIT_CASE(a_warning_writes_what_waits_then_itself, NULL)
{
    CHECK(open_log(true));
    log_info("waiting a");
    log_info("waiting b");
    log_warn("the warning");
    char *text = written();
    const char *expected[] = {"waiting a\n", "waiting b\n", "the warning\n"};
    CHECK(text && in_order(text, expected, 3));
    free(text);
    close_log();
}

/* Past PIPE_BUF bytes, what waits is written in whole lines, never more
 * than PIPE_BUF at a time; the rest follows with the flush. */
UNIT_CASE(a_full_batch_is_written_in_whole_lines, NULL)
{
    CHECK(open_log(true));
    enum { LINES = 200 };
    for (int i = 0; i < LINES; i++)
        log_info("line %03d of a batch that outgrows one pipe write", i);
    char *part = written();
    size_t len = part ? strlen(part) : 0;
    CHECK(len > 0 && part[len - 1] == '\n');
    log_flush();
    char *whole = written();
    CHECK(whole && strlen(whole) > len);
    char name[16];
    const char *at = whole;
    for (int i = 0; i < LINES && at; i++) {
        snprintf(name, sizeof name, "line %03d ", i);
        at = strstr(at, name);
    }
    CHECK(at != NULL);
    free(part);
    free(whole);
    close_log();
}

UNIT_CASE(closing_writes_what_waits, NULL)
{
    CHECK(open_log(true));
    log_info("the last words");
    log_close();
    char *text = written();
    CHECK(text && strstr(text, "the last words\n"));
    free(text);
    unlink(log_path);
}
