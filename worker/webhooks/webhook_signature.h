/* webhook_signature: the signature of an outgoing notification, so that a
 * receiver can tell our notifications from forgeries and refuse replays:
 *   X-Payments-Timestamp: unix seconds when the attempt was made
 *   X-Payments-Signature: v1=hex(HMAC-SHA-256(secret, timestamp "." body))
 * The timestamp is inside the MAC, so a receiver that refuses old
 * timestamps (and remembers the notification ids it handled) refuses
 * replays. The header may carry several comma-separated v1= values (a
 * receiver accepts any), which leaves room to rotate the secret. */
#ifndef PAYMENTS_WEBHOOK_SIGNATURE_H
#define PAYMENTS_WEBHOOK_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>

#define WEBHOOK_TIMESTAMP_HEADER "X-Payments-Timestamp"
#define WEBHOOK_SIGNATURE_HEADER "X-Payments-Signature"
/* "v1=" and 64 hex digits. */
#define WEBHOOK_SIGNATURE_SIZE (3 + 64 + 1)

/* Writes "v1=<hex>" into out. Returns 0, or -1 when HMAC fails. */
int webhook_signature_make(const char *secret, const char *timestamp, const char *body, size_t body_len,
                           char out[WEBHOOK_SIGNATURE_SIZE]);

/* True when one of the header's v1= values is the signature of timestamp
 * and body (compared in constant time). Says nothing about the timestamp's
 * age: that is the receiver's policy. */
bool webhook_signature_verify(const char *secret, const char *timestamp, const char *body, size_t body_len,
                              const char *header);

#endif
