/* `payments monitor <mode>`: reads GET /monitors/performance and GET
 * /monitors/system of a mode's API. Both answers are encrypted with the
 * connection key, as the SDK receives them (base64 of AES-CBC), so this needs
 * PAYMENT_CONNECTION_ENCRYPTION_KEY and _IV. Prints them readably, or with
 * --json as one document {"performance": ..., "system": ...}. With --watch
 * it reads the operators' /metrics instead, again and again (cli_watch.c).
 * Without --url or --host it shows every instance the mode's master updater
 * knows, one block each, and the mode's one server when no updater answers. */
#include "cli.h"

#include "cli_api_url.h"
#include "cli_http.h"
#include "crypto.h"
#include "json_printable.h"
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUEST_TIMEOUT_MS 10000
#define UPDATER_TIMEOUT_MS 3000 /* a master updater that does not answer by then is taken as absent */

/* GETs base + path and decrypts the answer; a JSON document or NULL with err. */
static json_t *fetch(const char *base, const char *path, const crypto_cbc_key *key, char *err, size_t errlen)
{
    char url[512];
    if (snprintf(url, sizeof url, "%s%s", base, path) >= (int)sizeof url) {
        snprintf(err, errlen, "the API address is too long");
        return NULL;
    }
    cli_http_request request = {"GET", url, NULL, NULL, REQUEST_TIMEOUT_MS};
    cli_http_answer answer;
    if (cli_http_exchange(&request, &answer, err, errlen) < 0)
        return NULL;
    json_t *doc = NULL;
    if (answer.status != 200) {
        snprintf(err, errlen, "GET %s: HTTP %ld", url, answer.status);
    } else {
        size_t plain_len = 0;
        unsigned char *plain = crypto_cbc_decrypt_base64(key, answer.body, answer.body_len, &plain_len);
        doc = plain ? json_loadb((const char *)plain, plain_len, 0, NULL) : NULL;
        free(plain);
        if (!json_is_object(doc)) {
            snprintf(err, errlen,
                     "GET %s: the answer does not decrypt to a JSON object with "
                     "PAYMENT_CONNECTION_ENCRYPTION_KEY/_IV",
                     url);
            json_decref(doc);
            doc = NULL;
        }
    }
    cli_http_answer_free(&answer);
    return doc;
}

static const char *text_of(json_t *doc, const char *key)
{
    return json_printable_string(json_object_get(doc, key), "-");
}

static double number_at(json_t *doc, const char *group, const char *key)
{
    return json_number_value(json_object_get(json_object_get(doc, group), key));
}

static void print_process(const char *role, json_t *entry)
{
    char pid[24] = "";
    json_int_t value = json_integer_value(json_object_get(entry, "pid"));
    if (value > 0)
        snprintf(pid, sizeof pid, "%lld", (long long)value);
    printf("  %-8s %8s %10.1f %10.1f %10.1f %10.2f %10.2f\n", role, pid, number_at(entry, "memory", "rss") / 1048576.0,
           number_at(entry, "memory", "heapUsed") / 1048576.0, number_at(entry, "memory", "heapTotal") / 1048576.0,
           number_at(entry, "cpu", "user") / 1e6, number_at(entry, "cpu", "system") / 1e6);
}

static void print_system(json_t *system)
{
    json_t *commit = json_object_get(system, "commit");
    json_t *package = json_object_get(system, "package");
    printf("package:  %s %s\n", text_of(package, "name"), text_of(package, "version"));
    printf("commit:   %s on branch %s: %s\n", text_of(commit, "hash"), text_of(commit, "branch"),
           text_of(commit, "subject"));
    printf("          by %s, committed %s\n", text_of(json_object_get(commit, "author"), "name"),
           text_of(commit, "commited_at"));
    printf("started:  %s (uid %s)\n", text_of(system, "created_at"), text_of(system, "uid"));
}

static void print_performance(json_t *performance)
{
    printf("\n  %-8s %8s %10s %10s %10s %10s %10s\n", "process", "pid", "rss MiB", "heap MiB", "of MiB", "user s",
           "system s");
    if (json_is_object(json_object_get(performance, "master")))
        print_process("master", json_object_get(performance, "master"));
    size_t i;
    json_t *worker;
    json_array_foreach(json_object_get(performance, "workers"), i, worker) print_process("worker", worker);
    print_process("total", performance);
}

