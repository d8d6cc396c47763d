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
    {"POST", "/payments/webhooks/iamport", webhooks_receive_iamport},
    {"POST", "/payments/webhooks/toss", webhooks_receive_toss},
    {"POST", "/payments/internal/webhook", test_receiver_keep},
    {"GET", "/payments/internal/webhook", test_receiver_list},
    {"POST", "/payments/internal/webhooks/retry", webhooks_retry_failed},
    {"GET", "/payments/internal/operations", operations_list},
    {"GET", "/monitors/performance", monitors_performance},
    {"GET", "/monitors/system", monitors_system},
};

const size_t worker_route_count = sizeof worker_routes / sizeof worker_routes[0];
