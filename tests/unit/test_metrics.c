/* The metrics' pieces in C: the exposition writer (escaped label values and
 * HELP text, cumulative histogram buckets ending with +Inf, _sum and
 * _count) and the shared region (a slot continues its counts for the next
 * worker of the same tables, starts afresh for other tables, and gives its
 * gauges back when its worker is gone). */
#include "metrics_region.h"
#include "prometheus_text.h"
#include "unit.h"

#include <unistd.h>

UNIT_CASE(escaping, NULL)
{
    byte_buffer out = {0};
    prometheus_label labels[2] = {{"route", "/a\\b"}, {"store", "say \"hi\"\nthere"}};
    CHECK(prometheus_family(&out, "x_total", "counter", "back\\slash and\nnewline \"kept\"") == 0);
    CHECK(prometheus_sample(&out, "x_total", labels, 2, 3) == 0);
    CHECK(prometheus_sample(&out, "y", NULL, 0, 0.5) == 0);
    CHECK(prometheus_sample(&out, "z", NULL, 0, 0.013442) == 0);             /* not 0.013442000000000001 */
    CHECK(prometheus_sample(&out, "big", NULL, 0, 9007199254740993.0) == 0); /* 2^53 + 1 rounds to 2^53 */
    CHECK_STR(out.data, "# HELP x_total back\\\\slash and\\nnewline \"kept\"\n"
                        "# TYPE x_total counter\n"
                        "x_total{route=\"/a\\\\b\",store=\"say \\\"hi\\\"\\nthere\"} 3\n"
                        "y 0.5\n"
                        "z 0.013442\n"
                        "big 9007199254740992\n");
    byte_buffer_release(&out);
}

UNIT_CASE(histogram, NULL)
{
    byte_buffer out = {0};
    const double bounds[3] = {0.01, 0.1, 1};
    const uint64_t counts[4] = {2, 0, 3, 1}; /* each bucket alone; the last past every bound */
    prometheus_label label = {"route", "/r"};
    CHECK(prometheus_histogram(&out, "h_seconds", &label, 1, bounds, counts, 3, 2.25) == 0);
    CHECK_STR(out.data, "h_seconds_bucket{route=\"/r\",le=\"0.01\"} 2\n"
                        "h_seconds_bucket{route=\"/r\",le=\"0.1\"} 2\n"
                        "h_seconds_bucket{route=\"/r\",le=\"1\"} 5\n"
                        "h_seconds_bucket{route=\"/r\",le=\"+Inf\"} 6\n"
                        "h_seconds_sum{route=\"/r\"} 2.25\n"
                        "h_seconds_count{route=\"/r\"} 6\n");
    byte_buffer_release(&out);
    CHECK(prometheus_histogram(&out, "bare", NULL, 0, bounds, counts, 3, 0) == 0);
    CHECK(strstr(out.data, "bare_bucket{le=\"+Inf\"} 6\n") && strstr(out.data, "bare_count 6\n"));
    byte_buffer_release(&out);
}

/* An observation lands in the first bucket whose bound it does not pass. */
UNIT_CASE(observe, NULL)
{
    metrics_histogram h = {0};
    metrics_histogram_observe(&h, 1000);     /* 1 ms: on the first bound */
    metrics_histogram_observe(&h, 1001);     /* just past it */
    metrics_histogram_observe(&h, 60000000); /* a minute: past every bound */
    CHECK(h.buckets[0] == 1 && h.buckets[1] == 1 && h.buckets[METRICS_BUCKETS] == 1);
    CHECK(h.sum_us == 60002001);
}

UNIT_CASE(slots, NULL)
{
    char err[200];
    int fd = -1;
    metrics_region *region = metrics_region_create(&fd, err, sizeof err);
    if (!CHECK(region != NULL))
        return;
    metrics_region *seen = metrics_region_attach(fd, err, sizeof err);
    CHECK(seen != NULL);
    metrics_slot *first = metrics_region_claim(region, 100, 7);
    CHECK(first != NULL && metrics_region_claim(region, 101, 7) != first);
    atomic_fetch_add(&first->requests[0][0], 5);
    atomic_store(&first->pool_in_use, 3);
    if (seen)
        CHECK(seen->slots[0].requests[0][0] == 5); /* shared, not copied */
    metrics_region_release(region, 100);
    CHECK(first->pid == 0 && first->pool_in_use == 0 && first->requests[0][0] == 5);
    CHECK(metrics_region_claim(region, 102, 7) == first && first->requests[0][0] == 5);
    metrics_region_release(region, 102);
    CHECK(metrics_region_claim(region, 103, 8) == first && first->requests[0][0] == 0 && first->pid == 103);
    int other = dup(STDIN_FILENO);
    CHECK(metrics_region_attach(other, err, sizeof err) == NULL && strstr(err, "not this build's metrics region"));
    close(other);
    metrics_region_unmap(seen);
    metrics_region_unmap(region);
    close(fd);
}
