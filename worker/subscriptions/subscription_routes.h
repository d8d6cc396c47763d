/* The subscription routes (subscriptions.c), for the worker's route table. */
#ifndef PAYMENTS_SUBSCRIPTION_ROUTES_H
#define PAYMENTS_SUBSCRIPTION_ROUTES_H

#include "worker.h"

void subscriptions_create(http_exchange *ex, const http_route_params *params, void *context);
void subscriptions_at(http_exchange *ex, const http_route_params *params, void *context);
void subscriptions_pause(http_exchange *ex, const http_route_params *params, void *context);
void subscriptions_resume(http_exchange *ex, const http_route_params *params, void *context);
void subscriptions_cancel(http_exchange *ex, const http_route_params *params, void *context);

#endif
