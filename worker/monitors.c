/* Monitors: liveness (/monitors/health, no dependency), readiness
 * (/monitors/ready, a round trip to PostgreSQL: 503 while it is down), and
 * the contract's /monitors/performance (the master and every worker, from the
 * figures the master broadcasts each second, and the answering worker's vendor
 * circuit breakers) and /monitors/system (commit and package served), both
 * encrypted like every API answer. */
#include "worker.h"

#include "api_body.h"
#include "process_stats.h"

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef PAYMENTS_VERSION
#define PAYMENTS_VERSION "0.0.0"
#endif

void monitors_health(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    (void)context;
    http_respond(ex, 200, "application/json", "{}", 2);
}

static void on_ready_query(PGresult *res, const app_error *err, void *data)
{
    http_exchange *ex = data;
    (void)res;
    if (err) {
        http_respond_error(ex, err->status, err->message);
        return;
    }
    static const char body[] = "{\"database\":\"up\"}";
    http_respond(ex, 200, "application/json", body, sizeof body - 1);
}

void monitors_ready(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    worker *w = context;
    pg_pool_query(w->db, "SELECT 1", 0, NULL, on_ready_query, ex);
}

/* Answers doc (reference taken) encrypted, as every API answer. */
static void respond_encrypted(http_exchange *ex, const worker *w, json_t *doc)
{
    if (!doc) {
        http_respond_error(ex, 500, "cannot encode the answer");
        return;
    }
    api_body_respond(ex, &w->connection_key, 200, doc);
    json_decref(doc);
}

char *monitors_stats_json(const worker *w)
{
    json_t *doc = process_performance();
    if (!doc)
        return NULL;
    http_server_stats stats;
    http_server_get_stats(w->http, &stats);
    json_object_set_new(doc, "http",
                        json_pack("{s:I, s:I, s:i}", "requests", (json_int_t)stats.requests, "connections",
                                  (json_int_t)stats.connections, "active_connections", (int)stats.active_connections));
    json_object_set_new(doc, "database", json_boolean(pg_pool_connected(w->db)));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

/* The master's entry and every worker's, ours refreshed now. */
static json_t *cluster_processes(const worker *w, json_t **master_out)
{
    json_t *cluster = w->cluster_json ? json_loads(w->cluster_json, 0, NULL) : NULL;
    json_t *workers = json_array();
    json_t *self = process_performance();
    if (self) {
        json_object_set_new(self, "pid", json_integer(getpid()));
        json_array_append_new(workers, self);
    }
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(cluster, "workers"), i, entry)
    {
        if (json_integer_value(json_object_get(entry, "pid")) != getpid())
            json_array_append(workers, entry);
    }
    json_t *master = json_object_get(cluster, "master");
    *master_out = master ? json_incref(master) : json_null();
    json_decref(cluster);
    return workers;
}

void monitors_performance(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    worker *w = context;
    json_t *master;
    json_t *workers = cluster_processes(w, &master);
    json_t *total = json_deep_copy(json_array_get(workers, 0));
    if (!total) {
        json_decref(workers);
        json_decref(master);
        http_respond_error(ex, 500, "performance figures unavailable");
        return;
    }
    for (size_t i = 1; i < json_array_size(workers); i++)
        process_performance_add(total, json_array_get(workers, i));
    if (json_is_object(master))
        process_performance_add(total, master);
    json_object_del(total, "pid");
    /* The circuits of the worker answering: each worker has its own. */
    json_t *circuits = vendor_context_circuits(w->vendors);
    json_object_set_new(total, "circuits", circuits ? circuits : json_array());
    json_object_set_new(total, "master", master);
    json_object_set_new(total, "workers", workers);
    respond_encrypted(ex, w, total);
}

static json_t *empty_commit(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:s, s:s, s:[]}", "shortHash", "",
                     "branch", "", "hash", "", "subject", "", "sanitizedSubject", "", "body", "", "author", "name", "",
                     "email", "", "committer", "name", "", "email", "", "authored_at", "", "commited_at", "", "notes",
                     "", "tags");
}

static json_t *package_json(void)
{
    char libpq[16];
    int pq = PQlibVersion();
    snprintf(libpq, sizeof libpq, "%d.%d", pq / 10000, pq % 10000);
    return json_pack("{s:s, s:s, s:s, s:{}, s:{s:s, s:s}, s:s, s:s, s:{s:s}, s:s, s:{}, "
                     "s:{s:s, s:s, s:s, s:s, s:s}}",
                     "name", "payments", "version", PAYMENTS_VERSION, "description", "Unified payment server",
                     "scripts", "repository", "type", "git", "url", "", "author", "", "license", "", "bugs", "url", "",
                     "homepage", "", "devDependencies", "dependencies", "libuv", uv_version_string(), "libpq", libpq,
                     "jansson", JANSSON_VERSION, "libcurl", curl_version_info(CURLVERSION_NOW)->version, "openssl",
                     OpenSSL_version(OPENSSL_VERSION_STRING));
}

void monitors_system(http_exchange *ex, const http_route_params *params, void *context)
{
    (void)params;
    worker *w = context;
    const char *commit_text = getenv("PAYMENT_COMMIT");
    json_t *commit = commit_text ? json_loads(commit_text, 0, NULL) : NULL;
    json_t *arguments = json_array();
    for (char **arg = w->argv; arg && *arg; arg++)
        json_array_append_new(arguments, json_string(*arg));
    json_t *doc = json_pack("{s:s, s:o, s:o, s:o, s:s}", "uid", w->system_uid, "arguments", arguments, "commit",
                            commit ? commit : empty_commit(), "package", package_json(), "created_at", w->started_at);
    respond_encrypted(ex, w, doc);
}

void monitors_init(worker *w, char **argv)
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        memset(bytes, 0, sizeof bytes);
    bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40); /* a version 4 UUID */
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80);
    snprintf(w->system_uid, sizeof w->system_uid,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2],
             bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11], bytes[12],
             bytes[13], bytes[14], bytes[15]);
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(w->started_at, sizeof w->started_at, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(w->started_at + n, sizeof w->started_at - n, ".%03ldZ", now.tv_nsec / 1000000);
    w->argv = argv;
}
