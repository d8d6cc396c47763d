/* password_upgrade: replacing a record's password hash in the original
 * server's format with ours, the same statement on every table of payment
 * records (histories, reservations). Best effort, after a read already
 * succeeded: a failure is only logged, and the next read tries again. */
#ifndef PAYMENTS_PASSWORD_UPGRADE_H
#define PAYMENTS_PASSWORD_UPGRADE_H

#include "pg_pool.h"

/* The statement on table: $1 the record's id, $2 the hash it must still
 * have (nothing happens when another request replaced it meanwhile), $3 the
 * new hash. */
#define PASSWORD_UPGRADE_SQL(table) "UPDATE " table " SET password_hash = $3 WHERE id = $1 AND password_hash = $2"

/* Runs sql, a PASSWORD_UPGRADE_SQL, for record id. */
void password_upgrade_run(pg_pool *pool, const char *sql, const char *id, const char *old_hash, const char *new_hash);

#endif
