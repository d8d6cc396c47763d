/* `payments monitor MODE --watch`: reads the instance's /metrics (the
 * operators' listener, plain text, no key needed) every interval and
 * redraws like top: CPU percent of each process from two successive
 * samples, resident memory, requests per second and failing vendor calls
 * per second. A counter that went down (a new master after USR2) shows
 * "-" for one frame instead of a negative rate. */
#include "cli.h"

#include "cli_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WATCH_PROCESSES 80 /* the master and a roll's worth of workers */
#define WATCH_REQUEST_TIMEOUT_MS 10000

typedef struct watch_process {
    char role[16];
    long pid;
    double cpu_seconds;
    double rss_bytes;
} watch_process;

typedef struct watch_sample {
    long long at_ms;
    watch_process processes[WATCH_PROCESSES];
    size_t count;
    double requests;      /* answers on the API listener */
    double failing_calls; /* vendor calls that failed (no answer, 5xx) */
} watch_sample;

/* The value of label name in a sample line's label text, unescaped into out. */
static bool label_value(const char *labels, const char *name, char *out, size_t cap)
{
    char key[64];
    snprintf(key, sizeof key, "%s=\"", name);
    const char *at = labels;
    while ((at = strstr(at, key)) && at != labels && at[-1] != '{' && at[-1] != ',')
        at++;
    if (!at)
        return false;
    size_t n = 0;
    for (const char *c = at + strlen(key); *c && *c != '"' && n + 1 < cap; c++)
        out[n++] = *c == '\\' && c[1] ? *++c : *c;
    out[n] = '\0';
    return true;
}

static watch_process *process_of(watch_sample *s, const char *labels)
{
    char role[16], pid_text[24];
    if (!label_value(labels, "process", role, sizeof role) || !label_value(labels, "pid", pid_text, sizeof pid_text))
        return NULL;
    long pid = atol(pid_text);
    for (size_t i = 0; i < s->count; i++)
        if (s->processes[i].pid == pid)
            return &s->processes[i];
    if (s->count == WATCH_PROCESSES)
        return NULL;
    watch_process *p = &s->processes[s->count++];
    *p = (watch_process){.pid = pid};
    snprintf(p->role, sizeof p->role, "%s", role);
    return p;
}

/* One sample line: name{labels} value. */
static void read_line(watch_sample *s, char *line)
{
    char *space = strrchr(line, ' ');
    if (line[0] == '#' || !space)
        return;
    double value = strtod(space + 1, NULL);
    *space = '\0';
    char *labels = strchr(line, '{');
    if (labels)
        *labels++ = '\0';
    else
        labels = "";
    char text[32];
    watch_process *p;
    if (strcmp(line, "payments_process_cpu_seconds_total") == 0 && (p = process_of(s, labels)))
        p->cpu_seconds = value;
    else if (strcmp(line, "payments_process_resident_memory_bytes") == 0 && (p = process_of(s, labels)))
        p->rss_bytes = value;
    else if (strcmp(line, "payments_http_requests_total") == 0 && label_value(labels, "listener", text, sizeof text) &&
             strcmp(text, "api") == 0)
        s->requests += value;
    else if (strcmp(line, "payments_vendor_calls_total") == 0 && label_value(labels, "outcome", text, sizeof text) &&
             strcmp(text, "failed") == 0)
        s->failing_calls += value;
}

