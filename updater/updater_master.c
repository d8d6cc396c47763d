/* The master updater: accepts authenticated links from slaves and from
 * `payments update`, and runs update rounds. A round holds the one global
 * lock (a second request is refused with "already updating"), sends the
 * update to every connected slave, updates its own instance meanwhile, and
 * answers the requester once every instance has reported, its link was lost,
 * or PAYMENT_UPDATE_TIMEOUT_MS passed. A client address that keeps failing
 * the handshake is closed at once until its delay passes (PAYMENT_GUESS_*). */
#include "updater.h"

#include "json_printable.h"
#include "log.h"
#include "update_run.h"
#include "updater_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PEERS 256       /* slaves, clients and handshakes in progress */
#define MAX_GUESS_KEYS 4096 /* client addresses whose failed handshakes are counted */

typedef struct master_peer {
    updater_master *master;
    updater_link *link;
    bool authenticated;
    bool awaiting_result; /* a slave of the current round that has not answered */
    json_t *addresses;    /* a slave's listeners as announced and seen, or NULL */
    struct master_peer *next;
} master_peer;

struct updater_master {
    updater *app;
    uv_tcp_t server;
    uv_timer_t deadline;
    master_peer *peers;
    int peer_count;
    attempt_limit *guesses; /* failed handshakes per client address */
    /* the round in progress */
    bool updating;
    unsigned round;
    master_peer *requester; /* NULL when it left */
    update_run *local_run;
    int pending; /* results still expected, the local one included */
    json_t *results;
    bool restart_after_round;
    bool stopped;
};

static void send_type(updater_link *link, json_t *message)
{
    if (message && updater_link_send(link, message) < 0)
        log_warn("cannot send a message to %s", updater_link_peer_address(link));
    json_decref(message);
}

/* ---- the round ---- */

static bool all_ok(json_t *results)
{
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r) if (!json_is_true(json_object_get(r, "ok"))) return false;
    return json_array_size(results) > 0;
}

static void log_result(json_t *result)
{
    const char *instance = json_printable_string(json_object_get(result, "instance"), "?");
    if (json_is_true(json_object_get(result, "ok")))
        log_info("instance %s updated (%s)", instance, json_printable_string(json_object_get(result, "action"), "?"));
    else
        log_error("instance %s: update failed at %s: %s", instance,
                  json_printable_string(json_object_get(result, "step"), "?"),
                  json_printable_string(json_object_get(result, "error"), "no error given"));
}

static void finish_round(updater_master *m)
{
    uv_timer_stop(&m->deadline);
    bool ok = all_ok(m->results);
    log_info("update round %u finished: %s (%zu instance(s))", m->round, ok ? "ok" : "FAILED",
             json_array_size(m->results));
    json_t *reply =
        json_pack("{s:s, s:i, s:b, s:O}", "type", "result", "round", (int)m->round, "ok", ok, "instances", m->results);
    master_peer *requester = m->requester;
    if (requester)
        send_type(requester->link, reply);
    else
        json_decref(reply);
    json_decref(m->results);
    m->results = NULL;
    m->requester = NULL;
    m->updating = false;
    updater_state_write(m->app);
    if (m->restart_after_round)
        m->app->restart_requested = true;
    if (!m->app->restart_requested)
        return;
    if (requester) /* re-execute once the answer went out: see on_peer_closed */
        updater_link_close(requester->link, "round finished");
    else
        updater_idle(m->app);
}

static void add_result(updater_master *m, json_t *result)
{
    log_result(result);
    json_array_append_new(m->results, result);
    if (--m->pending == 0)
        finish_round(m);
}

/* The result of an instance the round gave up on, or could not start. */
static json_t *failure(const char *instance, const char *error)
{
    return update_report_failure(instance, "link", error);
}

static void forward_progress(updater_master *m, const char *instance, json_t *step, json_t *message)
{
    if (!m->requester)
        return;
    send_type(m->requester->link, json_pack("{s:s, s:s, s:O?, s:O?}", "type", "progress", "instance", instance, "step",
                                            step, "message", message));
}

