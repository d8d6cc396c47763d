/* path: mkdir -p of a file's directory, one component at a time, so that a
 * directory created meanwhile by another process is no failure; and reading
 * the /proc link to a process's binary. */
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int path_make_parent(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static int read_executable_link(const char *link, char *out, size_t len)
{
    ssize_t n = readlink(link, out, len - 1);
    out[n > 0 ? n : 0] = '\0';
    if (n <= 0)
        return -1;
    static const char deleted[] = " (deleted)";
    size_t l = strlen(out);
    if (l > sizeof deleted - 1 && strcmp(out + l - (sizeof deleted - 1), deleted) == 0)
        out[l - (sizeof deleted - 1)] = '\0';
    return 0;
}

int path_executable(int pid, char *out, size_t len)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", pid);
    if (pid > 0)
        return read_executable_link(link, out, len);
    out[0] = '\0';
    return -1;
}

int path_own_executable(char *out, size_t len)
{
    return read_executable_link("/proc/self/exe", out, len);
}
