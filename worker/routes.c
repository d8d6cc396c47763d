/* The worker's route tables, one line per route: the public API's, and the
 * operators' (served on the operators' listener only). Order matters only
 * where a literal segment and a parameter could both match (literal first). */
#include "subscriptions/subscription_routes.h"
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
    {"POST", "/payments/charges", charges_create},
    {"PATCH", "/payments/charges/attempts", charge_attempts_list},
    {"PATCH", "/payments/charges/attempts/:id", charge_attempts_at},
    {"POST", "/payments/routes/resolve", payment_routes_resolve},
    {"POST", "/payments/subscriptions", subscriptions_create},
    {"PATCH", "/payments/subscriptions/:id", subscriptions_at},
    {"PUT", "/payments/subscriptions/:id/pause", subscriptions_pause},
    {"PUT", "/payments/subscriptions/:id/resume", subscriptions_resume},
    {"PUT", "/payments/subscriptions/:id/cancel", subscriptions_cancel},
    {"POST", "/payments/webhooks/:vendor", webhook_rate_receive},
    {"POST", "/payments/internal/webhook", test_receiver_keep},
    {"GET", "/payments/internal/webhook", test_receiver_list},
    {"GET", "/monitors/performance", monitors_performance},
    {"GET", "/monitors/system", monitors_system},
};

const size_t worker_route_count = sizeof worker_routes / sizeof worker_routes[0];

const http_route worker_operator_routes[] = {
    {"GET", "/monitors/health", monitors_health},
    {"GET", "/metrics", metrics_page},
    {"POST", "/payments/internal/webhooks/retry", webhooks_retry_failed},
    {"GET", "/payments/internal/operations", operations_list},
};

const size_t worker_operator_route_count = sizeof worker_operator_routes / sizeof worker_operator_routes[0];
