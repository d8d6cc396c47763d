/* `payments monitor <mode>`: reads GET /monitors/performance and GET
 * /monitors/system of a mode's API. Both answers are encrypted with the
 * connection key, as the SDK receives them (base64 of AES-CBC), so this needs
 * PAYMENT_CONNECTION_ENCRYPTION_KEY and _IV. Prints them readably, or with
 * --json as one document {"performance": ..., "system": ...}. With --watch
 * it reads the operators' /metrics instead, again and again (cli_watch.c). */
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

/* The operators' listener of the mode's host: same host, PAYMENT_ADMIN_PORT. */
static int watch(const dotenv *env, const cli_mode_arguments *args, const watch_options *options)
{
    char err[1024], url[512], title[600];
    const char *mode_host = args->host ? args->host : settings_mode_host(env, "API", args->mode, err, sizeof err);
    long long port = 0;
    char *host = NULL;
    int unused_port = 0;
    if (options->metrics_url) {
        snprintf(url, sizeof url, "%s", options->metrics_url);
    } else if (!mode_host || settings_integer(env, "PAYMENT_ADMIN_PORT", 37822, 1, 65535, &port, err, sizeof err) < 0) {
        fprintf(stderr, "payments monitor: %s (or give --metrics URL)\n", err);
        return 1;
    } else if (settings_host_port(mode_host, 0, &host, &unused_port) < 0) {
        fprintf(stderr, "payments monitor: the API address must be HOST or HOST:PORT: %s\n", mode_host);
        return 1;
    } else {
        snprintf(url, sizeof url, strchr(host, ':') ? "http://[%s]:%lld/metrics" : "http://%s:%lld/metrics", host,
                 port);
        free(host);
    }
    snprintf(title, sizeof title, "payments monitor %s: %s every %.1f s", args->mode, url,
             options->interval_ms / 1000.0);
    return cli_watch(url, title, options->interval_ms, options->count);
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
    if (options.watch) {
        int rc = watch(&env, &args, &options);
        dotenv_free(&env);
        return rc;
    }
    char err[1024], base[400] = "";
    crypto_cbc_key key;
    long long port = 0;
    char *host = NULL;
    int host_port = 0;
    const char *mode_host = args.host ? args.host : settings_mode_host(&env, "API", args.mode, err, sizeof err);
    int ready = -1;
    if (mode_host && settings_integer(&env, "PAYMENT_API_PORT", 37821, 1, 65535, &port, err, sizeof err) == 0) {
        if (crypto_cbc_key_init(&key, settings_get(&env, "PAYMENT_CONNECTION_ENCRYPTION_KEY", ""),
                                settings_get(&env, "PAYMENT_CONNECTION_ENCRYPTION_IV", "")) < 0)
            snprintf(err, sizeof err,
                     "PAYMENT_CONNECTION_ENCRYPTION_KEY (16 or 32 characters) and _IV (16) are needed "
                     "to read the monitors");
        else if (!args.url && settings_host_port(mode_host, (int)port, &host, &host_port) < 0)
            snprintf(err, sizeof err, "the API address must be HOST or HOST:PORT: %s", mode_host);
        else if (args.url && snprintf(base, sizeof base, "%s", args.url) >= (int)sizeof base)
            snprintf(err, sizeof err, "the --url is too long");
        else if (args.url)
            ready = 0;
        else
            ready = cli_api_url(&env, args.mode, host, host_port, base, sizeof base, err, sizeof err);
    }
    dotenv_free(&env);
    free(host);
    if (ready < 0) {
        fprintf(stderr, "payments monitor: %s\n", err);
        return 1;
    }
    json_t *performance = fetch(base, "/monitors/performance", &key, err, sizeof err);
    json_t *system = performance ? fetch(base, "/monitors/system", &key, err, sizeof err) : NULL;
    crypto_cbc_key_clear(&key);
    int rc = 1;
    if (!system) {
        fprintf(stderr, "payments monitor: %s\n", err);
    } else if (args.json) {
        json_t *doc = json_pack("{s:O, s:O}", "performance", performance, "system", system);
        rc = doc ? cli_print_json(doc) : 1;
        json_decref(doc);
    } else {
        printf("%s (%s mode)\n", base, args.mode);
        print_system(system);
        print_performance(performance);
        rc = 0;
    }
    json_decref(performance);
    json_decref(system);
    return rc;
}
