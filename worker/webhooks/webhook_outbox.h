/* webhook_outbox: every worker's loop over the durable outbox in
 * PostgreSQL. A timer (and a kick after each commit that queued a
 * notification, or after a delivery, which may free the next one of its
 * history) claims due notifications and delivers them, a few at a time.
 * Nothing is kept in memory that a crash could lose: a claim that outlives
 * its worker expires and another worker takes the notification over. */
#ifndef PAYMENTS_WEBHOOK_OUTBOX_H
#define PAYMENTS_WEBHOOK_OUTBOX_H

#include "config.h"
#include "crypto.h"
#include "pg_pool.h"
#include "seal.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct webhook_outbox webhook_outbox;

/* Deliveries one worker has in flight at most; it claims again (a batch of
 * WEBHOOK_STORE_CLAIM_BATCH) once a batch of them has room, and at once
 * after a claim that came back full (more are likely due), so that a
 * backlog is claimed a batch per statement, not one row per delivery, and
 * slow receivers do not hold the claims back until one of them answers. A
 * delivery waiting on its receiver costs a socket and a few KiB, while
 * receivers commonly take a few hundred ms: with 32, 200 ms receivers held a
 * worker to 160 deliveries a second; with 256, to 1,280. */
#define WEBHOOK_OUTBOX_MAX_IN_FLIGHT 256
/* A claim lasts the attempt's timeout plus this, the time to record it. */
#define WEBHOOK_OUTBOX_CLAIM_GRACE_MS 2000

/* Starts polling at once. The arguments must outlive the outbox; NULL when
 * it cannot start (logged). */
webhook_outbox *webhook_outbox_create(uv_loop_t *loop, pg_pool *db, const crypto_cbc_key *connection_key,
                                      const seal_ring *history_seal, const cfg *config);

/* Tells observe of each delivery attempt's end (webhook_delivery_env). */
void webhook_outbox_observe(webhook_outbox *outbox, void (*observe)(void *data, bool delivered, uint64_t elapsed_us),
                            void *data);

/* Looks for due notifications now. outbox may be NULL (a stopping worker). */
void webhook_outbox_kick(webhook_outbox *outbox);

/* Stops claiming, interrupts the attempts in flight (they go back to
 * pending, uncounted), waits until each outcome is recorded, then frees the
 * outbox and runs done. The database pool must stay open until then. */
void webhook_outbox_close(webhook_outbox *outbox, void (*done)(void *data), void *data);

#endif