/* ---- --watch ---- */

typedef struct watch_options {
    bool watch;
    int interval_ms;
    long count;              /* frames; 0: until interrupted */
    const char *metrics_url; /* NULL: the mode's host, PAYMENT_ADMIN_PORT */
} watch_options;

/* Takes --watch, --interval SECONDS, --count N and --metrics URL out of
 * argv (the rest is the one-shot's arguments). Returns 0 or a usage status. */
static int watch_options_take(int *argc, char **argv, watch_options *out)
{
    *out = (watch_options){.interval_ms = 2000};
    int kept = 1;
    const char *value;
    bool watch_only = false;
    for (int i = 1; i < *argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--watch") == 0) {
            out->watch = true;
        } else if ((value = cli_option_value(*argc, argv, &i, "--interval"))) {
            double seconds = strtod(value, &end);
            if (end == value || *end || seconds < 0.1 || seconds > 3600)
                return cli_usage_error(argv[0], "--interval takes seconds from 0.1 to 3600: %s", value);
            out->interval_ms = (int)(seconds * 1000);
            watch_only = true;
        } else if ((value = cli_option_value(*argc, argv, &i, "--count"))) {
            out->count = strtol(value, &end, 10);
            if (end == value || *end || out->count < 1)
                return cli_usage_error(argv[0], "--count takes a number of refreshes: %s", value);
            watch_only = true;
        } else if ((value = cli_option_value(*argc, argv, &i, "--metrics"))) {
            out->metrics_url = value;
            watch_only = true;
        } else {
            argv[kept++] = argv[i];
        }
    }
    *argc = kept;
    argv[kept] = NULL;
    if (watch_only && !out->watch)
        return cli_usage_error(argv[0], "--interval, --count and --metrics go with --watch");
    return 0;
}

/* ---- where the instances are ---- */

/* The mode's instances as its master updater knows them, or NULL after one
 * line saying that only the one server of the mode is read. */
static json_t *known_instances(const dotenv *env, const cli_mode_arguments *args, char **updater_host)
{
    if (args->host || args->url)
        return NULL; /* one server asked for */
    char err[300];
    json_t *answer = cli_instances_ask(env, args->mode, UPDATER_TIMEOUT_MS, updater_host, err, sizeof err);
    if (!answer)
        fprintf(stderr, "payments monitor: no master updater of the %s mode answered (%s): reading its one server\n",
                args->mode, err);
    return answer;
}

static bool host_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 || strcmp(host, "localhost") == 0;
}

/* An instance's listener ("api" or "operators") as the updater reports it,
 * a loopback host being the updater's own; false when the updater does not
 * know that listener. */
static bool instance_address(json_t *entry, const char *listener, const char *updater_host, char **host, int *port)
{
    const char *address = json_string_value(json_object_get(entry, listener));
    *host = NULL;
    *port = 0;
    if (!address || settings_host_port(address, 0, host, port) < 0 || *port == 0) {
        free(*host);
        *host = NULL;
        return false;
    }
    if (host_loopback(*host)) {
        free(*host);
        *host = strdup(updater_host);
    }
    return *host != NULL;
}

/* "http://HOST:PORT<path>" of an instance's operators' listener: plain
 * HTTP, on loopback or an operators' network. */
static bool instance_url(json_t *entry, const char *listener, const char *updater_host, const char *path, char *out,
                         size_t len)
{
    char *host;
    int port;
    if (!instance_address(entry, listener, updater_host, &host, &port))
        return false;
    snprintf(out, len, strchr(host, ':') ? "http://[%s]:%d%s" : "http://%s:%d%s", host, port, path);
    free(host);
    return true;
}

/* An instance's API, in the mode's scheme (cli_api_url.c). */
static bool instance_api_url(const dotenv *env, const char *mode, json_t *entry, const char *updater_host, char *out,
                             size_t len, char *err, size_t errlen)
{
    char *host;
    int port;
    if (!instance_address(entry, "api", updater_host, &host, &port)) {
        snprintf(err, errlen, "its API address is not known");
        return false;
    }
    int rc = cli_api_url(env, mode, host, port, out, len, err, errlen);
    free(host);
    return rc == 0;
}

/* ---- --watch ---- */

