/* process_stats: getrusage, the resident set size and malloc's own counters,
 * named as Node names them. */
#include "process_stats.h"

#include <malloc.h>
#include <sys/resource.h>
#include <uv.h>

static double micros(struct timeval tv)
{
    return (double)tv.tv_sec * 1e6 + (double)tv.tv_usec;
}

static json_t *resource_json(const struct rusage *ru)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:i, s:i, s:f, s:i}", "fsRead",
                     (json_int_t)ru->ru_inblock, "fsWrite", (json_int_t)ru->ru_oublock, "involuntaryContextSwitches",
                     (json_int_t)ru->ru_nivcsw, "ipcReceived", (json_int_t)ru->ru_msgrcv, "ipcSent",
                     (json_int_t)ru->ru_msgsnd, "majorPageFault", (json_int_t)ru->ru_majflt, "maxRSS",
                     (json_int_t)ru->ru_maxrss, "minorPageFault", (json_int_t)ru->ru_minflt, "sharedMemorySize",
                     (json_int_t)ru->ru_ixrss, "signalsCount", (json_int_t)ru->ru_nsignals, "swappedOut",
                     (json_int_t)ru->ru_nswap, "systemCPUTime", micros(ru->ru_stime), "unsharedDataSize",
                     (json_int_t)ru->ru_idrss, "unsharedStackSize", (json_int_t)ru->ru_isrss, "userCPUTime",
                     micros(ru->ru_utime), "voluntaryContextSwitches", (json_int_t)ru->ru_nvcsw);
}

json_t *process_performance(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return NULL;
    size_t rss = 0;
    if (uv_resident_set_memory(&rss) < 0)
        rss = 0;
    struct mallinfo2 heap = mallinfo2();
    return json_pack("{s:{s:f, s:f}, s:{s:i, s:i, s:i, s:i, s:i}, s:o}", "cpu", "user", micros(ru.ru_utime), "system",
                     micros(ru.ru_stime), "memory", "rss", (json_int_t)rss, "heapTotal",
                     (json_int_t)(heap.arena + heap.hblkhd), "heapUsed", (json_int_t)(heap.uordblks + heap.hblkhd),
                     "external", (json_int_t)0, "arrayBuffers", (json_int_t)0, "resource", resource_json(&ru));
}

static void add_numbers(json_t *total, const json_t *one)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)one, key, value)
    {
        json_t *sum = json_object_get(total, key);
        if (json_is_number(value) && json_is_number(sum))
            json_object_set_new(total, key, json_real(json_number_value(sum) + json_number_value(value)));
    }
}

void process_performance_add(json_t *total, const json_t *one)
{
    static const char *groups[] = {"cpu", "memory", "resource"};
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        add_numbers(json_object_get(total, groups[i]), json_object_get(one, groups[i]));
}