static int sample_read(const char *url, watch_sample *s, char *err, size_t errlen)
{
    *s = (watch_sample){.at_ms = cli_now_ms()};
    cli_http_request request = {"GET", url, NULL, NULL, WATCH_REQUEST_TIMEOUT_MS};
    cli_http_answer answer;
    if (cli_http_exchange(&request, &answer, err, errlen) < 0)
        return -1;
    if (answer.status != 200) {
        snprintf(err, errlen, "GET %s: HTTP %ld", url, answer.status);
        cli_http_answer_free(&answer);
        return -1;
    }
    char *save = NULL;
    for (char *line = strtok_r(answer.body, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        read_line(s, line);
    cli_http_answer_free(&answer);
    return 0;
}

/* A rate over the two samples, or "-" without a previous one or when the
 * counter went back (the counts started again). */
static void format_rate(char *out, size_t cap, double now, double before, double seconds, bool have_before)
{
    if (!have_before || now < before || seconds <= 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.1f", (now - before) / seconds);
}

static const watch_process *previous_of(const watch_sample *s, long pid)
{
    for (size_t i = 0; i < s->count; i++)
        if (s->processes[i].pid == pid)
            return &s->processes[i];
    return NULL;
}

static void print_frame(const char *title, const watch_sample *now, const watch_sample *before)
{
    double seconds = before ? (double)(now->at_ms - before->at_ms) / 1000.0 : 0;
    time_t wall = time(NULL);
    char clock[16] = "";
    struct tm tm;
    if (localtime_r(&wall, &tm))
        strftime(clock, sizeof clock, "%H:%M:%S", &tm);
    printf("%s  %s\n\n  %-8s %8s %8s %10s\n", title, clock, "process", "pid", "cpu %", "rss MiB");
    for (size_t i = 0; i < now->count; i++) {
        const watch_process *p = &now->processes[i];
        const watch_process *old = before ? previous_of(before, p->pid) : NULL;
        char cpu[16];
        format_rate(cpu, sizeof cpu, p->cpu_seconds * 100, old ? old->cpu_seconds * 100 : 0, seconds, old != NULL);
        printf("  %-8s %8ld %8s %10.1f\n", p->role, p->pid, cpu, p->rss_bytes / 1048576.0);
    }
    char requests[32], failing[32];
    format_rate(requests, sizeof requests, now->requests, before ? before->requests : 0, seconds, before != NULL);
    format_rate(failing, sizeof failing, now->failing_calls, before ? before->failing_calls : 0, seconds,
                before != NULL);
    printf("\n  requests/s %s (total %.0f)   failing vendor calls/s %s (total %.0f)\n", requests, now->requests,
           failing, now->failing_calls);
}

/* One target's samples: this frame's and the last one read. */
typedef struct watch_history {
    watch_sample samples[2];
    bool have_before;
    bool read_now;
} watch_history;

/* Reads every target for this frame; returns how many answered. */
static size_t read_all(const cli_watch_target *targets, watch_history *history, size_t count, long frame)
{
    size_t answered = 0;
    char err[1024];
    for (size_t t = 0; t < count; t++) {
        watch_history *h = &history[t];
        h->read_now = sample_read(targets[t].url, &h->samples[frame % 2], err, sizeof err) == 0;
        if (h->read_now) {
            answered++;
        } else {
            fprintf(stderr, "payments monitor: %s\n", err);
            h->have_before = false;
        }
    }
    return answered;
}

int cli_watch(const cli_watch_target *targets, size_t count, int interval_ms, long frames)
{
    watch_history *history = calloc(count, sizeof *history);
    if (!history) {
        fprintf(stderr, "payments monitor: out of memory\n");
        return 1;
    }
    bool screen = isatty(STDOUT_FILENO);
    int rc = 0;
    for (long frame = 0; frames == 0 || frame < frames; frame++) {
        if (frame > 0)
            cli_sleep_ms(interval_ms);
        if (read_all(targets, history, count, frame) == 0 && frame == 0) {
            rc = 1; /* a wrong address shows at once */
            break;
        }
        fputs(screen ? "\033[H\033[2J" : frame > 0 ? "\n" : "", stdout);
        for (size_t t = 0; t < count; t++) {
            watch_history *h = &history[t];
            if (t > 0)
                fputs("\n", stdout);
            if (!h->read_now) {
                printf("%s: no answer\n", targets[t].title);
                continue;
            }
            print_frame(targets[t].title, &h->samples[frame % 2], h->have_before ? &h->samples[(frame + 1) % 2] : NULL);
            h->have_before = true;
        }
        fflush(stdout);
    }
    free(history);
    return rc;
}
