/* Running a test's libuv loop until an awaited callback has run: a prepare
 * handle asks before each poll whether the wait is over, and a guard timer
 * ends a wait that would never end, so that a lost callback fails a check
 * instead of hanging the test. */
#include "harness.h"

typedef struct wait_state {
    bool (*done)(void *data);
    void *data;
    bool timed_out;
} wait_state;

static void wait_timed_out(uv_timer_t *guard)
{
    wait_state *wait = guard->data;
    wait->timed_out = true;
}

/* Before the loop would block for I/O: stop once the awaited callback ran,
 * which may have been in this very iteration's timers. */
static void wait_check(uv_prepare_t *check)
{
    wait_state *wait = check->data;
    if (wait->timed_out || wait->done(wait->data))
        uv_stop(check->loop);
}

bool harness_run_until(uv_loop_t *loop, bool (*done)(void *data), void *data, uint64_t timeout_ms)
{
    wait_state wait = {.done = done, .data = data};
    uv_timer_t guard;
    uv_prepare_t check;
    if (uv_timer_init(loop, &guard) != 0)
        return false;
    if (uv_prepare_init(loop, &check) != 0) {
        uv_close((uv_handle_t *)&guard, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
        return false;
    }
    guard.data = &wait;
    check.data = &wait;
    uv_update_time(loop); /* the test may have slept since the loop last ran */
    uv_timer_start(&guard, wait_timed_out, timeout_ms, 0);
    uv_prepare_start(&check, wait_check);
    while (!wait.timed_out && !done(data))
        uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_close((uv_handle_t *)&check, NULL);
    uv_run(loop, UV_RUN_NOWAIT); /* the two closes complete before the handles go out of scope */
    return done(data);
}

static bool flag_is_true(void *data)
{
    return *(const bool *)data;
}

bool harness_run_until_true(uv_loop_t *loop, const bool *flag, uint64_t timeout_ms)
{
    return harness_run_until(loop, flag_is_true, (void *)flag, timeout_ms);
}

typedef struct count_target {
    const int *count;
    int target;
} count_target;

static bool count_reached(void *data)
{
    const count_target *c = data;
    return *c->count >= c->target;
}

bool harness_run_until_count(uv_loop_t *loop, const int *count, int target, uint64_t timeout_ms)
{
    count_target c = {count, target};
    return harness_run_until(loop, count_reached, &c, timeout_ms);
}
