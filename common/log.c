/* Log: a single line is formatted in one buffer and written with one write(2),
 * so lines of several processes sharing a file never interleave. */
#include "log.h"

#include "request_id.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
    char role[32];
    char *path;
    int fd;
    log_level level;
    log_line_format format;
} log_state = {"payments", NULL, STDERR_FILENO, LOG_INFO, LOG_FORMAT_TEXT};

static const char *level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

int log_open(const char *role, const char *path)
{
    snprintf(log_state.role, sizeof log_state.role, "%s", role ? role : "payments");
    free(log_state.path);
    log_state.path = (path && *path) ? strdup(path) : NULL;
    if (path && *path && !log_state.path)
        return -1;
    return log_reopen();
}

int log_reopen(void)
{
    if (!log_state.path)
        return 0;
    int fd = open(log_state.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    int old = log_state.fd;
    log_state.fd = fd;
    if (old != STDERR_FILENO)
        close(old);
    return 0;
}

void log_set_level(log_level level)
{
    log_state.level = level;
}

void log_set_format(log_line_format format)
{
    log_state.format = format;
}

void log_close(void)
{
    if (log_state.fd != STDERR_FILENO)
        close(log_state.fd);
    log_state.fd = STDERR_FILENO;
    free(log_state.path);
    log_state.path = NULL;
}

/* "2026-01-02T03:04:05.678Z" */
static void format_time(char *out, size_t len)
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, len - n, ".%03ldZ", now.tv_nsec / 1000000);
}

static size_t text_line(char *line, size_t cap, log_level level, const char *time, const char *request_id,
                        const char *message)
{
    int n = snprintf(line, cap, "%s %-5s %s[%d] %s%s%s%s", time, level_names[level], log_state.role, (int)getpid(),
                     *request_id ? "request=" : "", request_id, *request_id ? " " : "", message);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Jansson refuses invalid UTF-8: such a message keeps its ASCII, the rest
 * becomes '?', so that a JSON log stays parseable line by line. */
static json_t *message_text(char *message)
{
    json_t *text = json_string(message);
    if (text)
        return text;
    for (char *c = message; *c; c++)
        if ((unsigned char)*c >= 0x80)
            *c = '?';
    return json_string(message);
}

static size_t json_line(char *line, size_t cap, log_level level, const char *time, const char *request_id,
                        char *message)
{
    json_t *doc = json_pack("{s:s, s:s, s:s, s:i, s:s?, s:o?}", "time", time, "level", level_names[level], "process",
                            log_state.role, "pid", (int)getpid(), "request_id", *request_id ? request_id : NULL,
                            "message", message_text(message));
    size_t n = doc ? json_dumpb(doc, line, cap, JSON_COMPACT | JSON_PRESERVE_ORDER) : 0;
    json_decref(doc);
    return n < cap ? n : 0;
}

static void write_line(log_level level, const char *request_id, const char *fmt, va_list ap)
{
    if (level < log_state.level)
        return;
    char message[1800], time[40], line[12288]; /* room for a message escaped in full */
    format_time(time, sizeof time);
    if (vsnprintf(message, sizeof message, fmt, ap) < 0)
        message[0] = '\0';
    size_t len = log_state.format == LOG_FORMAT_JSON
                     ? json_line(line, sizeof line - 1, level, time, request_id, message)
                     : text_line(line, sizeof line - 1, level, time, request_id, message);
    line[len++] = '\n';
    int saved = errno;
    ssize_t ignored = write(log_state.fd, line, len);
    (void)ignored;
    errno = saved;
}

void log_vwrite(log_level level, const char *fmt, va_list ap)
{
    write_line(level, request_id_current(), fmt, ap);
}

void log_write(log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_line(level, request_id_current(), fmt, ap);
    va_end(ap);
}

void log_request(log_level level, const char *request_id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_line(level, request_id ? request_id : "", fmt, ap);
    va_end(ap);
}
