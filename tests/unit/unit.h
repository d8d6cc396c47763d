/* The unit-test runner: a test file defines its cases with UNIT_CASE, and
 * the test binary runs every case, or only those named on its command line
 * (`test_vendors toss_cancel`). CHECK records a failure under the running
 * case's name, with file and line, and goes on. */
#ifndef PAYMENTS_UNIT_H
#define PAYMENTS_UNIT_H

#include <stdbool.h>
#include <stdio.h>  /* the test files print and format throughout */
#include <string.h> /* and compare strings */

/* State that several cases share and that costs something to make (fake
 * servers, a loop, a database schema): set up once, before the first case
 * that names it, and torn down after the last case. A setup that fails
 * undoes what it did and returns false; every case that needs it then
 * fails without running. */
typedef struct unit_fixture {
    const char *name;
    bool (*setup)(void);
    void (*teardown)(void);
} unit_fixture;

typedef struct unit_case {
    const char *name;
    void (*run)(void);
    const unit_fixture *fixture; /* NULL: the case needs none */
    int line;                    /* where it is written: cases run in that order */
} unit_case;

/* Defines a case:
 *
 *     UNIT_CASE(toss_cancel, &vendors)
 *     {
 *         CHECK(...);
 *     }
 *
 * The definition registers the case itself, so a file keeps no list that
 * could fall out of step with its cases: a pointer to it goes into the
 * "unit_cases" section, which the linker gathers into one array for the
 * runner. Cases run in the order they are written, so a case that spends
 * its fixture (a server's drain) comes last. */
#define UNIT_CASE(case_name, case_fixture)                                                                 \
    static void test_##case_name(void);                                                                    \
    static const unit_case unit_case_##case_name = {#case_name, test_##case_name, case_fixture, __LINE__}; \
    static const unit_case *const unit_entry_##case_name __attribute__((used, section("unit_cases"))) =    \
        &unit_case_##case_name;                                                                            \
    static void test_##case_name(void)

/* Runs the binary's cases; unit_main.c's main() calls it. Exits 0 when every
 * check passed, 1 when one failed or a case checked nothing, 2 for a case
 * name the binary does not hold (the names are then listed). */
int unit_run(int argc, char **argv);

/* Both return ok, so that a case can stop where going on would crash:
 * `if (!CHECK(doc != NULL)) return;`. */
bool unit_check(bool ok, const char *file, int line, const char *expression);
bool unit_check_str(const char *actual, const char *expected, const char *file, int line);

#define CHECK(cond) unit_check((cond) ? true : false, __FILE__, __LINE__, #cond)
#define CHECK_STR(actual, expected) unit_check_str((actual), (expected), __FILE__, __LINE__)

#endif