static void on_local_progress(const char *step, const char *message, void *data)
{
    updater_master *m = data;
    json_t *s = json_string(step), *text = json_string(message);
    forward_progress(m, m->app->config.instance, s, text);
    json_decref(s);
    json_decref(text);
}

static void on_local_done(json_t *result, void *data)
{
    updater_master *m = data;
    m->local_run = NULL;
    if (!result)
        result = failure(m->app->config.instance, "the update ended without a result (out of memory)");
    if (json_is_true(json_object_get(result, "updater_changed")))
        m->restart_after_round = true;
    add_result(m, result);
}

static void on_deadline(uv_timer_t *timer)
{
    updater_master *m = timer->data;
    char error[128];
    snprintf(error, sizeof error, "no result within %llu s",
             (unsigned long long)(m->app->config.update_timeout_ms / 1000));
    log_error("update round %u: %s; giving up on the instances still busy", m->round, error);
    if (m->local_run)
        update_run_cancel(m->local_run); /* its result follows, as cancelled */
    for (master_peer *p = m->peers; p && m->updating; p = p->next) {
        if (!p->awaiting_result)
            continue;
        p->awaiting_result = false;
        add_result(m, failure(updater_link_peer_instance(p->link), error));
    }
}

static json_t *slave_names(updater_master *m)
{
    json_t *names = json_array();
    json_array_append_new(names, json_string(m->app->config.instance));
    for (master_peer *p = m->peers; p; p = p->next)
        if (p->awaiting_result)
            json_array_append_new(names, json_string(updater_link_peer_instance(p->link)));
    return names;
}

static void start_round(updater_master *m, master_peer *requester)
{
    m->updating = true;
    m->round++;
    m->requester = requester;
    m->results = json_array();
    m->pending = 1;
    m->restart_after_round = false;
    for (master_peer *p = m->peers; p; p = p->next) {
        if (!updater_link_ready(p->link) || strcmp(updater_link_peer_role(p->link), "slave") != 0)
            continue;
        json_t *order = json_pack("{s:s, s:i}", "type", "update", "round", (int)m->round);
        if (order && updater_link_send(p->link, order) == 0) {
            p->awaiting_result = true;
            m->pending++;
        }
        json_decref(order);
    }
    log_info("update round %u requested by %s: %d instance(s)", m->round, updater_link_peer_address(requester->link),
             m->pending);
    send_type(requester->link,
              json_pack("{s:s, s:i, s:o}", "type", "accepted", "round", (int)m->round, "instances", slave_names(m)));
    uv_timer_start(&m->deadline, on_deadline, m->app->config.update_timeout_ms, 0);
    updater_state_write(m->app);
    m->local_run = update_run_start(m->app->loop, &m->app->config, on_local_progress, on_local_done, m);
    if (!m->local_run)
        add_result(m, failure(m->app->config.instance, "cannot start the update (out of memory)"));
}

/* ---- peers ---- */

/* Each instance with its link address and, for `payments monitor`, its
 * listeners (null until a slave announced them). */
static json_t *instance_list(updater_master *m)
{
    json_t *list = json_array();
    json_t *own =
        json_pack("{s:s, s:s, s:s}", "instance", m->app->config.instance, "role", "master", "address", "local");
    json_t *addresses = updater_addresses_own(&m->app->config);
    if (own && addresses)
        json_object_update(own, addresses);
    json_decref(addresses);
    json_array_append_new(list, own);
    for (master_peer *p = m->peers; p; p = p->next) {
        if (!updater_link_ready(p->link) || strcmp(updater_link_peer_role(p->link), "slave") != 0)
            continue;
        json_t *entry = json_pack("{s:s, s:s, s:s, s:n, s:n}", "instance", updater_link_peer_instance(p->link), "role",
                                  "slave", "address", updater_link_peer_address(p->link), "api", "operators");
        if (p->addresses)
            json_object_update(entry, p->addresses);
        json_array_append_new(list, entry);
    }
    return list;
}

