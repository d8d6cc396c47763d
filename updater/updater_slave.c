/* The slave updater: keeps one authenticated link to the master updater,
 * reconnecting with exponential back-off when it drops or is refused, and
 * updates its own instance when the master says so. An update runs to its
 * end even if the link drops meanwhile (the master records the loss); its
 * result then goes to the log only. */
#include "updater.h"

#include "json_printable.h"
#include "log.h"
#include "update_run.h"
#include "updater_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETRY_FIRST_MS 250
#define RETRY_MAX_MS 30000

struct updater_slave {
    updater *app;
    updater_link *link; /* NULL between attempts */
    uv_timer_t retry;
    uint64_t backoff_ms;
    update_run *run; /* the update in progress, or NULL */
    int round;       /* the master's round number of that update */
    bool stopped;
    bool restart_when_closed;
    time_t link_since; /* when the link came up; 0 while it is down */
};

static void connect_master(updater_slave *s);

static void send_message(updater_slave *s, json_t *message)
{
    if (message && s->link && updater_link_send(s->link, message) < 0)
        log_warn("cannot send to the master updater");
    json_decref(message);
}

static void on_run_progress(const char *step, const char *message, void *data)
{
    updater_slave *s = data;
    send_message(
        s, json_pack("{s:s, s:i, s:s, s:s}", "type", "progress", "round", s->round, "step", step, "message", message));
}

/* Sends the result of a round to the master; takes result. */
static void send_result(updater_slave *s, int round, json_t *result)
{
    send_message(s, json_pack("{s:s, s:i, s:o}", "type", "result", "round", round, "result", result));
}

static void on_run_done(json_t *result, void *data)
{
    updater_slave *s = data;
    s->run = NULL;
    if (!result)
        result = update_report_failure(s->app->config.instance, "report",
                                       "the update ended without a result (out of memory)");
    bool ok = json_is_true(json_object_get(result, "ok"));
    log_write(ok ? LOG_INFO : LOG_ERROR, "update %s%s%s", ok ? "done" : "failed: ",
              ok ? "" : json_printable_string(json_object_get(result, "error"), "no error given"),
              s->link ? "" : " (master link lost)");
    bool restart = ok && json_is_true(json_object_get(result, "updater_changed"));
    send_result(s, s->round, result);
    updater_state_write(s->app);
    if (!restart || s->stopped)
        return;
    s->app->restart_requested = true;
    if (s->link) { /* re-execute once the result went out: see on_link_closed */
        s->restart_when_closed = true;
        updater_link_close(s->link, "restarting with the rebuilt updater");
    } else {
        updater_idle(s->app);
    }
}

static void start_update(updater_slave *s, json_t *order)
{
    int round = (int)json_integer_value(json_object_get(order, "round"));
    if (s->run) {
        send_result(s, round, update_report_failure(s->app->config.instance, "lock", "already updating"));
        return;
    }
    s->round = round;
    log_info("update requested by the master updater (round %d)", round);
    s->run = update_run_start(s->app->loop, &s->app->config, on_run_progress, on_run_done, s);
    updater_state_write(s->app);
    if (!s->run)
        send_result(s, round,
                    update_report_failure(s->app->config.instance, "start", "cannot start the update (out of memory)"));
}

static void on_ready(updater_link *link, void *data)
{
    updater_slave *s = data;
    s->backoff_ms = RETRY_FIRST_MS;
    log_info("connected to the master updater %s at %s", updater_link_peer_instance(link),
             updater_link_peer_address(link));
    send_message(s, updater_addresses_announcement(&s->app->config));
    s->link_since = time(NULL);
    updater_state_write(s->app);
}

static void on_message(updater_link *link, json_t *message, void *data)
{
    (void)link;
    updater_slave *s = data;
    const char *type = json_string_value(json_object_get(message, "type"));
    if (strcmp(type, "update") == 0)
        start_update(s, message);
}

static void on_retry(uv_timer_t *timer)
{
    connect_master(timer->data);
}

static void on_link_closed(updater_link *link, const char *reason, void *data)
{
    (void)link;
    updater_slave *s = data;
    bool was_connected = s->link_since != 0;
    s->link = NULL;
    if (s->stopped)
        return;
    if (was_connected) {
        s->link_since = 0;
        updater_state_write(s->app);
    }
    if (s->restart_when_closed) {
        updater_idle(s->app);
        s->restart_when_closed = false; /* exec failed: carry on with the old binary */
    }
    log_write(strncmp(reason, "refused", 7) == 0 ? LOG_ERROR : LOG_WARN,
              "master updater %s:%d: %s; next attempt in %llu ms", s->app->config.master_host,
              s->app->config.master_port, reason, (unsigned long long)s->backoff_ms);
    uv_timer_start(&s->retry, on_retry, s->backoff_ms, 0);
    s->backoff_ms = s->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : s->backoff_ms * 2;
}

static const updater_link_handlers slave_handlers = {on_ready, on_message, on_link_closed};

static void connect_master(updater_slave *s)
{
    const updater_config *c = &s->app->config;
    s->link = updater_link_connect(s->app->loop, c->master_host, c->master_port, c->secret, "slave", c->instance,
                                   &slave_handlers, s);
    if (s->link)
        updater_link_set_heartbeat(s->link, c->heartbeat_ms);
    if (!s->link) {
        log_error("cannot create a link to the master updater (out of memory); next attempt in %d ms", RETRY_MAX_MS);
        uv_timer_start(&s->retry, on_retry, RETRY_MAX_MS, 0);
    }
}

json_t *updater_slave_state(updater *u)
{
    updater_slave *s = u->slave;
    char master[300];
    snprintf(master, sizeof master, strchr(u->config.master_host, ':') ? "[%s]:%d" : "%s:%d", u->config.master_host,
             u->config.master_port);
    bool connected = s && s->link && updater_link_ready(s->link);
    return json_pack("{s:s, s:s, s:I, s:b}", "master", master, "link", connected ? "connected" : "connecting",
                     "connected_since", connected ? (json_int_t)s->link_since : (json_int_t)0, "updating",
                     s && s->run != NULL);
}

int updater_slave_start(updater *u)
{
    updater_slave *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->app = u;
    s->backoff_ms = RETRY_FIRST_MS;
    s->retry.data = s;
    u->slave = s;
    if (uv_timer_init(u->loop, &s->retry) < 0)
        return -1;
    log_info("slave updater %s: master updater at %s:%d", u->config.instance, u->config.master_host,
             u->config.master_port);
    connect_master(s);
    return 0;
}

void updater_slave_stop(updater *u)
{
    updater_slave *s = u->slave;
    if (!s || s->stopped)
        return;
    s->stopped = true;
    if (s->run)
        update_run_cancel(s->run);
    if (s->link)
        updater_link_close(s->link, "the slave updater is stopping");
    if (s->retry.loop && !uv_is_closing((uv_handle_t *)&s->retry))
        uv_close((uv_handle_t *)&s->retry, NULL);
}

void updater_slave_free(updater *u)
{
    free(u->slave);
    u->slave = NULL;
}
