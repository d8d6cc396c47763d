/* fake_stats: counters of the effects a fake made (a cancel recorded, a
 * payment confirmed, an answer replayed), so that a test can ask the fake
 * "how many refunds happened" instead of inferring it. */
#ifndef PAYMENTS_FAKE_STATS_H
#define PAYMENTS_FAKE_STATS_H

#include "fake_server.h"

/* Sets fs->stats with every name at 0 (names NULL-ended, may be NULL).
 * Returns 0 or -1. */
int fake_stats_create(fake_server *fs, const char *const *names);
void fake_stats_destroy(fake_server *fs);
/* Adds one to the counter name (made at 1 when it was not listed). */
void fake_stats_count(fake_server *fs, const char *name);
/* The counters and held_answers (answers waiting out their delay now): a
 * new reference, or NULL when out of memory. */
json_t *fake_stats_describe(const fake_server *fs);

#endif
