/* prometheus_text: writes families, samples and histograms in the text
 * exposition format. Numbers take the shortest of %.15g and %.17g that reads
 * back as the same double (0.1, not 0.10000000000000001), and +Inf/NaN the
 * spellings the format requires. */
#include "prometheus_text.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int put(byte_buffer *out, const char *text)
{
    return byte_buffer_append(out, text, strlen(text));
}

static int put_number(byte_buffer *out, double value)
{
    char text[32];
    if (isnan(value))
        snprintf(text, sizeof text, "NaN");
    else if (isinf(value))
        snprintf(text, sizeof text, value > 0 ? "+Inf" : "-Inf");
    else if (snprintf(text, sizeof text, "%.15g", value) > 0 && strtod(text, NULL) != value)
        snprintf(text, sizeof text, "%.17g", value);
    return put(out, text);
}

/* HELP text escapes backslash and newline; label values also the quote. */
static int put_escaped(byte_buffer *out, const char *text, bool quote_too)
{
    for (const char *c = text; *c; c++) {
        const char *escaped = *c == '\\' ? "\\\\" : *c == '\n' ? "\\n" : *c == '"' && quote_too ? "\\\"" : NULL;
        int rc = escaped ? put(out, escaped) : byte_buffer_append(out, c, 1);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int prometheus_family(byte_buffer *out, const char *name, const char *type, const char *help)
{
    if (put(out, "# HELP ") || put(out, name) || put(out, " ") || put_escaped(out, help, false) ||
        put(out, "\n# TYPE ") || put(out, name) || put(out, " ") || put(out, type) || put(out, "\n"))
        return -1;
    return 0;
}

/* {a="1",b="2"}, with le last when given; nothing at all without labels. */
static int put_labels(byte_buffer *out, const prometheus_label *labels, size_t count, const char *le)
{
    if (count == 0 && !le)
        return 0;
    if (put(out, "{"))
        return -1;
    for (size_t i = 0; i < count; i++)
        if ((i && put(out, ",")) || put(out, labels[i].name) || put(out, "=\"") ||
            put_escaped(out, labels[i].value, true) || put(out, "\""))
            return -1;
    if (le && ((count && put(out, ",")) || put(out, "le=\"") || put(out, le) || put(out, "\"")))
        return -1;
    return put(out, "}");
}

static int put_line(byte_buffer *out, const char *name, const char *suffix, const prometheus_label *labels,
                    size_t count, const char *le, double value)
{
    if (put(out, name) || put(out, suffix) || put_labels(out, labels, count, le) || put(out, " ") ||
        put_number(out, value) || put(out, "\n"))
        return -1;
    return 0;
}

int prometheus_sample(byte_buffer *out, const char *name, const prometheus_label *labels, size_t label_count,
                      double value)
{
    return put_line(out, name, "", labels, label_count, NULL, value);
}

int prometheus_histogram(byte_buffer *out, const char *name, const prometheus_label *labels, size_t label_count,
                         const double *bounds, const uint64_t *counts, size_t bound_count, double sum)
{
    uint64_t cumulative = 0;
    char le[32];
    for (size_t i = 0; i <= bound_count; i++) {
        cumulative += counts[i];
        if (i < bound_count)
            snprintf(le, sizeof le, "%g", bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        if (put_line(out, name, "_bucket", labels, label_count, le, (double)cumulative))
            return -1;
    }
    if (put_line(out, name, "_sum", labels, label_count, NULL, sum) ||
        put_line(out, name, "_count", labels, label_count, NULL, (double)cumulative))
        return -1;
    return 0;
}