/* The operators' listener of the mode's host: same host, PAYMENT_ADMIN_PORT. */
static int watch_one(const dotenv *env, const cli_mode_arguments *args, const watch_options *options)
{
    char err[1024];
    cli_watch_target target;
    const char *mode_host = args->host ? args->host : settings_mode_host(env, "API", args->mode, err, sizeof err);
    long long port = 0;
    char *host = NULL;
    int unused_port = 0;
    if (options->metrics_url) {
        snprintf(target.url, sizeof target.url, "%s", options->metrics_url);
    } else if (!mode_host || settings_integer(env, "PAYMENT_ADMIN_PORT", 37822, 1, 65535, &port, err, sizeof err) < 0) {
        fprintf(stderr, "payments monitor: %s (or give --metrics URL)\n", err);
        return 1;
    } else if (settings_host_port(mode_host, 0, &host, &unused_port) < 0) {
        fprintf(stderr, "payments monitor: the API address must be HOST or HOST:PORT: %s\n", mode_host);
        return 1;
    } else {
        snprintf(target.url, sizeof target.url,
                 strchr(host, ':') ? "http://[%s]:%lld/metrics" : "http://%s:%lld/metrics", host, port);
        free(host);
    }
    snprintf(target.title, sizeof target.title, "payments monitor %s: %s every %.1f s", args->mode, target.url,
             options->interval_ms / 1000.0);
    return cli_watch(&target, 1, options->interval_ms, options->count);
}

/* One block per instance the master updater knows. */
static int watch_all(json_t *instances, const char *updater_host, const cli_mode_arguments *args,
                     const watch_options *options)
{
    size_t count = json_array_size(instances), used = 0;
    cli_watch_target *targets = calloc(count ? count : 1, sizeof *targets);
    if (!targets) {
        fprintf(stderr, "payments monitor: out of memory\n");
        return 1;
    }
    size_t i;
    json_t *entry;
    json_array_foreach(instances, i, entry)
    {
        const char *name = json_printable_string(json_object_get(entry, "instance"), "?");
        if (!instance_url(entry, "operators", updater_host, "/metrics", targets[used].url, sizeof targets[used].url)) {
            fprintf(stderr, "payments monitor: instance %s: its operators' listener is not known\n", name);
            continue;
        }
        snprintf(targets[used].title, sizeof targets[used].title, "instance %s (%s mode): %s every %.1f s", name,
                 args->mode, targets[used].url, options->interval_ms / 1000.0);
        used++;
    }
    int rc = used ? cli_watch(targets, used, options->interval_ms, options->count) : 1;
    free(targets);
    return rc;
}

/* ---- one-shot ---- */

/* The connection key, or -1 after saying it is missing. */
static int read_key(const dotenv *env, crypto_cbc_key *key)
{
    if (crypto_cbc_key_init(key, settings_get(env, "PAYMENT_CONNECTION_ENCRYPTION_KEY", ""),
                            settings_get(env, "PAYMENT_CONNECTION_ENCRYPTION_IV", "")) == 0)
        return 0;
    fprintf(stderr, "payments monitor: PAYMENT_CONNECTION_ENCRYPTION_KEY (16 or 32 characters) and _IV (16) are "
                    "needed to read the monitors\n");
    return -1;
}

/* The base address of the one server: --url, else the mode's API host. */
static int one_server_base(const dotenv *env, const cli_mode_arguments *args, char *base, size_t len)
{
    if (args->url) {
        snprintf(base, len, "%s", args->url);
        return 0;
    }
    char err[1024];
    long long port = 0;
    char *host = NULL;
    int host_port = 0;
    const char *mode_host = args->host ? args->host : settings_mode_host(env, "API", args->mode, err, sizeof err);
    if (!mode_host || settings_integer(env, "PAYMENT_API_PORT", 37821, 1, 65535, &port, err, sizeof err) < 0) {
        fprintf(stderr, "payments monitor: %s\n", err);
        return -1;
    }
    if (settings_host_port(mode_host, (int)port, &host, &host_port) < 0) {
        fprintf(stderr, "payments monitor: the API address must be HOST or HOST:PORT: %s\n", mode_host);
        return -1;
    }
    int rc = cli_api_url(env, args->mode, host, host_port, base, len, err, sizeof err);
    free(host);
    if (rc < 0)
        fprintf(stderr, "payments monitor: %s\n", err);
    return rc;
}