json_t *updater_master_state(updater *u)
{
    const updater_config *c = &u->config;
    char listening[300];
    snprintf(listening, sizeof listening, strchr(c->bind, ':') ? "[%s]:%d" : "%s:%d", c->bind, c->port);
    return json_pack("{s:s, s:b, s:o}", "listening", listening, "updating", u->master && u->master->updating,
                     "instances", u->master ? instance_list(u->master) : json_array());
}

static void on_client_message(master_peer *p, const char *type)
{
    updater_master *m = p->master;
    if (strcmp(type, "instances") == 0) {
        send_type(p->link, json_pack("{s:s, s:b, s:o}", "type", "instances", "updating", m->updating, "instances",
                                     instance_list(m)));
    } else if (strcmp(type, "update") == 0 && m->updating) {
        log_warn("update request from %s refused: already updating (round %u)", updater_link_peer_address(p->link),
                 m->round);
        send_type(p->link, json_pack("{s:s, s:s}", "type", "refused", "reason", "already updating"));
    } else if (strcmp(type, "update") == 0) {
        start_round(m, p);
    } else {
        send_type(p->link, json_pack("{s:s, s:s}", "type", "error", "reason", "unknown request"));
    }
}

static void on_slave_message(master_peer *p, json_t *message, const char *type)
{
    updater_master *m = p->master;
    const char *instance = updater_link_peer_instance(p->link);
    bool this_round = m->updating && json_integer_value(json_object_get(message, "round")) == (json_int_t)m->round;
    if (strcmp(type, "progress") == 0 && this_round) {
        forward_progress(m, instance, json_object_get(message, "step"), json_object_get(message, "message"));
    } else if (strcmp(type, "addresses") == 0) {
        json_decref(p->addresses);
        p->addresses = updater_addresses_seen(message, updater_link_peer_address(p->link));
        if (!p->addresses)
            log_warn("slave %s announced malformed addresses", instance);
        updater_state_write(m->app);
    } else if (strcmp(type, "result") == 0 && this_round && p->awaiting_result) {
        p->awaiting_result = false;
        json_t *result = json_object_get(message, "result");
        add_result(m, json_is_object(result) ? json_incref(result) : failure(instance, "malformed result"));
    }
}

static void on_peer_message(updater_link *link, json_t *message, void *data)
{
    master_peer *p = data;
    const char *type = json_string_value(json_object_get(message, "type"));
    if (strcmp(updater_link_peer_role(link), "client") == 0)
        on_client_message(p, type);
    else if (strcmp(updater_link_peer_role(link), "slave") == 0)
        on_slave_message(p, message, type);
}

/* A slave that reconnects replaces its old link at once, so that the old one
 * cannot hold a round waiting for the heartbeat to notice it is dead. */
static void drop_older_link(updater_master *m, master_peer *fresh)
{
    const char *instance = updater_link_peer_instance(fresh->link);
    for (master_peer *p = m->peers; p; p = p->next)
        if (p != fresh && updater_link_ready(p->link) && strcmp(updater_link_peer_role(p->link), "slave") == 0 &&
            strcmp(updater_link_peer_instance(p->link), instance) == 0)
            updater_link_close(p->link, "replaced by a new connection of the same instance");
}

static void on_peer_ready(updater_link *link, void *data)
{
    master_peer *p = data;
    const char *role = updater_link_peer_role(link);
    if (strcmp(role, "slave") != 0 && strcmp(role, "client") != 0) {
        log_warn("%s at %s: unknown role %s", updater_link_peer_instance(link), updater_link_peer_address(link), role);
        updater_link_close(link, "unknown role");
        return;
    }
    p->authenticated = true;
    log_info("%s %s connected from %s", role, updater_link_peer_instance(link), updater_link_peer_address(link));
    if (strcmp(role, "slave") == 0) {
        drop_older_link(p->master, p);
        updater_state_write(p->master->app);
    }
}

static void unlink_peer(updater_master *m, master_peer *gone)
{
    for (master_peer **pp = &m->peers; *pp; pp = &(*pp)->next) {
        if (*pp == gone) {
            *pp = gone->next;
            return;
        }
    }
}

