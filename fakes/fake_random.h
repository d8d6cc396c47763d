/* fake_random: the random identifiers the fakes hand out (payment keys,
 * TIDs, account and approval numbers), drawn from the system's generator
 * without modulo bias. */
#ifndef PAYMENTS_FAKE_RANDOM_H
#define PAYMENTS_FAKE_RANDOM_H

#include <stddef.h>

/* len random characters of [0-9A-Za-z] and a NUL (out holds len + 1):
 * 0, or -1. */
int fake_random_text(char *out, size_t len);
/* len random digits and a NUL: 0, or -1. */
int fake_random_digits(char *out, size_t len);

#endif
