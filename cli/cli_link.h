/* The command line's side of an updater link: a blocking TCP connection that
 * runs the client half of the handshake (updater_protocol.h) and then sends
 * and receives sealed JSON messages, every wait bounded by a timeout. */
#ifndef PAYMENTS_CLI_LINK_H
#define PAYMENTS_CLI_LINK_H

#include "updater_protocol.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct cli_link {
    int fd;
    bool authenticated;
    long long last_sent_ms; /* monotonic clock: a heartbeat is due heartbeat_ms after it */
    long long heartbeat_ms; /* PAYMENT_UPDATOR_HEARTBEAT_MS, as the master expects */
    protocol_reader reader;
    protocol_handshake handshake;
    protocol_session session;
} cli_link;

/* Connects and authenticates with secret; sends a heartbeat whenever it sent
 * nothing for heartbeat_ms. Returns 0, or -1 with err (a refusal reads
 * "refused: <reason>"). */
int cli_link_open(cli_link *link, const char *host, int port, const char *secret, long long heartbeat_ms,
                  int timeout_ms, char *err, size_t errlen);
int cli_link_send(cli_link *link, json_t *message, char *err, size_t errlen);
/* The next message (new reference), or NULL with err on timeout, close or a
 * message that fails its check. */
json_t *cli_link_receive(cli_link *link, int timeout_ms, char *err, size_t errlen);
void cli_link_close(cli_link *link);

#endif
