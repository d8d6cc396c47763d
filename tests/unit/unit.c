/* The unit-test runner behind unit.h: gathers the cases UNIT_CASE put in
 * the "unit_cases" section, picks those to run, sets their fixtures up once,
 * counts checks per case and prints one line per case and a total. Checks
 * may come from a case's own threads, so the counts are atomic. */
#include "unit.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

/* The bounds of the section, from the linker; weak, as a binary with no
 * case yet has no section at all. */
extern const unit_case *const __start_unit_cases[] __attribute__((weak));
extern const unit_case *const __stop_unit_cases[] __attribute__((weak));

#define UNIT_MAX_FIXTURES 8

typedef enum fixture_state { FIXTURE_NOT_SET_UP, FIXTURE_READY, FIXTURE_FAILED } fixture_state;

typedef struct fixture_slot {
    const unit_fixture *fixture;
    fixture_state state;
} fixture_slot;

static atomic_int unit_passed, unit_failed;
/* What failures are reported under: a case's name, "<fixture> setup", ... */
static char unit_running[128];
static fixture_slot unit_fixtures[UNIT_MAX_FIXTURES];
static size_t unit_fixture_count;

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The place of a failure: "file.c:42: case_name: ". */
static void report_place(const char *file, int line)
{
    fprintf(stderr, "%s:%d: %s%s", base_name(file), line, unit_running, unit_running[0] ? ": " : "");
}

bool unit_check(bool ok, const char *file, int line, const char *expression)
{
    if (ok) {
        atomic_fetch_add(&unit_passed, 1);
        return true;
    }
    atomic_fetch_add(&unit_failed, 1);
    report_place(file, line);
    fprintf(stderr, "CHECK failed: %s\n", expression);
    return false;
}

bool unit_check_str(const char *actual, const char *expected, const char *file, int line)
{
    if (actual && expected && strcmp(actual, expected) == 0) {
        atomic_fetch_add(&unit_passed, 1);
        return true;
    }
    atomic_fetch_add(&unit_failed, 1);
    report_place(file, line);
    fprintf(stderr, "expected \"%s\", got \"%s\"\n", expected ? expected : "(null)", actual ? actual : "(null)");
    return false;
}

static void set_running(const char *name, const char *suffix)
{
    snprintf(unit_running, sizeof unit_running, "%s%s", name, suffix);
}

/* The slot of fixture, added on first use; NULL past UNIT_MAX_FIXTURES. */
static fixture_slot *fixture_slot_of(const unit_fixture *fixture)
{
    for (size_t i = 0; i < unit_fixture_count; i++)
        if (unit_fixtures[i].fixture == fixture)
            return &unit_fixtures[i];
    if (unit_fixture_count == UNIT_MAX_FIXTURES)
        return NULL;
    unit_fixtures[unit_fixture_count] = (fixture_slot){.fixture = fixture};
    return &unit_fixtures[unit_fixture_count++];
}

/* True when the case's fixture is ready, setting it up the first time. */
static bool fixture_ready(const unit_case *c)
{
    if (!c->fixture)
        return true;
    fixture_slot *slot = fixture_slot_of(c->fixture);
    if (!slot) {
        fprintf(stderr, "unit: more than %d fixtures\n", UNIT_MAX_FIXTURES);
        return false;
    }
    if (slot->state == FIXTURE_NOT_SET_UP) {
        set_running(c->fixture->name, " setup");
        slot->state = c->fixture->setup() ? FIXTURE_READY : FIXTURE_FAILED;
    }
    return slot->state == FIXTURE_READY;
}

/* Last set up, first torn down: a later fixture may use an earlier one. */
static void fixtures_tear_down(void)
{
    while (unit_fixture_count > 0) {
        fixture_slot *slot = &unit_fixtures[--unit_fixture_count];
        if (slot->state != FIXTURE_READY || !slot->fixture->teardown)
            continue;
        set_running(slot->fixture->name, " teardown");
        slot->fixture->teardown();
    }
    unit_running[0] = '\0';
}

/* Runs one case and prints its line; a case that checked nothing fails, as
 * a test that cannot fail is no test. */
static void case_run(const unit_case *c)
{
    int passed = atomic_load(&unit_passed), failed = atomic_load(&unit_failed);
    if (!fixture_ready(c)) {
        atomic_fetch_add(&unit_failed, 1);
        printf("FAIL %s (its fixture %s did not set up)\n", c->name, c->fixture ? c->fixture->name : "");
        return;
    }
    set_running(c->name, "");
    c->run();
    passed = atomic_load(&unit_passed) - passed;
    failed = atomic_load(&unit_failed) - failed;
    if (passed + failed == 0) {
        atomic_fetch_add(&unit_failed, 1);
        printf("FAIL %s (checked nothing)\n", c->name);
    } else if (failed > 0) {
        printf("FAIL %s (%d of %d checks failed)\n", c->name, failed, passed + failed);
    } else {
        printf("ok   %s (%d check%s)\n", c->name, passed, passed == 1 ? "" : "s");
    }
    fflush(stdout);
}

/* The binary's cases in the order they are written, in a malloc'ed array
 * ending with NULL; NULL when out of memory. */
static const unit_case **cases_in_order(void)
{
    size_t count = __start_unit_cases ? (size_t)(__stop_unit_cases - __start_unit_cases) : 0;
    const unit_case **cases = malloc((count + 1) * sizeof *cases);
    if (!cases)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        size_t at = i;
        for (; at > 0 && cases[at - 1]->line > __start_unit_cases[i]->line; at--)
            cases[at] = cases[at - 1];
        cases[at] = __start_unit_cases[i];
    }
    cases[count] = NULL;
    return cases;
}

static const unit_case *case_named(const unit_case *const *cases, const char *name)
{
    for (; *cases; cases++)
        if (strcmp((*cases)->name, name) == 0)
            return *cases;
    return NULL;
}

static bool case_selected(const unit_case *c, int argc, char **argv)
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], c->name) == 0)
            return true;
    return false;
}

static int usage(const char *program, const char *unknown, const unit_case *const *cases)
{
    fprintf(stderr, "%s: no case named \"%s\". Cases:\n", base_name(program), unknown);
    for (; *cases; cases++)
        fprintf(stderr, "  %s\n", (*cases)->name);
    return 2;
}

static int run_selected(int argc, char **argv, const unit_case *const *cases)
{
    for (int i = 1; i < argc; i++)
        if (!case_named(cases, argv[i]))
            return usage(argv[0], argv[i], cases);
    int ran = 0;
    for (; *cases; cases++) {
        if (!case_selected(*cases, argc, argv))
            continue;
        case_run(*cases);
        ran++;
    }
    fixtures_tear_down();
    printf("%d passed, %d failed in %d case%s\n", atomic_load(&unit_passed), atomic_load(&unit_failed), ran,
           ran == 1 ? "" : "s");
    return atomic_load(&unit_failed) ? 1 : 0;
}

int unit_run(int argc, char **argv)
{
    /* Cases write to sockets whose peer may be gone: that must be an EPIPE
     * error for the case to check, not the end of the test binary. */
    signal(SIGPIPE, SIG_IGN);
    const unit_case **cases = cases_in_order();
    if (!cases) {
        fprintf(stderr, "%s: out of memory\n", base_name(argv[0]));
        return 1;
    }
    int status = run_selected(argc, argv, cases);
    free(cases);
    return status;
}
