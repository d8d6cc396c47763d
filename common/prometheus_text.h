/* prometheus_text: the Prometheus text exposition format, version 0.0.4:
 * "# HELP" and "# TYPE" lines, samples with escaped label values, and
 * histograms as cumulative _bucket{le=...} lines ending with +Inf, then _sum
 * and _count. Knows nothing of what is measured (worker/metrics_page.c). */
#ifndef PAYMENTS_PROMETHEUS_TEXT_H
#define PAYMENTS_PROMETHEUS_TEXT_H

#include "byte_buffer.h"

#include <stddef.h>
#include <stdint.h>

#define PROMETHEUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct prometheus_label {
    const char *name;
    const char *value; /* any bytes but NUL: backslash, quote and newline are escaped */
} prometheus_label;

/* Each returns 0, or -1 when memory ran out (the text is then incomplete,
 * and the caller answers 500). */

/* The family's two header lines; type is "counter", "gauge" or "histogram". */
int prometheus_family(byte_buffer *out, const char *name, const char *type, const char *help);
/* name{labels} value */
int prometheus_sample(byte_buffer *out, const char *name, const prometheus_label *labels, size_t label_count,
                      double value);
/* name_bucket{labels,le="bound"} for each bound and +Inf (counts[i] is the
 * number in bucket i alone, counts[bound_count] those past every bound),
 * then name_sum (seconds) and name_count. */
int prometheus_histogram(byte_buffer *out, const char *name, const prometheus_label *labels, size_t label_count,
                         const double *bounds, const uint64_t *counts, size_t bound_count, double sum);

#endif
