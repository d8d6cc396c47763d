/* fake_control: the routes a test uses to steer and question a fake, under
 * /fake/ so that they never meet a vendor's own paths: the effect counters
 * the latency rule and the billing declines. */
#ifndef PAYMENTS_FAKE_CONTROL_H
#define PAYMENTS_FAKE_CONTROL_H

#include "fake_server.h"

#include <stdbool.h>

/* True when the request is for a /fake/ route: it was answered (404/405
 * when no control route fits). */
bool fake_control_serve(fake_server *fs, http_exchange *ex);

#endif
