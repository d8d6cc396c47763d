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

int cli_watch(const char *metrics_url, const char *title, int interval_ms, long count)
{
    static watch_sample samples[2]; /* this frame's and the last one read */
    bool screen = isatty(STDOUT_FILENO);
    bool have_before = false;
    char err[1024];
    for (long frame = 0; count == 0 || frame < count; frame++) {
        if (frame > 0)
            cli_sleep_ms(interval_ms);
        watch_sample *now = &samples[frame % 2], *before = &samples[(frame + 1) % 2];
        if (sample_read(metrics_url, now, err, sizeof err) < 0) {
            fprintf(stderr, "payments monitor: %s\n", err);
            if (frame == 0)
                return 1; /* a wrong address shows at once */
            have_before = false;
            continue;
        }
        fputs(screen ? "\033[H\033[2J" : frame > 0 ? "\n" : "", stdout);
        print_frame(title, now, have_before ? before : NULL);
        fflush(stdout);
        have_before = true;
    }
    return 0;
}
