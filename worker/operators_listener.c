/* operators_listener: the worker's second HTTP server, on the operators'
 * address (PAYMENT_ADMIN_HOST:PORT, loopback by default), serving the
 * routes meant for operators only (worker_operator_routes). The public API
 * port answers them 404, so the system password is never tried from there.
 * It drains and closes with the API's server (main.c). */
#include "worker.h"

#include "log.h"

static void on_operator_request(http_exchange *ex, void *context)
{
    http_router_dispatch(worker_operator_routes, worker_operator_route_count, ex, context);
}

int operators_listener_open(worker *w, const http_limits *limits, int fd, bool under_master)
{
    if (fd < 0 && under_master) {
        log_warn("the master hands down no operators' listener: operators' routes are not served");
        return 0;
    }
    w->operators_http = http_server_create(w->loop, limits, on_operator_request, w);
    if (!w->operators_http)
        return -1;
    http_server_log_requests(w->operators_http, true);
    int rc = fd >= 0 ? http_server_listen_fd(w->operators_http, fd)
                     : http_server_listen(w->operators_http, w->config.admin_host, w->config.admin_port);
    if (rc < 0)
        log_error("cannot listen for operators on %s:%d: %s", w->config.admin_host, w->config.admin_port,
                  uv_strerror(rc));
    return rc < 0 ? -1 : 0;
}
