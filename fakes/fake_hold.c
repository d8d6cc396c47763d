/* fake_hold: each held answer owns a copy of itself and a one-shot timer; the
 * timer's close callback is the one place it is freed. An exchange whose
 * client left while its answer waited stays valid (the server orphans it), and
 * answering it only frees it, so a held answer never outlives its exchange. */
#include "fake_hold.h"

#include "log.h"

#include <stdlib.h>

struct fake_held_answer {
    uv_timer_t timer;
    fake_server *fs;
    http_exchange *exchange;
    fake_answer_copy answer;
    fake_held_answer *previous, *next;
};

static void held_closed(uv_handle_t *handle)
{
    fake_held_answer *held = handle->data;
    fake_answer_copy_free(&held->answer);
    free(held);
}

static void held_unlink(fake_held_answer *held)
{
    fake_server *fs = held->fs;
    if (held->previous)
        held->previous->next = held->next;
    else
        fs->held = held->next;
    if (held->next)
        held->next->previous = held->previous;
    fs->held_count--;
}

static void held_send(fake_held_answer *held)
{
    held_unlink(held);
    if (http_exchange_aborted(held->exchange))
        log_info("held answer %d dropped: its client has gone", held->answer.status);
    const fake_answer_copy *answer = &held->answer;
    http_respond(held->exchange, answer->status, answer->content_type, answer->body, answer->body_len);
    uv_close((uv_handle_t *)&held->timer, held_closed);
}

static void held_due(uv_timer_t *timer)
{
    held_send(timer->data);
}

int fake_hold_answer(fake_server *fs, http_exchange *ex, uint64_t delay_ms, int status, const char *content_type,
                     const char *body, size_t len)
{
    fake_held_answer *held = calloc(1, sizeof *held);
    if (!held)
        return -1;
    if (fake_answer_copy_make(&held->answer, status, content_type, body, len) != 0 ||
        uv_timer_init(fs->loop, &held->timer) != 0) {
        fake_answer_copy_free(&held->answer);
        free(held);
        return -1;
    }
    held->timer.data = held;
    if (uv_timer_start(&held->timer, held_due, delay_ms, 0) != 0) {
        uv_close((uv_handle_t *)&held->timer, held_closed);
        return -1;
    }
    held->fs = fs;
    held->exchange = ex;
    held->next = fs->held;
    if (fs->held)
        fs->held->previous = held;
    fs->held = held;
    fs->held_count++;
    return 0;
}

void fake_hold_release_all(fake_server *fs)
{
    while (fs->held) {
        uv_timer_stop(&fs->held->timer);
        held_send(fs->held);
    }
}
