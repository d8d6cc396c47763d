/* Request ids: the check of a client's id, the making of ours (a random
 * prefix per process and a counter: unique without a system call per
 * request), and the ambient id of the one thread. */
#include "request_id.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static request_id ambient;

bool request_id_sane(const char *value)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    size_t len = 0;
    for (const char *c = value; *c; c++, len++) {
        bool alnum = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9');
        if (len == REQUEST_ID_MAX || (!alnum && !strchr(extra, *c)))
            return false;
    }
    return len > 0;
}

/* The prefix is drawn once; should the system refuse randomness, the pid and
 * the start time still tell processes apart. */
static uint32_t process_prefix(void)
{
    static uint32_t prefix;
    static bool drawn;
    if (!drawn) {
        if (getrandom(&prefix, sizeof prefix, GRND_NONBLOCK) != (ssize_t)sizeof prefix)
            prefix = (uint32_t)getpid() * 2654435761u ^ (uint32_t)time(NULL);
        drawn = true;
    }
    return prefix;
}

void request_id_choose(const char *header, request_id *out)
{
    static uint64_t counter;
    if (header && request_id_sane(header)) {
        snprintf(out->text, sizeof out->text, "%s", header);
        return;
    }
    snprintf(out->text, sizeof out->text, "%08x-%llx", process_prefix(), (unsigned long long)++counter);
}

const char *request_id_current(void)
{
    return ambient.text;
}

void request_id_capture(request_id *out)
{
    *out = ambient;
}

void request_id_enter(const request_id *id, request_id *saved)
{
    *saved = ambient;
    ambient = *id;
}

void request_id_restore(const request_id *saved)
{
    ambient = *saved;
}
