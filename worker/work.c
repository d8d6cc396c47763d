/* work: a count of this worker's work in flight. A draining worker may
 * finish only once it is back to 0. */
#include "worker.h"

void worker_work_begin(worker *w)
{
    w->work_in_flight++;
}

void worker_work_end(worker *w)
{
    if (w->work_in_flight > 0)
        w->work_in_flight--;
}
