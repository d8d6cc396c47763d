/* work: the count of what a worker still has to finish (requests, even those
 * whose client left; thread-pool jobs; the outbox's and reconciler's claims),
 * so that a draining worker exits only when nothing of its own is in flight. */
#include "worker.h"

#include "log.h"

/* The count falls to 0 inside whatever finished last (a database or vendor
 * callback): work_idle runs from the loop instead, so that it may close the
 * pool or the client that is calling back. */
static void on_idle_timer(uv_timer_t *timer)
{
    worker *w = timer->data;
    if (w->work_in_flight == 0 && w->work_idle)
        w->work_idle(w);
}

int worker_work_init(worker *w)
{
    w->work_idle_timer.data = w;
    return uv_timer_init(w->loop, &w->work_idle_timer);
}

void worker_work_close(worker *w)
{
    if (!uv_is_closing((uv_handle_t *)&w->work_idle_timer))
        uv_close((uv_handle_t *)&w->work_idle_timer, NULL);
}

void worker_work_begin(worker *w)
{
    w->work_in_flight++;
}

void worker_work_end(worker *w)
{
    if (w->work_in_flight == 0) {
        log_error("work: more ends than begins");
        return;
    }
    if (--w->work_in_flight == 0 && w->work_idle && !uv_is_closing((uv_handle_t *)&w->work_idle_timer))
        uv_timer_start(&w->work_idle_timer, on_idle_timer, 0, 0);
}
