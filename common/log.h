/* Log: one line per event, "time level role[pid] [request=ID] message", or
 * one JSON object per line (time, level, process, pid, request_id, message),
 * to stderr or to a file that can be reopened (USR1) after rotation. The
 * request id is the ambient one (request_id.h). Secrets are never passed
 * here: callers log names of things, not their values. */
#ifndef PAYMENTS_LOG_H
#define PAYMENTS_LOG_H

#include <stdarg.h>
#include <stdbool.h>

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;
typedef enum log_line_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON } log_line_format;

/* path NULL or "" logs to stderr. Returns 0, or -1 with errno set. */
int log_open(const char *role, const char *path);
int log_reopen(void);
void log_set_level(log_level level);
void log_set_format(log_line_format format);
void log_close(void);
/* Batched, INFO and DEBUG lines wait (at most PIPE_BUF bytes) until
 * log_flush, a WARN or ERROR line, a full batch, log_reopen, log_close or
 * exit: a loop that logs a line per request calls log_flush once per turn,
 * before it waits, and spares a write(2) per line. _exit and a crash lose
 * what waits: call log_flush before _exit. Off by default. */
void log_set_batched(bool on);
void log_flush(void);

void log_write(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vwrite(log_level level, const char *fmt, va_list ap);
/* A line about the request request_id rather than the ambient one: for the
 * code that answers a request from wherever its answer comes. */
void log_request(log_level level, const char *request_id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
