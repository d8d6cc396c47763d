/* fake_latency: delays are drawn from a log-normal distribution, the usual
 * shape of network and service latency (a floor, a hump near the median, a
 * long right tail), fixed by its median and its 99th percentile so that a
 * benchmark can say "300 ms typical, 2 s worst" in the terms it measures. */
#include "fake_latency.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* The standard normal's 99th percentile: p99 = median * exp(Z99 * sigma). */
#define FAKE_LATENCY_Z99 2.3263478740408408

static const char *const own_prefixes[] = {"/fake/", "/internal/"};

static uint64_t latency_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed)
        return seed;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* splitmix64: tiny and good enough to spread test delays; not for secrets. */
static uint64_t latency_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1]: never 0, so that its logarithm is finite. */
static double latency_uniform(uint64_t *state)
{
    return (double)((latency_next(state) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

/* A standard normal sample (Box-Muller). */
static double latency_normal(uint64_t *state)
{
    double radius = sqrt(-2.0 * log(latency_uniform(state)));
    return radius * cos(2.0 * M_PI * latency_uniform(state));
}

static uint64_t latency_draw(const fake_delay *delay, uint64_t *state)
{
    if (delay->p99_ms <= delay->median_ms)
        return delay->median_ms;
    double sigma = log((double)delay->p99_ms / (double)delay->median_ms) / FAKE_LATENCY_Z99;
    double ms = (double)delay->median_ms * exp(sigma * latency_normal(state));
    return ms >= FAKE_LATENCY_MAX_MS ? FAKE_LATENCY_MAX_MS : (uint64_t)llround(ms);
}

void fake_latency_init(fake_latency *latency, fake_delay standing)
{
    memset(latency, 0, sizeof *latency);
    latency->standing = standing;
    latency->random_state = latency_seed();
}

void fake_latency_free(fake_latency *latency)
{
    free(latency->match);
    latency->match = NULL;
}

int fake_latency_set_rule(fake_latency *latency, fake_delay rule, const char *match, const char *method)
{
    char *copy = NULL;
    if (rule.median_ms > 0 && match && *match && !(copy = strdup(match)))
        return -1;
    free(latency->match);
    latency->match = copy;
    latency->rule = rule.median_ms > 0 ? rule : (fake_delay){0, 0};
    snprintf(latency->method, sizeof latency->method, "%s", rule.median_ms > 0 && method ? method : "");
    return 0;
}

static bool latency_own_route(const char *path)
{
    for (size_t i = 0; i < sizeof own_prefixes / sizeof own_prefixes[0]; i++)
        if (strncmp(path, own_prefixes[i], strlen(own_prefixes[i])) == 0)
            return true;
    return false;
}

uint64_t fake_latency_pick(fake_latency *latency, const char *method, const char *path)
{
    if (!path || latency_own_route(path))
        return 0;
    bool ruled = latency->rule.median_ms > 0 && (!latency->match || strstr(path, latency->match)) &&
                 (!latency->method[0] || (method && strcmp(method, latency->method) == 0));
    return latency_draw(ruled ? &latency->rule : &latency->standing, &latency->random_state);
}

static json_t *delay_describe(const fake_delay *delay)
{
    if (delay->median_ms == 0)
        return json_null();
    return json_pack("{s:I, s:I}", "ms", (json_int_t)delay->median_ms, "p99",
                     (json_int_t)(delay->p99_ms > delay->median_ms ? delay->p99_ms : delay->median_ms));
}

json_t *fake_latency_describe(const fake_latency *latency)
{
    json_t *rule = delay_describe(&latency->rule);
    if (json_is_object(rule) &&
        (json_object_set_new(rule, "match", latency->match ? json_string(latency->match) : json_null()) != 0 ||
         (latency->method[0] && json_object_set_new(rule, "method", json_string(latency->method)) != 0))) {
        json_decref(rule);
        rule = NULL;
    }
    /* "o" takes both references, also when one is NULL and packing fails. */
    return json_pack("{s:o, s:o}", "rule", rule, "standing", delay_describe(&latency->standing));
}
