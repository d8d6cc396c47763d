/* Log: a single line is formatted in one buffer and written with one write(2),
 * so lines of several processes sharing a file never interleave. Batched
 * (log_set_batched), INFO and DEBUG lines wait in a buffer of PIPE_BUF bytes
 * and go out together: one write of whole lines within PIPE_BUF is atomic on
 * a pipe as on a file, so batches do not interleave either. */
#include "log.h"

#include "request_id.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
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

/* The lines waiting for the next write; a mutex because a job on libuv's
 * thread pool may log too. */
static struct {
    bool on;
    bool flushed_at_exit;
    pthread_mutex_t lock;
    size_t len;
    char data[PIPE_BUF];
} log_batch = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void write_all(const char *data, size_t len)
{
    int saved = errno;
    ssize_t ignored = write(log_state.fd, data, len);
    (void)ignored;
    errno = saved;
}

static void batch_write_locked(void)
{
    if (log_batch.len > 0)
        write_all(log_batch.data, log_batch.len);
    log_batch.len = 0;
}

void log_flush(void)
{
    pthread_mutex_lock(&log_batch.lock);
    batch_write_locked();
    pthread_mutex_unlock(&log_batch.lock);
}

void log_set_batched(bool on)
{
    log_flush();
    log_batch.on = on;
    if (on && !log_batch.flushed_at_exit)
        log_batch.flushed_at_exit = atexit(log_flush) == 0;
}

/* A WARN or ERROR line goes at once, after the lines before it. */
static void emit(log_level level, const char *line, size_t len)
{
    if (!log_batch.on) {
        write_all(line, len);
        return;
    }
    pthread_mutex_lock(&log_batch.lock);
    if (log_batch.len + len > sizeof log_batch.data)
        batch_write_locked();
    if (level >= LOG_WARN || len > sizeof log_batch.data) {
        batch_write_locked();
        write_all(line, len);
    } else {
        memcpy(log_batch.data + log_batch.len, line, len);
        log_batch.len += len;
    }
    pthread_mutex_unlock(&log_batch.lock);
}

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
    log_flush(); /* what waits belongs to the old file */
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
    log_set_batched(false);
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
    emit(level, line, len);
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
