/* Log: a single line is formatted in one buffer and written with one write(2),
 * so lines of several processes sharing a file never interleave. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
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
} log_state = {"payments", NULL, STDERR_FILENO, LOG_INFO};

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

void log_close(void)
{
    if (log_state.fd != STDERR_FILENO)
        close(log_state.fd);
    log_state.fd = STDERR_FILENO;
    free(log_state.path);
    log_state.path = NULL;
}

void log_vwrite(log_level level, const char *fmt, va_list ap)
{
    if (level < log_state.level)
        return;
    char line[2048];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %-5s %s[%d] ", now.tv_nsec / 1000000, level_names[level],
                  log_state.role, (int)getpid());
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    int saved = errno;
    ssize_t ignored = write(log_state.fd, line, len);
    (void)ignored;
    errno = saved;
}

void log_write(log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, fmt, ap);
    va_end(ap);
}
