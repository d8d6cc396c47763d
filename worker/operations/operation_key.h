/* operation_key: the vendor-side keys of an operation, derived only from
 * what we knew before the first attempt, so that a retry of the same call
 * (a new request without our Idempotency-Key, the reconciler after a crash)
 * carries the same key and the vendor never acts twice. */
#ifndef PAYMENTS_OPERATION_KEY_H
#define PAYMENTS_OPERATION_KEY_H

#include <stddef.h>

/* 64 hex digits of SHA-256 and a NUL: well under the 300 characters vendors take. */
#define OPERATION_KEY_SIZE 65

/* SHA-256 in hex over facts, each ended by a NUL: the derivation of every
 * key below, for the modules deriving keys of their own operations (its
 * first fact names the kind and version). Returns 0, or -1. */
int operation_key_derive(const char *const *facts, size_t count, char out[OPERATION_KEY_SIZE]);

/* A cancel's Idempotency-Key: from the history, the refund we had
 * recorded before it and the amount. Returns 0, or -1 when hashing fails. */
int operation_key_cancel(const char *history_id, const char *refund_before, const char *amount,
                         char out[OPERATION_KEY_SIZE]);
/* A confirm's: from the vendor uid, the order id and the amount. */
int operation_key_confirm(const char *payment_key, const char *order_id, const char *amount,
                          char out[OPERATION_KEY_SIZE]);
/* A mismatch cancel's: from the vendor payment and the amount cancelled. */
int operation_key_mismatch(const char *vendor_uid, const char *amount, char out[OPERATION_KEY_SIZE]);

/* A cancel's checksum: the amount still cancellable as we know it, never
 * below 0. */
double operation_key_checksum(double price, double refunded);

#endif
