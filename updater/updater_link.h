/* One authenticated TCP link of the updater: master <-> slave, or master <->
 * `payments update`. The link runs the handshake of updater_protocol.h (as
 * server when accepted, as client when connecting), then carries sealed JSON
 * messages, sends heartbeats and closes a link whose peer went silent.
 * Handlers: on_ready once authenticated; on_message per message (borrowed);
 * on_closed exactly once, always, from the loop, after which the link is
 * freed — the owner drops its pointer there. */
#ifndef PAYMENTS_UPDATER_LINK_H
#define PAYMENTS_UPDATER_LINK_H

#include "attempt_limit.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct updater_link updater_link;

typedef struct updater_link_handlers {
    void (*on_ready)(updater_link *link, void *data);
    void (*on_message)(updater_link *link, json_t *message, void *data);
    void (*on_closed)(updater_link *link, const char *reason, void *data);
} updater_link_handlers;

/* Accepts a pending connection of server and starts the handshake as the
 * server, naming itself instance. NULL when nothing was accepted. With
 * guesses, a client address that keeps failing the handshake is closed at
 * once until its delay passes (attempt_limit.h); a handshake that succeeds
 * clears its failures. */
updater_link *updater_link_accept(uv_stream_t *server, const char *secret, const char *instance, attempt_limit *guesses,
                                  const updater_link_handlers *handlers, void *data);
/* Resolves host, connects and authenticates as role/instance. NULL only when
 * out of memory; every later failure arrives through on_closed. */
updater_link *updater_link_connect(uv_loop_t *loop, const char *host, int port, const char *secret, const char *role,
                                   const char *instance, const updater_link_handlers *handlers, void *data);
/* Sends a message on a ready link. Returns 0, or -1 (not ready, closing,
 * out of memory). */
int updater_link_send(updater_link *link, json_t *message);
/* Lets messages already queued go out, then closes; on_closed follows with
 * reason. Safe to call more than once and from any handler. */
void updater_link_close(updater_link *link, const char *reason);

/* Heartbeat period (default 15 s); a peer silent for three periods is dropped.
 * Set it right after creating the link. */
void updater_link_set_heartbeat(updater_link *link, uint64_t period_ms);
bool updater_link_ready(const updater_link *link);
const char *updater_link_peer_role(const updater_link *link);     /* "slave", "client", or the server's "master" */
const char *updater_link_peer_instance(const updater_link *link); /* "" until the handshake says */
const char *updater_link_peer_address(const updater_link *link);  /* "127.0.0.1:40122" */

#endif
