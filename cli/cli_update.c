/* `payments update <mode>` and `payments instances <mode>`: ask the master
 * updater of a mode (PAYMENT_UPDATOR_HOST_<MODE>:PAYMENT_UPDATOR_PORT) to
 * update every instance, or to list the instances connected to it. Progress
 * goes to stderr as it arrives; the results go to stdout: each instance's
 * outcome, then the branch, hash and commit time every instance serves. */
#include "cli.h"

#include "cli_link.h"
#include "json_printable.h"
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_MS 10000

typedef struct update_target {
    char *host;
    int port;
    char *secret;
    long long timeout_ms;
    long long heartbeat_ms;
    bool json;
} update_target;

static void target_free(update_target *t)
{
    free(t->host);
    free(t->secret);
}

/* The master updater of mode (at host_argument when given) from the settings.
 * Returns 0, or -1 with err. */
static int target_settings(const dotenv *env, const char *mode, const char *host_argument, update_target *t, char *err,
                           size_t errlen)
{
    memset(t, 0, sizeof *t);
    settings_link link;
    const char *secret = settings_get(env, "PAYMENT_SYSTEM_PASSWORD", NULL);
    const char *host = host_argument ? host_argument : settings_mode_host(env, "UPDATOR", mode, err, errlen);
    if (!secret) {
        snprintf(err, errlen, "PAYMENT_SYSTEM_PASSWORD is not set");
        return -1;
    }
    if (!host || settings_link_read(env, &link, err, errlen) < 0)
        return -1;
    t->timeout_ms = link.update_timeout_ms;
    t->heartbeat_ms = link.heartbeat_ms;
    if (settings_host_port(host, (int)link.port, &t->host, &t->port) < 0) {
        snprintf(err, errlen, "the master updater address must be HOST or HOST:PORT: %s", host);
        return -1;
    }
    if (!(t->secret = strdup(secret))) {
        snprintf(err, errlen, "out of memory");
        target_free(t);
        return -1;
    }
    return 0;
}

/* Parses "<mode> [--host HOST[:PORT]] [--json]" and the settings. */
static int target_load(int argc, char **argv, update_target *t)
{
    memset(t, 0, sizeof *t);
    cli_mode_arguments args;
    int usage = cli_mode_arguments_parse(argc, argv, false, &args);
    if (usage != 0)
        return usage;
    dotenv env;
    if (cli_settings_open(&env) < 0)
        return 1;
    char err[300];
    int rc = target_settings(&env, args.mode, args.host, t, err, sizeof err) == 0 ? 0 : 1;
    t->json = args.json;
    dotenv_free(&env);
    if (rc != 0) {
        fprintf(stderr, "payments %s: %s\n", argv[0], err);
        target_free(t);
    }
    return rc;
}

static const char *text_of(json_t *doc, const char *key, const char *fallback)
{
    return json_printable_string(json_object_get(doc, key), fallback);
}

static void print_instance(json_t *result)
{
    const char *instance = text_of(result, "instance", "?");
    double seconds = (double)json_integer_value(json_object_get(result, "duration_ms")) / 1000.0;
    if (json_is_true(json_object_get(result, "ok"))) {
        printf("%s: ok (%s) in %.1f s\n", instance, text_of(result, "action", "none"), seconds);
    } else {
        printf("%s: FAILED at %s: %s\n", instance, text_of(result, "step", "?"), text_of(result, "error", "?"));
        size_t i;
        json_t *line;
        json_array_foreach(json_object_get(result, "output"), i, line)
            printf("    | %s\n", json_printable_string(line, ""));
        const char *failed = json_string_value(json_object_get(result, "failed_hash"));
        if (failed)
            printf("    commit %.12s failed; the next update tries it again unless the remote moves past it\n", failed);
        if (json_is_true(json_object_get(result, "rolled_back")))
            printf("    the checkout was put back and rebuilt; the previous version keeps serving\n");
    }
    size_t i;
    json_t *warning;
    json_array_foreach(json_object_get(result, "warnings"), i, warning)
        printf("    warning: %s\n", json_printable_string(warning, "?"));
}

static void print_served(json_t *instances)
{
    printf("now serving:\n");
    size_t i;
    json_t *result;
    json_array_foreach(instances, i, result)
    {
        json_t *commit = json_object_get(result, "commit");
        if (!json_is_object(commit)) {
            printf("  %s: unknown commit\n", text_of(result, "instance", "?"));
            continue;
        }
        printf("  %s: branch %s, commit %s, committed %s (%s)\n", text_of(result, "instance", "?"),
               text_of(commit, "branch", "?"), text_of(commit, "hash", "?"), text_of(commit, "committed_at", "?"),
               text_of(commit, "subject", ""));
    }
}

/* The round's result: the document itself, or each instance's outcome and
 * then what every instance serves. */
