/* guess_guard: the worker's limiters, one table each, sized so that an
 * attack from many addresses evicts old entries rather than growing them.
 * Each worker keeps its own: with N workers a client may get up to N times
 * the free failures, but the doubling delays make that factor irrelevant. */
#include "worker.h"

#include "log.h"

/* Keys kept per table: a client address or record id and a few words each. */
#define GUESS_GUARD_CAPACITY 8192

int guess_guard_open(worker *w)
{
    const cfg *c = &w->config;
    attempt_limit_settings settings = {c->guess_free, c->guess_delay_ms, c->guess_delay_max_ms};
    w->record_guesses_by_address = attempt_limit_create(&settings, GUESS_GUARD_CAPACITY);
    w->record_guesses_by_record = attempt_limit_create(&settings, GUESS_GUARD_CAPACITY);
    w->system_guesses_by_address = attempt_limit_create(&settings, GUESS_GUARD_CAPACITY);
    w->webhook_rate = rate_limit_create(c->webhook_rate, c->webhook_burst, GUESS_GUARD_CAPACITY);
    if (!w->record_guesses_by_address || !w->record_guesses_by_record || !w->system_guesses_by_address ||
        !w->webhook_rate) {
        log_error("cannot allocate the guessing and rate limits");
        guess_guard_close(w);
        return -1;
    }
    return 0;
}

void guess_guard_close(worker *w)
{
    attempt_limit_destroy(w->record_guesses_by_address);
    attempt_limit_destroy(w->record_guesses_by_record);
    attempt_limit_destroy(w->system_guesses_by_address);
    rate_limit_destroy(w->webhook_rate);
    w->record_guesses_by_address = NULL;
    w->record_guesses_by_record = NULL;
    w->system_guesses_by_address = NULL;
    w->webhook_rate = NULL;
}
