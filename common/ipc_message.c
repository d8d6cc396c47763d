/* The master-worker messages: one table of kinds, with what payload each
 * carries, read by the one parser, the dispatcher and the one sender. A line
 * is checked whole before a handler sees it, so none acts on half a message. */
#include "ipc.h"

#include <jansson.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Key of ipc_log_once for lines whose kind is unknown; the known kinds use
 * their own value, so one of each is logged. */
#define UNKNOWN_KIND_KEY IPC_KIND_COUNT
_Static_assert(IPC_KIND_COUNT < 32, "ipc_log_once has 32 keys");

static const struct {
    const char *name;
    bool carries_json; /* "name {json}" rather than "name" alone */
} kinds[IPC_KIND_COUNT] = {
    [IPC_READY] = {"ready", false}, [IPC_DRAINING] = {"draining", false}, [IPC_STATS] = {"stats", true},
    [IPC_DRAIN] = {"drain", false}, [IPC_CLUSTER] = {"cluster", true},
};

const char *ipc_kind_name(ipc_kind kind)
{
    return (unsigned)kind < IPC_KIND_COUNT ? kinds[kind].name : "unknown";
}

static bool find_kind(const char *word, size_t len, ipc_kind *kind)
{
    for (int k = 0; k < IPC_KIND_COUNT; k++) {
        if (strlen(kinds[k].name) == len && memcmp(kinds[k].name, word, len) == 0) {
            *kind = (ipc_kind)k;
            return true;
        }
    }
    return false;
}

static bool is_json_object(const char *text)
{
    json_t *doc = json_loads(text, 0, NULL);
    bool object = json_is_object(doc);
    json_decref(doc);
    return object;
}

ipc_parse_result ipc_parse(const char *line, ipc_kind *kind, const char **payload)
{
    size_t word_len = strcspn(line, " ");
    if (!find_kind(line, word_len, kind))
        return IPC_UNKNOWN_KIND;
    const char *rest = line + word_len;
    if (!kinds[*kind].carries_json) {
        *payload = NULL;
        return *rest ? IPC_MALFORMED : IPC_PARSED;
    }
    if (*rest != ' ' || !is_json_object(rest + 1))
        return IPC_MALFORMED;
    *payload = rest + 1;
    return IPC_PARSED;
}

static void log_unknown_kind(ipc_channel *ch, const char *line)
{
    int word_len = (int)strcspn(line, " ");
    ipc_log_once(ch, UNKNOWN_KIND_KEY,
                 "ignoring a message of unknown kind \"%.*s\" (later ones of unknown kinds go unlogged)",
                 word_len < 32 ? word_len : 32, line);
}

int ipc_dispatch(ipc_channel *ch, const char *line, const ipc_handler handlers[IPC_KIND_COUNT], void *data)
{
    ipc_kind kind;
    const char *payload;
    ipc_parse_result result = ipc_parse(line, &kind, &payload);
    if (result == IPC_UNKNOWN_KIND) {
        log_unknown_kind(ch, line);
        return -1;
    }
    if (result == IPC_MALFORMED || !handlers[kind]) {
        ipc_log_once(ch, kind, "ignoring %s \"%s\" message (later ones go unlogged)",
                     result == IPC_MALFORMED ? "a malformed" : "an unexpected", kinds[kind].name);
        return -1;
    }
    handlers[kind](payload, data);
    return 0;
}

int ipc_keep_payload(char **kept, const char *payload)
{
    char *copy = strdup(payload);
    if (!copy)
        return -1;
    free(*kept);
    *kept = copy;
    return 0;
}

/* The one sender: the kind's name, and its payload when it carries one. */
static int send_message(ipc_channel *ch, ipc_kind kind, const char *json)
{
    const char *name = kinds[kind].name;
    if (!kinds[kind].carries_json)
        return ipc_send_line(ch, name);
    if (!json || strchr(json, '\n'))
        return -1;
    size_t name_len = strlen(name), json_len = strlen(json);
    char *line = malloc(name_len + 1 + json_len + 1);
    if (!line)
        return -1;
    memcpy(line, name, name_len);
    line[name_len] = ' ';
    memcpy(line + name_len + 1, json, json_len + 1);
    int rc = ipc_send_line(ch, line);
    free(line);
    return rc;
}

int ipc_send_ready(ipc_channel *ch)
{
    return send_message(ch, IPC_READY, NULL);
}

int ipc_send_draining(ipc_channel *ch)
{
    return send_message(ch, IPC_DRAINING, NULL);
}

int ipc_send_stats(ipc_channel *ch, const char *json)
{
    return send_message(ch, IPC_STATS, json);
}

int ipc_send_drain(ipc_channel *ch)
{
    return send_message(ch, IPC_DRAIN, NULL);
}

int ipc_send_cluster(ipc_channel *ch, const char *json)
{
    return send_message(ch, IPC_CLUSTER, json);
}