static void print_round(json_t *message, bool json)
{
    if (json) {
        cli_print_json(message);
        return;
    }
    json_t *instances = json_object_get(message, "instances");
    size_t i;
    json_t *result;
    json_array_foreach(instances, i, result) print_instance(result);
    print_served(instances);
}

/* Prints what arrives until the result; returns the exit status. */
static int follow_round(cli_link *link, const update_target *t)
{
    for (;;) {
        char err[300];
        json_t *message = cli_link_receive(link, (int)(t->timeout_ms + 60000), err, sizeof err);
        if (!message) {
            fprintf(stderr, "payments update: %s\n", err);
            return 1;
        }
        const char *type = text_of(message, "type", "");
        int rc = -1;
        if (strcmp(type, "accepted") == 0) {
            fprintf(stderr, "update round %lld: %zu instance(s)\n",
                    (long long)json_integer_value(json_object_get(message, "round")),
                    json_array_size(json_object_get(message, "instances")));
        } else if (strcmp(type, "progress") == 0) {
            fprintf(stderr, "[%s] %s\n", text_of(message, "instance", "?"), text_of(message, "message", ""));
        } else if (strcmp(type, "refused") == 0 || strcmp(type, "error") == 0) {
            fprintf(stderr, "payments update: refused: %s\n", text_of(message, "reason", "no reason given"));
            rc = 1;
        } else if (strcmp(type, "result") == 0) {
            print_round(message, t->json);
            rc = json_is_true(json_object_get(message, "ok")) ? 0 : 1;
        }
        json_decref(message);
        if (rc >= 0)
            return rc;
    }
}

static void print_instances(json_t *answer)
{
    printf("%s\n", json_is_true(json_object_get(answer, "updating")) ? "an update is running" : "idle");
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(answer, "instances"), i, entry)
        printf("  %s (%s, %s)\n", text_of(entry, "instance", "?"), text_of(entry, "role", "?"),
               text_of(entry, "address", "?"));
}

static int show_instances(cli_link *link, const update_target *t)
{
    char err[300];
    json_t *answer = cli_link_receive(link, CONNECT_TIMEOUT_MS, err, sizeof err);
    if (!answer) {
        fprintf(stderr, "payments instances: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (t->json)
        rc = cli_print_json(answer);
    else
        print_instances(answer);
    json_decref(answer);
    return rc;
}

/* Connects to the mode's master updater, sends the request {type} and lets
 * follow read the answer; returns the exit status. */
static int ask_master_updater(int argc, char **argv, const char *type, int (*follow)(cli_link *, const update_target *))
{
    update_target t;
    int rc = target_load(argc, argv, &t);
    if (rc != 0)
        return rc;
    cli_link link;
    char err[300];
    if (cli_link_open(&link, t.host, t.port, t.secret, t.heartbeat_ms, CONNECT_TIMEOUT_MS, err, sizeof err) < 0) {
        fprintf(stderr, "payments %s: %s:%d: %s\n", argv[0], t.host, t.port, err);
        target_free(&t);
        return 1;
    }
    json_t *request = json_pack("{s:s}", "type", type);
    rc = 1;
    if (!request)
        fprintf(stderr, "payments %s: out of memory\n", argv[0]);
    else if (cli_link_send(&link, request, err, sizeof err) < 0)
        fprintf(stderr, "payments %s: %s\n", argv[0], err);
    else
        rc = follow(&link, &t);
    json_decref(request);
    cli_link_close(&link);
    target_free(&t);
    return rc;
}

int cli_update(int argc, char **argv)
{
    return ask_master_updater(argc, argv, "update", follow_round);
}

int cli_instances(int argc, char **argv)
{
    return ask_master_updater(argc, argv, "instances", show_instances);
}

json_t *cli_instances_ask(const dotenv *env, const char *mode, int timeout_ms, char **updater_host, char *err,
                          size_t errlen)
{
    update_target t;
    if (target_settings(env, mode, NULL, &t, err, errlen) < 0)
        return NULL;
    cli_link link;
    json_t *answer = NULL, *request = json_pack("{s:s}", "type", "instances");
    if (cli_link_open(&link, t.host, t.port, t.secret, t.heartbeat_ms, timeout_ms, err, errlen) == 0) {
        if (request && cli_link_send(&link, request, err, errlen) == 0)
            answer = cli_link_receive(&link, timeout_ms, err, errlen);
        cli_link_close(&link);
    }
    json_decref(request);
    if (answer && !json_is_array(json_object_get(answer, "instances"))) {
        snprintf(err, errlen, "the master updater's answer lists no instances");
        json_decref(answer);
        answer = NULL;
    }
    if (answer) {
        *updater_host = t.host;
        t.host = NULL;
    }
    target_free(&t);
    return answer;
}