static void on_peer_closed(updater_link *link, const char *reason, void *data)
{
    master_peer *p = data;
    updater_master *m = p->master;
    if (p->authenticated)
        log_info("%s %s (%s) left: %s", updater_link_peer_role(link), updater_link_peer_instance(link),
                 updater_link_peer_address(link), reason);
    unlink_peer(m, p);
    m->peer_count--;
    if (m->requester == p)
        m->requester = NULL;
    if (p->awaiting_result) {
        char error[300];
        snprintf(error, sizeof error, "the link to this instance was lost during the update: %s", reason);
        p->awaiting_result = false;
        add_result(m, failure(updater_link_peer_instance(link), error));
    }
    bool was_slave = p->authenticated && strcmp(updater_link_peer_role(link), "slave") == 0;
    json_decref(p->addresses);
    free(p);
    if (was_slave && !m->stopped)
        updater_state_write(m->app);
    if (m->app->restart_requested && !m->updating && !m->requester)
        updater_idle(m->app);
}

static const updater_link_handlers peer_handlers = {on_peer_ready, on_peer_message, on_peer_closed};

static void on_connection(uv_stream_t *server, int status)
{
    updater_master *m = server->data;
    if (status < 0 || m->stopped)
        return;
    master_peer *p = calloc(1, sizeof *p);
    if (!p)
        return;
    p->master = m;
    p->link =
        updater_link_accept(server, m->app->config.secret, m->app->config.instance, m->guesses, &peer_handlers, p);
    if (!p->link) {
        free(p);
        return;
    }
    updater_link_set_heartbeat(p->link, m->app->config.heartbeat_ms);
    p->next = m->peers;
    m->peers = p;
    if (++m->peer_count > MAX_PEERS) {
        log_warn("connection from %s refused: more than %d connections", updater_link_peer_address(p->link), MAX_PEERS);
        updater_link_close(p->link, "too many connections");
    }
}

/* ---- start and stop ---- */

static int bind_address(updater_master *m)
{
    const updater_config *c = &m->app->config;
    struct sockaddr_storage addr;
    if (uv_ip4_addr(c->bind, c->port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(c->bind, c->port, (struct sockaddr_in6 *)&addr) != 0) {
        log_error("PAYMENT_UPDATOR_BIND must be an IP address: %s", c->bind);
        return -1;
    }
    int rc = uv_tcp_bind(&m->server, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&m->server, 64, on_connection);
    if (rc < 0) {
        log_error("cannot listen on %s:%d: %s", c->bind, c->port, uv_strerror(rc));
        return -1;
    }
    log_info("master updater %s listening on %s:%d", c->instance, c->bind, c->port);
    return 0;
}

int updater_master_start(updater *u)
{
    updater_master *m = calloc(1, sizeof *m);
    if (!m)
        return -1;
    m->app = u;
    m->server.data = m->deadline.data = m;
    m->guesses = attempt_limit_create(&u->config.guesses, MAX_GUESS_KEYS);
    if (!m->guesses || uv_tcp_init(u->loop, &m->server) < 0) {
        attempt_limit_destroy(m->guesses);
        free(m);
        return -1;
    }
    if (uv_timer_init(u->loop, &m->deadline) < 0) {
        uv_close((uv_handle_t *)&m->server, NULL);
        u->master = m; /* freed by updater_master_free once the loop closed the handle */
        return -1;
    }
    u->master = m;
    return bind_address(m);
}

void updater_master_stop(updater *u)
{
    updater_master *m = u->master;
    if (!m || m->stopped)
        return;
    m->stopped = true;
    if (m->local_run)
        update_run_cancel(m->local_run);
    for (master_peer *p = m->peers; p; p = p->next)
        updater_link_close(p->link, "the master updater is stopping");
    if (!uv_is_closing((uv_handle_t *)&m->server))
        uv_close((uv_handle_t *)&m->server, NULL);
    if (!uv_is_closing((uv_handle_t *)&m->deadline))
        uv_close((uv_handle_t *)&m->deadline, NULL);
}

void updater_master_free(updater *u)
{
    if (u->master)
        attempt_limit_destroy(u->master->guesses);
    free(u->master);
    u->master = NULL;
}
