/* The worker's route table: one line per route. Order matters only where a
 * literal segment and a parameter could both match (literal first). */
#include "worker.h"

const http_route worker_routes[] = {
    {"GET", "/monitors/health", monitors_health},
    {"GET", "/monitors/ready", monitors_ready},
};

const size_t worker_route_count = sizeof worker_routes / sizeof worker_routes[0];
