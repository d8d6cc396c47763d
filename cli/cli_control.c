/* The command line's client of the master's control socket: blocking, with
 * a timeout on every wait, since a command line has nothing else to do. */
#include "cli.h"

#include "control_command.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_LIMIT (1 << 20)

static int connect_socket(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        snprintf(err, errlen, "control socket path too long: %s", path);
        return -1;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        snprintf(err, errlen, "no master answers on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Reads until the master closes, at most ANSWER_LIMIT bytes, until deadline. */
static char *read_answer(int fd, long long deadline, char *err, size_t errlen)
{
    char *answer = NULL;
    size_t len = 0;
    for (;;) {
        long long left = deadline - cli_now_ms();
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        if (ready < 0 && errno == EINTR)
            continue;
        char chunk[8192];
        ssize_t got = ready > 0 ? read(fd, chunk, sizeof chunk) : -1;
        if (got == 0)
            break;
        char *grown = got > 0 && len + (size_t)got <= ANSWER_LIMIT ? realloc(answer, len + (size_t)got + 1) : NULL;
        if (!grown) {
            snprintf(err, errlen, "%s", ready == 0 ? "the master did not answer in time" : "cannot read the answer");
            free(answer);
            return NULL;
        }
        answer = grown;
        memcpy(answer + len, chunk, (size_t)got);
        len += (size_t)got;
        answer[len] = '\0';
    }
    if (!answer)
        snprintf(err, errlen, "the master closed the control socket without an answer");
    return answer;
}

/* The answer (malloc'd), or NULL with err. */
static char *control_request(const char *socket_path, control_command command, int timeout_ms, char *err, size_t errlen)
{
    int fd = connect_socket(socket_path, err, errlen);
    if (fd < 0)
        return NULL;
    char line[64];
    int n = snprintf(line, sizeof line, "%s\n", control_command_name(command));
    char *answer = NULL;
    if (n > 0 && n < (int)sizeof line && write(fd, line, (size_t)n) == n)
        answer = read_answer(fd, cli_now_ms() + timeout_ms, err, errlen);
    else
        snprintf(err, errlen, "cannot send the command to the master");
    close(fd);
    return answer;
}

json_t *cli_control_json(const char *socket_path, control_command command, int timeout_ms, char *err, size_t errlen)
{
    char *text = control_request(socket_path, command, timeout_ms, err, errlen);
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    if (text && !json_is_object(doc)) {
        snprintf(err, errlen, "the master's answer is not a JSON object");
        json_decref(doc);
        doc = NULL;
    }
    free(text);
    return doc;
}

int cli_ready_workers(json_t *status, bool *all_ready)
{
    int ready = 0;
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(status, "workers"), i, w)
    {
        const char *state = json_string_value(json_object_get(w, "state"));
        ready += state && strcmp(state, "ready") == 0;
    }
    json_t *master = json_object_get(status, "master");
    int configured = (int)json_integer_value(json_object_get(master, "workers_configured"));
    *all_ready = configured > 0 && ready >= configured && !json_is_true(json_object_get(master, "rolling"));
    return ready;
}
