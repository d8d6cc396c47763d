/* The worker's route table: one line per route. Order matters only where a
 * literal segment and a parameter could both match (literal first). */
#include "worker.h"

const http_route worker_routes[] = {
    {"GET", "/monitors/health", monitors_health},
    {"GET", "/monitors/ready", monitors_ready},
    {"POST", "/payments/histories", histories_create},
    {"PATCH", "/payments/histories/get", histories_get},
    {"PUT", "/payments/histories/cancel", cancels_create},
    {"PATCH", "/payments/histories/:id", histories_at},
    {"POST", "/payments/reservations", reservations_create},
    {"PATCH", "/payments/reservations/get", reservations_get},
    {"PATCH", "/payments/reservations/:id", reservations_at},
    {"GET", "/monitors/performance", monitors_performance},
    {"GET", "/monitors/system", monitors_system},
};

const size_t worker_route_count = sizeof worker_routes / sizeof worker_routes[0];