/* Both monitors of one server as {"performance", "system"}, or NULL with err. */
static json_t *read_monitors(const char *base, const crypto_cbc_key *key, char *err, size_t errlen)
{
    json_t *performance = fetch(base, "/monitors/performance", key, err, errlen);
    json_t *system = performance ? fetch(base, "/monitors/system", key, err, errlen) : NULL;
    json_t *doc = system ? json_pack("{s:o, s:o}", "performance", performance, "system", system) : NULL;
    if (!system)
        json_decref(performance);
    return doc;
}

static void print_monitors(json_t *doc)
{
    print_system(json_object_get(doc, "system"));
    print_performance(json_object_get(doc, "performance"));
}

static int show_one(const char *base, const crypto_cbc_key *key, const cli_mode_arguments *args)
{
    char err[1024];
    json_t *doc = read_monitors(base, key, err, sizeof err);
    if (!doc) {
        fprintf(stderr, "payments monitor: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (args->json) {
        rc = cli_print_json(doc);
    } else {
        printf("%s (%s mode)\n", base, args->mode);
        print_monitors(doc);
    }
    json_decref(doc);
    return rc;
}

/* One block per instance; --json: {"instances": [{instance, role, api,
 * performance, system} or {instance, role, api, error}]}. Exits 1 when any
 * instance could not be read. */
static int show_all(const dotenv *env, json_t *instances, const char *updater_host, const crypto_cbc_key *key,
                    const cli_mode_arguments *args)
{
    json_t *blocks = json_array();
    int rc = 0;
    size_t i;
    json_t *entry;
    json_array_foreach(instances, i, entry)
    {
        char base[400] = "", err[1024];
        const char *name = json_printable_string(json_object_get(entry, "instance"), "?");
        const char *role = json_printable_string(json_object_get(entry, "role"), "?");
        json_t *doc = NULL;
        if (instance_api_url(env, args->mode, entry, updater_host, base, sizeof base, err, sizeof err))
            doc = read_monitors(base, key, err, sizeof err);
        if (!doc) {
            rc = 1;
            doc = json_pack("{s:s}", "error", err);
        }
        if (args->json) {
            json_object_update_new(doc, json_pack("{s:s, s:s, s:s}", "instance", name, "role", role, "api", base));
            json_array_append(blocks, doc);
        } else {
            printf("%s== instance %s (%s), %s (%s mode)\n", i > 0 ? "\n" : "", name, role, base, args->mode);
            if (json_object_get(doc, "error"))
                printf("  cannot read it: %s\n", json_string_value(json_object_get(doc, "error")));
            else
                print_monitors(doc);
        }
        json_decref(doc);
    }
    if (args->json) {
        json_t *all = json_pack("{s:o}", "instances", blocks);
        if (!all || cli_print_json(all) != 0)
            rc = 1;
        json_decref(all);
    } else {
        json_decref(blocks);
    }
    return rc;
}

int cli_monitor(int argc, char **argv)
{
    watch_options options;
    cli_mode_arguments args;
    int usage = watch_options_take(&argc, argv, &options);
    if (usage == 0)
        usage = cli_mode_arguments_parse(argc, argv, true, &args);
    if (usage != 0)
        return usage;
    if (options.watch && (args.json || args.url))
        return cli_usage_error(argv[0], "--watch prints frames: no --json, and --metrics instead of --url");
    dotenv env;
    if (cli_settings_open(&env) < 0)
        return 1;
    char *updater_host = NULL;
    json_t *answer = options.watch && options.metrics_url ? NULL : known_instances(&env, &args, &updater_host);
    json_t *instances = json_object_get(answer, "instances");
    crypto_cbc_key key;
    char base[400];
    int rc = 1;
    if (options.watch)
        rc = answer ? watch_all(instances, updater_host, &args, &options) : watch_one(&env, &args, &options);
    else if (read_key(&env, &key) == 0) {
        if (answer)
            rc = show_all(&env, instances, updater_host, &key, &args);
        else if (one_server_base(&env, &args, base, sizeof base) == 0)
            rc = show_one(base, &key, &args);
        crypto_cbc_key_clear(&key);
    }
    json_decref(answer);
    free(updater_host);
    dotenv_free(&env);
    return rc;
}
