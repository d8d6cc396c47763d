/* A minimal unit-test harness: CHECK records a failure and goes on; each test
 * binary ends with UNIT_REPORT, which prints "N passed, N failed" and sets
 * the exit status ctest reads. */
#ifndef PAYMENTS_UNIT_H
#define PAYMENTS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) {                                                              \
            unit_passed++;                                                       \
        } else {                                                                 \
            unit_failed++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

#define CHECK_STR(actual, expected)                                                          \
    do {                                                                                     \
        const char *a_ = (actual), *e_ = (expected);                                         \
        if (a_ && e_ && strcmp(a_, e_) == 0) {                                               \
            unit_passed++;                                                                   \
        } else {                                                                             \
            unit_failed++;                                                                   \
            fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__,      \
                    e_ ? e_ : "(null)", a_ ? a_ : "(null)");                                 \
        }                                                                                    \
    } while (0)

#define UNIT_REPORT()                                                    \
    do {                                                                 \
        printf("%d passed, %d failed\n", unit_passed, unit_failed);      \
        return unit_failed ? 1 : 0;                                      \
    } while (0)

#endif
